"""Retention deletes recordings at Twilio (AD-5): against the simulator's REST API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import insert, select

from connector import db
from connector.console import retention, store
from connector.schema import audit_log, calls
from connector.voice import attach_simulator, recording_deletes, webhook_auth_token
from connector.voice.runtime import SIMULATOR_ACCOUNT_SID, TWILIO_API, get_runtime
from voice.simulator import Simulator, WSGITransport
from voice.simulator.recordings import Recording


class FlakyTwilio(requests.adapters.BaseAdapter):
    """The simulator's REST adapter, except that chosen SIDs answer ``status`` while listed."""

    def __init__(self, inner: requests.adapters.BaseAdapter) -> None:
        super().__init__()
        self.inner = inner
        self.failing: dict[str, int] = {}
        self.requests: list[tuple[str, str]] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        self.requests.append((request.method, request.path_url))
        for sid, status in self.failing.items():
            if sid in request.path_url:
                response = requests.Response()
                response.status_code = status
                response.raw = __import__("io").BytesIO(b'{"code": 20500}')
                response.request = request
                return response
        return self.inner.send(request, **kwargs)

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture
def world(app, clock):
    sim = Simulator(SIMULATOR_ACCOUNT_SID, webhook_auth_token(app),
                    WSGITransport(app, "https://cti.example.com"))
    attach_simulator(app, sim)
    flaky = FlakyTwilio(sim.requests_adapter())
    get_runtime(app).media.mount(TWILIO_API, flaky)
    with db.get_engine(app).begin() as conn:
        store.put(conn, "retention", {"log_days": 0, "call_days": 30, "recordings": "on"},
                  by=None, now=clock.current)
    return sim, flaky


def _call(app, clock, sid: str, age_days: int, recording: str | None) -> None:
    at = clock.current - timedelta(days=age_days)
    with db.get_engine(app).begin() as conn:
        conn.execute(insert(calls).values(call_sid=sid, direction="inbound", status="completed",
                                          started_at=at, created_at=at, updated_at=at,
                                          recording_sid=recording))


def _recording(sim: Simulator, sid: str, call_sid: str) -> None:
    sim.recordings[sid] = Recording(sid, call_sid, 5, 1, "RecordVerb")


def _rows(app) -> dict[str, str | None]:
    with db.get_engine(app).connect() as conn:
        return {r.call_sid: r.recording_sid for r in conn.execute(
            select(calls.c.call_sid, calls.c.recording_sid))}


def test_the_job_deletes_expired_recordings_at_the_simulator(app, clock, world):
    sim, flaky = world
    for n in range(3):
        _call(app, clock, f"CAold{n}", 40, f"REold{n}")
        _recording(sim, f"REold{n}", f"CAold{n}")
    _call(app, clock, "CAnew", 5, "REnew")
    _recording(sim, "REnew", "CAnew")
    _call(app, clock, "CAplain", 40, None)
    report = retention.purge(app, clock.current)
    assert report["recordings_deleted"] == 3 and report["recordings_failed"] == 0
    assert set(sim.recordings) == {"REnew"}  # gone at "Twilio"; the young one stays
    assert _rows(app) == {"CAnew": "REnew"}
    assert report["calls"] == 4
    deletes = [path for method, path in flaky.requests if method == "DELETE"]
    assert sorted(deletes) == [f"/2010-04-01/Accounts/{SIMULATOR_ACCOUNT_SID}/Recordings/"
                               f"REold{n}.json" for n in range(3)]


def test_a_recording_already_gone_counts_as_deleted(app, clock, world):
    _call(app, clock, "CAold", 40, "REmissing")  # the simulator never had it (404)
    report = retention.purge(app, clock.current)
    assert (report["recordings_deleted"], report["recordings_already_gone"],
            report["recordings_failed"]) == (1, 1, 0)
    assert _rows(app) == {}


def test_a_500_keeps_the_reference_and_the_next_run_retries(app, clock, world, monkeypatch):
    sim, flaky = world
    monkeypatch.setattr(recording_deletes.time, "sleep", lambda _s: None)
    for sid in ("A", "B"):
        _call(app, clock, f"CA{sid}", 40, f"RE{sid}")
        _recording(sim, f"RE{sid}", f"CA{sid}")
    flaky.failing["REB"] = 500
    first = retention.purge(app, clock.current)
    assert (first["recordings_deleted"], first["recordings_failed"]) == (1, 1)
    assert first["recordings_kept"] == 1
    # Tried ATTEMPTS times (5xx is retried), and the record still names its recording.
    assert sum(1 for m, p in flaky.requests if m == "DELETE" and "REB" in p) == \
        recording_deletes.ATTEMPTS
    assert _rows(app) == {"CAB": "REB"} and "REB" in sim.recordings
    flaky.failing.clear()
    second = retention.purge(app, clock.current)
    assert (second["recordings_deleted"], second["recordings_failed"]) == (1, 0)
    assert _rows(app) == {} and sim.recordings == {}
    with db.get_engine(app).connect() as conn:
        audits = [r.details for r in conn.execute(
            select(audit_log).where(audit_log.c.action == "retention.run").order_by(
                audit_log.c.id))]
    assert [(a["recordings_deleted"], a["recordings_failed"]) for a in audits] == [(1, 1),
                                                                                    (1, 0)]


def test_a_refusal_is_not_retried_and_twilio_down_stops_the_run(app, clock, world, monkeypatch):
    sim, flaky = world
    waits: list[float] = []
    monkeypatch.setattr(recording_deletes.time, "sleep", waits.append)
    _call(app, clock, "CAauth", 40, "REauth")
    flaky.failing["REauth"] = 403
    report = retention.purge(app, clock.current)
    assert report["recordings_failed"] == 1 and waits == []
    assert [m for m, p in flaky.requests if "REauth" in p] == ["DELETE"]
    flaky.requests.clear()
    for n in range(recording_deletes.GIVE_UP_AFTER + 3):
        _call(app, clock, f"CAd{n}", 35, f"REd{n}")
        flaky.failing[f"REd{n}"] = 503
    report = retention.purge(app, clock.current)
    tried = {p for m, p in flaky.requests if m == "DELETE"}
    # REauth (403) then 503s: five failures in a row, and the rest wait for the next run.
    assert len(tried) == recording_deletes.GIVE_UP_AFTER
    assert report["recordings_failed"] == recording_deletes.GIVE_UP_AFTER + 4
    assert len(_rows(app)) == recording_deletes.GIVE_UP_AFTER + 4
    assert all(0 <= w <= recording_deletes.BACKOFF_CAP for w in waits) and waits


def test_recordings_off_deletes_records_without_calling_twilio(app, clock, world):
    sim, flaky = world
    with db.get_engine(app).begin() as conn:
        store.put(conn, "retention", {"call_days": 30, "recordings": None}, by=None,
                  now=clock.current)
    _call(app, clock, "CAold", 40, "REold")
    _recording(sim, "REold", "CAold")
    report = retention.purge(app, clock.current)
    assert report["calls"] == 1 and report["recordings_deleted"] == 0
    assert flaky.requests == [] and "REold" in sim.recordings


def test_the_security_screen_runs_it_and_shows_the_counts(app, clock, world, console_user):
    sim, _ = world
    _call(app, clock, "CAold", 40, "REold")
    _recording(sim, "REold", "CAold")
    admin = console_user(app, "admin1", "admin")
    admin.get("/console/security")
    response = admin.post("/console/security/retention")
    assert response.status_code == 200
    assert "REold" not in sim.recordings
    page = response.get_data(as_text=True)
    assert 'id="retention-recordings"' in page and "削除件数 1" in page
