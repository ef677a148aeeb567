"""The real-time board's data (ST-2) and supervisors changing an agent's status from it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from connector import db, presence
from connector.schema import agent_group_members, agent_groups, audit_log, calls


def _today(app, clock, agents):
    now = clock.current
    with db.get_engine(app).begin() as conn:
        gid = conn.execute(insert(agent_groups).values(
            name="sales", display_name="営業", created_at=now,
            updated_at=now)).inserted_primary_key[0]
        for position, agent in enumerate(agents):
            conn.execute(insert(agent_group_members).values(group_id=gid, agent_id=agent.id,
                                                            position=position))
        rows = []
        for n, outcome in enumerate(["answered", "answered", "missed", "overflow", ""]):
            start = now - timedelta(minutes=50 - n * 10)
            done = outcome != ""
            rows.append({"call_sid": f"CA{n}", "direction": "inbound", "leg": "customer",
                         "status": "completed" if done else "in-progress",
                         "customer_number": "+819012345678", "our_number": "+81312345678",
                         "group_id": gid, "outcome": outcome, "started_at": start,
                         "answered_at": start + timedelta(seconds=4) if outcome == "answered"
                         else None, "ended_at": start + timedelta(minutes=1) if done else None,
                         "agent_id": agents[n % len(agents)].id if outcome == "answered" else None,
                         "created_at": start, "updated_at": start})
        conn.execute(insert(calls), rows)
        presence.set_status(conn, agents[0].id, "on_call", now=now - timedelta(seconds=90))
        presence.set_status(conn, agents[-1].id, "available", now=now)
    return gid


def test_board_figures_per_group_and_overall(app, clock, console_user, sign_in):
    a1 = sign_in(app, "agent1").agent
    a2 = sign_in(app, "agent2").agent
    a3 = sign_in(app, "agent3").agent
    gid = _today(app, clock, [a1, a2, a3])
    with db.get_engine(app).begin() as conn:  # a3 was set available by _today; a2 too
        presence.set_status(conn, a2.id, "available", now=clock.current)
        presence.set_status(conn, a3.id, "offline", now=clock.current)
    sv = console_user(app, "sv1", "supervisor")
    data = sv.get("/console/api/board?hours=3").get_json()
    overall, group = data["groups"]
    assert group["id"] == gid and group["name"] == "営業"
    for figures in (overall, group):
        assert (figures["calls"], figures["answered"], figures["abandoned"],
                figures["overflow"]) == (5, 2, 1, 1)
        assert figures["answer_rate"] == 40.0
        assert figures["waiting"] == 1
    assert (group["agents_total"], group["agents_online"], group["on_call"],
            group["available"]) == (3, 2, 1, 1)
    by_name = {a["username"]: a for a in data["agents"]}
    assert by_name["agent1"]["status"] == "on_call" and by_name["agent1"]["seconds"] == 90
    assert by_name["agent1"]["today_calls"] == 1 and by_name["agent2"]["today_calls"] == 1
    assert by_name["agent3"]["today_calls"] == 0
    assert data["waiting"][0]["seconds"] == 10 * 60
    assert "9012345678" not in str(data["waiting"])  # masked on the wallboard
    chart = data["chart"]
    assert len(chart) == 3 * 12 + 1
    assert sum(p["calls"] for p in chart) == 5 and sum(p["answered"] for p in chart) == 2


def test_a_call_answered_and_still_on_counts_as_answered(app, clock, console_user, sign_in):
    a1 = sign_in(app, "agent1").agent
    gid = _today(app, clock, [a1])
    start = clock.current - timedelta(minutes=2)
    with db.get_engine(app).begin() as conn:
        conn.execute(insert(calls).values(
            call_sid="CAlive", direction="inbound", leg="customer", status="in-progress",
            customer_number="+819012345679", our_number="+81312345678", group_id=gid,
            outcome="", started_at=start, answered_at=start + timedelta(seconds=6),
            agent_id=a1.id, created_at=start, updated_at=start))
    data = console_user(app, "sv1", "supervisor").get("/console/api/board?hours=3").get_json()
    overall, group = data["groups"]
    for figures in (overall, group):
        assert (figures["calls"], figures["answered"], figures["abandoned"]) == (6, 3, 1)
        assert figures["answer_rate"] == 50.0
        assert figures["waiting"] == 1  # the unanswered one only
    assert sum(p["answered"] for p in data["chart"]) == 3


def test_snapshots_are_shared_through_redis_for_the_refresh_interval(app, clock, console_user,
                                                                     sign_in):
    a1 = sign_in(app, "agent1").agent
    _today(app, clock, [a1])
    sv = console_user(app, "sv1", "supervisor")
    first = sv.get("/console/api/board").get_json()
    with db.get_engine(app).begin() as conn:
        conn.execute(calls.delete())
    assert sv.get("/console/api/board").get_json()["groups"][0]["calls"] == first[
        "groups"][0]["calls"]  # the cached snapshot
    from connector import queue

    queue.get_redis(app).delete(f"cti:console:board:{queue.deployment_id(app)}:3")
    assert sv.get("/console/api/board").get_json()["groups"][0]["calls"] == 0


def test_a_supervisor_changes_an_agents_status(app, clock, console_user, sign_in):
    agent = sign_in(app, "agent1").agent
    sv = console_user(app, "sv1", "supervisor")
    sv.get("/console/api/board")  # a cached snapshot, which the change must replace
    answer = sv.post(f"/console/api/agents/{agent.id}/status", json={"status": "paused"})
    assert answer.status_code == 200, answer.get_json()
    with db.get_engine(app).connect() as conn:
        now = presence.get(conn, agent.id)
        entry = conn.execute(select(audit_log).where(
            audit_log.c.action == "presence.change")).one()
    assert now.status == "paused" and now.updated_by == sv.agent.id
    assert entry.actor == "sv1" and entry.details["to"] == "paused"
    board = sv.get("/console/api/board").get_json()
    assert {a["username"]: a["status"] for a in board["agents"]}["agent1"] == "paused"
    bad = sv.post(f"/console/api/agents/{agent.id}/status", json={"status": "dancing"})
    assert bad.status_code == 422 and "status" in bad.get_json()["error"]["details"]["fields"]
    assert sv.post(f"/console/api/agents/{agent.id}/status", json={"status": "available"},
                   csrf=False).status_code == 403
