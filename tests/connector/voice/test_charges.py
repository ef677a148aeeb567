"""ST-6: the charges job reads each leg's price from the (simulated) Twilio Call resource."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select
from twilio.http.response import Response
from twilio.rest import Client

from connector import db, queue
from connector.schema import calls
from connector.voice import charges, webhook_auth_token
from voice.simulator import Tariff, answers

from .conftest import CALLER, NUMBER, make_env

RATES = {"inbound": Decimal("0.0100"), "client": Decimal("0.0040"),
         "jp_mobile": Decimal("0.1500"), "jp_landline": Decimal("0.0650"),
         "international": Decimal("0.2000")}


@pytest.fixture
def env(tmp_path, sqlite_url, redis_url):
    voice_env = make_env(tmp_path, sqlite_url, queue={"redis_url": redis_url})
    voice_env.sim.tariff = Tariff(rates=RATES, unit="USD", delay_seconds=300)
    yield voice_env
    db.get_engine(voice_env.app).dispose()


def _answered_call(env, talk: int = 60) -> str:
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato")
    env.sim.on_client("sato", answers(after=4, hangup_after=talk))
    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()
    return call.call_sid


def _rows(env, call_sid: str) -> dict[str, dict]:
    with db.get_engine(env.app).connect() as conn:
        return {r.call_sid: dict(r._mapping) for r in conn.execute(select(calls).where(
            (calls.c.call_sid == call_sid) | (calls.c.parent_call_sid == call_sid)))}


def _expected(env, call_sid: str) -> dict[str, int]:
    """Millionths per leg, from the simulator's own legs and the tariff (not from the app)."""
    out = {}
    for sid, leg in env.sim.legs.items():
        if sid == call_sid or (leg.parent is not None and leg.parent.sid == call_sid):
            kind = "client" if leg.to.startswith("client:") else "inbound"
            out[sid] = int(RATES[kind] * math.ceil(leg.duration / 60) * 1_000_000)
    return out


def _job(env, call_sid: str) -> dict:
    with env.app.app_context():
        return charges.fetch_job(call_sid)


def _scheduled(env) -> list[str]:
    return queue.get_queue(charges.QUEUE, env.app).scheduled_job_registry.get_job_ids()


def test_price_null_at_first_then_filled_and_idempotent(env):
    call_sid = _answered_call(env)
    assert env.handoffs.charges == [call_sid]  # the status webhook handed the call over
    first = _job(env, call_sid)
    assert (first["priced"], first["pending"]) == (0, 2)  # Twilio has no price yet
    assert first["next_check_seconds"] == charges.MIN_RECHECK.total_seconds()
    assert len(_scheduled(env)) == 1
    rows = _rows(env, call_sid)
    assert all(r["price_status"] == "" and r["price_checked_at"] is not None
               for r in rows.values())

    env.sim.run(until=env.sim.now() + 301)
    second = _job(env, call_sid)
    assert (second["priced"], second["pending"]) == (2, 0)
    assert len(_scheduled(env)) == 1  # nothing more queued
    rows = _rows(env, call_sid)
    expected = _expected(env, call_sid)
    assert {sid: r["charge_micros"] for sid, r in rows.items()} == expected
    assert all(r["price_unit"] == "USD" and r["price_status"] == "priced"
               and Decimal(r["price"]) * -1_000_000 == r["charge_micros"]
               for r in rows.values())

    env.sim.tariff = Tariff(rates={k: v * 10 for k, v in RATES.items()}, delay_seconds=0)
    again = _job(env, call_sid)
    assert (again["priced"], again["pending"]) == (0, 0)
    assert {sid: r["charge_micros"] for sid, r in _rows(env, call_sid).items()} == expected


