"""IP allowlists (AD-4), trusted proxy hops, the sign-in audit and retention (AD-5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from connector import db
from connector.console import ipallow, retention, store
from connector.schema import audit_log, call_events, calls
from connector.voice import recording_deletes
from tests.connector.test_auth import add_agent, bearer, login


def test_client_address_uses_forwarded_for_only_through_trusted_hops():
    trusted = ipallow.parse_networks(["10.0.0.0/8"], "trusted_proxies")
    assert ipallow.client_address("203.0.113.5", "198.51.100.1", trusted) == "203.0.113.5"
    assert ipallow.client_address("10.0.0.2", "198.51.100.1", trusted) == "198.51.100.1"
    # A client-forged left-most entry is ignored: the first untrusted from the right counts.
    assert ipallow.client_address("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.9",
                                  trusted) == "198.51.100.1"
    with pytest.raises(ValueError, match="entry 2 'nope'"):
        ipallow.parse_networks(["10.0.0.0/8", "nope"], "admin")


def _allow(app, admin_list, agent_list):
    with db.get_engine(app).begin() as conn:
        store.put(conn, "ip_allowlist", {"admin": admin_list, "agent": agent_list}, by=None,
                  now=__import__("datetime").datetime.now(__import__("datetime").UTC))
    app.extensions["cti.console.allowlist"].clear()


def test_an_address_outside_the_allowlist_is_refused(make_app, console_user):
    app = make_app(console={"trusted_proxies": ["127.0.0.1/32"]})
    admin = console_user(app, "admin1", "admin")
    add_agent(app, "agent1")
    agent_client = app.test_client()
    token = login(agent_client, "agent1").get_json()["access_token"]
    _allow(app, ["192.0.2.0/24"], ["198.51.100.0/24"])
    outside = {"X-Forwarded-For": "203.0.113.9"}
    assert admin.client.get("/console/users", headers=outside).status_code == 403
    assert admin.client.get("/console/users",
                            headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 200
    api = agent_client.get("/api/auth/me", headers={**bearer(token), **outside})
    assert api.status_code == 403 and api.get_json()["error"]["code"] == "ip_not_allowed"
    assert agent_client.get("/api/auth/me", headers={
        **bearer(token), "X-Forwarded-For": "198.51.100.3"}).status_code == 200
    refused = agent_client.post("/api/auth/login", json={"username": "agent1",
                                                         "password": "x"}, headers=outside)
    assert refused.status_code == 403


def test_forwarded_for_from_an_untrusted_peer_cannot_unlock_the_allowlist(app, console_user):
    admin = console_user(app, "admin1", "admin")
    _allow(app, ["192.0.2.0/24"], [])  # test clients come from 127.0.0.1, not trusted here
    assert admin.client.get("/console/users",
                            headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 403


def test_the_security_screen_validates_and_audits(app, console_user):
    admin = console_user(app, "admin1", "admin")
    bad = admin.post("/console/security", data={"admin": "10.0.0.0/8\nnot-an-ip",
                                                "agent": "", "log_days": "x"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "not-an-ip" in text
    good = admin.post("/console/security", data={"admin": "127.0.0.0/8", "agent": "",
                                                 "log_days": "90", "call_days": "0"})
    assert good.status_code == 302
    page = admin.get("/console/audit").get_data(as_text=True)
    assert "security.update" in page and "127.0.0.0/8" in page
    assert "sign_in" in page  # the admin's own sign-in


def test_every_sign_in_attempt_is_audited_with_its_address(app, console_user):
    add_agent(app, "agent1")
    client = app.test_client()
    login(client, "agent1", "wrong-password")
    login(client, "agent1")
    with db.get_engine(app).connect() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.id)).all()
    assert [(r.action, r.actor, r.ip) for r in rows] == [
        ("sign_in_failed", "agent1", "127.0.0.1"), ("sign_in", "agent1", "127.0.0.1")]
    assert "wrong-password" not in str([r.details for r in rows])


def test_retention_deletes_what_is_older_and_reports_it(app, clock):
    now = clock.current
    engine = db.get_engine(app)
    with engine.begin() as conn:
        store.put(conn, "retention", {"log_days": 30, "call_days": 365, "recordings": "on"},
                  by=None, now=now)
        for age, sid in ((400, "CAold"), (10, "CAnew")):
            at = now - timedelta(days=age)
            conn.execute(insert(calls).values(
                call_sid=sid, direction="inbound", status="completed", started_at=at,
                created_at=at, updated_at=at, recording_sid="RE" + sid))
            conn.execute(insert(call_events).values(
                call_sid=sid, kind="status", dedupe_key=sid, payload={}, received_at=at))
            conn.execute(insert(audit_log).values(at=at, action="x"))
        assert retention.expired_recordings(conn, now) == ["RECAold"]
        report = retention.run(conn, now, recordings=recording_deletes.Outcome(["RECAold"]))
    assert (report["audit_log"], report["call_events"], report["calls"]) == (1, 1, 1)
    assert report["recordings_deleted"] == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(calls)).scalar_one() == 1
        logged = conn.execute(select(audit_log).where(
            audit_log.c.action == "retention.run")).one()
    assert logged.details["calls"] == 1


def test_the_maintenance_round_runs_retention_once_per_interval(app, clock):
    from connector import maintenance, queue

    with db.get_engine(app).begin() as conn:
        store.put(conn, "retention", {"log_days": 1}, by=None, now=clock.current)
        conn.execute(insert(audit_log).values(at=clock.current - timedelta(days=3), action="x"))
    first = maintenance.run_once(app, lock_seconds=1)
    assert first["retention"]["audit_log"] == 1
    queue.get_redis(app).delete("cti:maintenance:lock")
    assert maintenance.run_once(app, lock_seconds=1)["retention"] is None
