"""A connector app wired to the Twilio simulator, in one shared virtual time.

The app's clock follows the simulator's (simulated wall time), so the times and durations
on call records are what a real call of that shape would give.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from connector import clock as clock_ext
from connector import create_app, db, presence
from connector.auth import accounts
from connector.voice import attach_simulator, numbers, webhook_auth_token
from connector.voice import calls as call_store
from connector.voice.numbers import NumberChanges, Route
from connector.voice.runtime import SIMULATOR_ACCOUNT_SID
from crm_adapters.base import Customer
from tests.conftest import app_config
from voice.simulator import Simulator, WSGITransport

BASE = "https://cti.example.com"  # the tests' public_base_url
HOOKS = f"{BASE}/twilio/voice"
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)  # 09:00 JST
PASSWORD = "Correct-horse-42"
NUMBER = "+815012345678"  # our 050 number
MAIN = "+81312345678"  # our 03 number
CALLER = "+819012345678"


class Handoffs:
    """Plays the write-back pipeline (``app.extensions["cti.writeback"]``): records hand-offs."""

    def __init__(self) -> None:
        self.calls: list[str] = []  # final calls handed off
        self.updates: list[str] = []  # final calls whose log changed afterwards
        self.charges: list[str] = []  # final calls handed to the charges job (ST-6)

    def call_finished(self, call_sid: str) -> None:
        self.calls.append(call_sid)

    def call_updated(self, call_sid: str) -> None:
        self.updates.append(call_sid)


@dataclass
class FakeCRM:
    """Plays the CRM layer behind ``connector.crm.caller_lookup``."""

    known: dict[str, list[Customer]] = field(default_factory=dict)
    budgets: list[float] = field(default_factory=list)
    #: name -> adapter, as ``CRMLayer.adapters`` (a test puts a real adapter on a fake here)
    adapters: dict[str, Any] = field(default_factory=dict)

    def caller_lookup(self, e164: str, *, budget: float) -> list[Customer]:
        self.budgets.append(budget)
        return self.known.get(e164, [])


@dataclass
class VoiceEnv:
    app: Any
    sim: Simulator
    handoffs: Handoffs
    crm: FakeCRM

    @property
    def now(self) -> datetime:
        return clock_ext.now(self.app)

    def add_agent(self, username: str, *, available: bool = True, role: str = "agent",
                  caller_ids: tuple[str, ...] = ()) -> accounts.Agent:
        with db.get_engine(self.app).begin() as conn:
            agent = accounts.create_agent(
                conn, username=username, display_name=f"{username} さん", password=PASSWORD,
                policy=self.app.config["CTI_SETTINGS"].auth, now=self.now, role=role)
            if available:
                presence.set_status(conn, agent.id, "available", now=self.now)
            for index, e164 in enumerate(caller_ids):
                numbers.grant_caller_id(conn, username, e164, default=index == 0)
        return agent

    def set_presence(self, username: str, status: str) -> None:
        with db.get_engine(self.app).begin() as conn:
            agent = accounts.find_agent(conn, username)
            presence.set_status(conn, agent.id, status, now=self.now)

    def add_number(self, e164: str, route: str = "none", fallback: str = "none", *,
                   label: str = "代表", recording: bool = False, **changes: Any) -> None:
        with db.get_engine(self.app).begin() as conn:
            numbers.save_number(conn, e164, NumberChanges(
                label=label, route=Route.parse(route), fallback=Route.parse(fallback),
                recording=recording, **changes), now=self.now)
        self.sim.add_number(e164, f"{HOOKS}/inbound", status_callback=f"{HOOKS}/status")

    def record(self, call_sid: str) -> dict[str, Any]:
        with db.get_engine(self.app).connect() as conn:
            row = call_store.get_row(conn, call_sid)
        assert row is not None, f"no call record {call_sid}"
        return dict(row)

    def legs(self, call_sid: str) -> list[dict[str, Any]]:
        with db.get_engine(self.app).connect() as conn:
            return [dict(r) for r in call_store.child_rows(conn, call_sid)]

    def login(self, username: str) -> dict[str, str]:
        response = self.app.test_client().post(
            "/api/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def make_env(tmp_path, database_url: str, **sections: Any) -> VoiceEnv:
    holder: dict[str, Simulator] = {}

    def sim_clock() -> datetime:
        sim = holder.get("sim")
        return sim.wall_time(sim.now()) if sim else START

    app = create_app(app_config(tmp_path, database_url, **sections), clock=sim_clock)
    sim = Simulator(SIMULATOR_ACCOUNT_SID, webhook_auth_token(app), WSGITransport(app, BASE),
                    start_time=START)
    holder["sim"] = sim
    attach_simulator(app, sim)
    sim.set_twiml_app(f"{HOOKS}/outbound", status_callback=f"{HOOKS}/status")
    handoffs, crm = Handoffs(), FakeCRM()
    app.extensions["cti.writeback"] = handoffs
    app.extensions["cti.charges"] = handoffs.charges.append
    app.extensions["cti.crm"] = crm
    return VoiceEnv(app, sim, handoffs, crm)


@pytest.fixture
def env(tmp_path, sqlite_url) -> Iterator[VoiceEnv]:
    voice_env = make_env(tmp_path, sqlite_url)
    yield voice_env
    db.get_engine(voice_env.app).dispose()


@pytest.fixture
def any_db_env(tmp_path, database_url) -> Iterator[VoiceEnv]:
    """The same, on SQLite and (in a second run) PostgreSQL."""
    voice_env = make_env(tmp_path, database_url)
    yield voice_env
    db.get_engine(voice_env.app).dispose()