class FailingTwilio:
    """The simulator's REST API, answering 503 to call fetches while ``failing``."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.failing = True
        self.requests = 0

    def request(self, method, uri, **kwargs):  # type: ignore[no-untyped-def]
        self.requests += 1
        if self.failing and "/Calls/" in uri:
            return Response(503, '{"code": 20503, "message": "Service unavailable"}')
        return self.inner.request(method, uri, **kwargs)

    def __getattr__(self, name):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


def test_a_failure_is_checked_again_later(env, monkeypatch):
    call_sid = _answered_call(env)
    env.sim.run(until=env.sim.now() + 301)
    http = FailingTwilio(env.sim.http_client())
    client = Client(env.sim.account_sid, webhook_auth_token(env.app), http_client=http)
    monkeypatch.setattr(charges, "rest_client", lambda app=None: client)
    failed = _job(env, call_sid)
    assert (failed["priced"], failed["pending"], failed["errors"]) == (0, 2, 2)
    assert http.requests == 2 and len(_scheduled(env)) == 1
    assert {r["price_status"] for r in _rows(env, call_sid).values()} == {""}
    http.failing = False
    done = _job(env, call_sid)
    assert (done["priced"], done["pending"]) == (2, 0)
    assert {sid: r["charge_micros"] for sid, r in _rows(env, call_sid).items()} == \
        _expected(env, call_sid)


def test_no_price_within_the_bound_is_marked_unpriced(env):
    env.sim.tariff = Tariff(rates=RATES, delay_seconds=10 ** 9)  # never rated
    call_sid = _answered_call(env)
    assert _job(env, call_sid)["pending"] == 2
    env.sim.run(until=env.sim.now() + charges.GIVE_UP_AFTER.total_seconds() + 60)
    result = _job(env, call_sid)
    assert result["unpriced"] == 2 and "next_check_seconds" not in result
    assert {r["price_status"] for r in _rows(env, call_sid).values()} == {"unpriced"}
    assert _job(env, call_sid)["pending"] == 0  # finished with: no more Twilio requests


def test_a_call_twilio_does_not_know_is_missing_and_the_sweep_requeues(env):
    now = env.now
    ended = now - timedelta(minutes=30)
    with db.get_engine(env.app).begin() as conn:
        conn.execute(insert(calls).values(
            call_sid="CA" + "1" * 32, direction="inbound", status="completed",
            started_at=ended - timedelta(minutes=1), ended_at=ended, created_at=ended,
            updated_at=ended))
    assert charges.sweep(env.app) == 1 and len(_scheduled(env)) == 1
    result = _job(env, "CA" + "1" * 32)
    assert result["missing"] == 1
    assert _rows(env, "CA" + "1" * 32)["CA" + "1" * 32]["price_status"] == "missing"
    assert charges.sweep(env.app) == 0  # nothing unpriced is left


def test_the_sweep_leaves_recently_checked_calls_to_their_job(env):
    call_sid = _answered_call(env)
    env.sim.run(until=env.sim.now() + 20 * 60)  # past the sweep's grace, price filled
    assert charges.sweep(env.app) == 1  # the hand-off's job may have been lost
    _job(env, call_sid)
    assert charges.sweep(env.app) == 0
    assert {r["price_status"] for r in _rows(env, call_sid).values()} == {"priced"}


def test_charge_micros_of_twilio_prices():
    assert charges.charge_micros("-0.01300") == 13000
    assert charges.charge_micros("-1.5") == 1_500_000
    assert charges.charge_micros("0") == 0


def test_a_worker_in_simulator_mode_asks_its_own_simulator(make_app, clock):
    """``cti worker`` in simulated mode: no simulator attached yet; the job builds simulated
    mode's, which never saw the server's calls, so the leg is missing (not retried for 48 h)."""
    app = make_app()
    assert "cti.simulator" not in app.extensions
    with db.get_engine(app).begin() as conn:
        conn.execute(insert(calls).values(
            call_sid="CA" + "2" * 32, direction="inbound", status="completed",
            started_at=clock.current, ended_at=clock.current, created_at=clock.current,
            updated_at=clock.current))
    try:
        result = charges.fetch(app, "CA" + "2" * 32, clock.current)
        assert result.missing == ["CA" + "2" * 32] and not result.pending
        assert "cti.simulator" in app.extensions
    finally:
        app.extensions["cti.simulated_mode"].stop()
