"""Exactly one agent per call and one call per agent, under concurrency (real Redis, and
PostgreSQL / SQLite as the record): 50 callers race for 10 agents through two app instances."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from connector import clock, db
from connector.acd import get_acd, presence_ops
from connector.acd import groups as acd_groups
from connector.acd import route as acd_route
from connector.schema import agent_presence, agent_status_intervals
from connector.voice import groups
from tests.connector.test_auth import add_agent

AGENTS, CALLERS = 10, 50


def _setup(app, strategy: str) -> list[int]:
    ids = [add_agent(app, username=f"agent{i}").id for i in range(AGENTS)]
    with db.get_engine(app).begin() as conn:
        groups.save_group(conn, "support", members=[f"agent{i}" for i in range(AGENTS)],
                          now=clock.now(app))
        acd_groups.configure(conn, "support", settings={"strategy": strategy})
    with app.app_context(), db.get_engine(app).begin() as conn:
        for agent_id in ids:
            presence_ops.choose(conn, get_acd().board, agent_id, "available", now=clock.now())
    return ids


def _race(apps, callers: int) -> dict[str, list[int]]:
    results: dict[str, list[int]] = {}
    with db.get_engine(apps[0]).connect() as conn:
        group = groups.get_group(conn, "support")
    start = threading.Barrier(callers)
    errors: list[BaseException] = []

    def caller(n: int) -> None:
        app = apps[n % len(apps)]
        sid = f"CA{n:032d}"
        try:
            with app.app_context():
                start.wait()
                for attempt in range(20):  # SQLite: one writer at a time
                    try:
                        with db.get_engine().begin() as conn:
                            results[sid] = acd_route.choose_agents(conn, group, sid)
                        break
                    except Exception as exc:  # noqa: BLE001 - retried: database is locked
                        if "locked" not in str(exc) or attempt == 19:
                            raise
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.parametrize("strategy", ["longest_idle", "ring_all"])
def test_fifty_callers_race_for_ten_agents(make_app, database_url, redis_url, strategy):
    apps = [make_app(database_url=database_url, redis_url=redis_url) for _ in range(2)]
    ids = _setup(apps[0], strategy)
    results = _race(apps, CALLERS)
    assert len(results) == CALLERS
    claims = Counter(agent for agents in results.values() for agent in agents)
    # Every agent rings for exactly one caller; no agent twice.
    assert sorted(claims) == sorted(ids) and set(claims.values()) == {1}
    served = {sid: agents for sid, agents in results.items() if agents}
    if strategy == "longest_idle":
        assert len(served) == AGENTS and all(len(a) == 1 for a in served.values())
    # The record agrees with the board: each agent ringing for the call that claimed them.
    owner = {agent: sid for sid, agents in served.items() for agent in agents}
    with db.get_engine(apps[0]).connect() as conn:
        rows = {r.agent_id: r for r in conn.execute(select(agent_presence))}
        for agent_id in ids:
            assert (rows[agent_id].status, rows[agent_id].call_sid) == ("ringing",
                                                                        owner[agent_id])
        ringing = conn.execute(select(agent_status_intervals).where(
            agent_status_intervals.c.status == "ringing")).all()
    assert len(ringing) == AGENTS
    with apps[1].app_context():
        board = get_acd().board
        for sid, agents in served.items():
            assert board.claimed_for(sid) == sorted(agents)


def test_a_retried_webhook_gets_the_same_agent_and_late_callbacks_free_nobody(
        make_app, redis_url):
    app = make_app(redis_url=redis_url)
    ids = _setup(app, "longest_idle")
    with app.app_context(), db.get_engine().begin() as conn:
        group = groups.get_group(conn, "support")
        first = acd_route.choose_agents(conn, group, "CA1")
        assert acd_route.choose_agents(conn, group, "CA1") == first
        board = get_acd().board
        # A callback of another call must not free the agent ringing for CA1.
        assert not presence_ops.rang_out(conn, board, first[0], "CA-other", now=clock.now(),
                                         settings=None)
        assert board.live(first, presence_ops.ms(clock.now()))[0].status == "ringing"
        assert presence_ops.answered(conn, board, first[0], "CA1", now=clock.now())
        others = acd_route.choose_agents(conn, group, "CA2")
        assert others and others[0] != first[0] and others[0] in ids


def test_waiting_callers_race_for_agents_freed_at_once(make_app, database_url, redis_url):
    """50 waiting callers, 10 agents free at once, 20 dispatches from two app instances while
    5 callers hang up: one caller per agent, one offer per caller, nobody rung for a caller
    who had gone."""
    from connector.acd import queueing

    apps = [make_app(database_url=database_url, redis_url=redis_url) for _ in range(2)]
    ids = _setup(apps[0], "longest_idle")
    with apps[0].app_context(), db.get_engine().connect() as conn:
        group = groups.get_group(conn, "support")
        queues = get_acd().queues
        for n in range(CALLERS):
            assert queues.join(f"CA{n:032d}", group.id, now_ms=1_000 + n, max_waiting=100,
                               number="+81312345678", step="route") == n + 1
    offers: dict[str, list[int]] = {}
    left: dict[str, str] = {}
    start = threading.Barrier(25)
    errors: list[BaseException] = []

    def dispatcher(n: int) -> None:
        try:
            with apps[n % 2].app_context():
                start.wait()
                for attempt in range(20):  # SQLite: one writer at a time
                    try:
                        with db.get_engine().begin() as conn:
                            found = queueing.dispatch(conn, group)
                        break
                    except Exception as exc:  # noqa: BLE001 - retried: database is locked
                        if "locked" not in str(exc) or attempt == 19:
                            raise
                for sid, agents in found.items():
                    assert sid not in offers, f"{sid} offered twice"
                    offers[sid] = agents
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def hang_up(n: int) -> None:
        sid = f"CA{n:032d}"
        try:
            with apps[n % 2].app_context():
                start.wait()
                left[sid] = get_acd().queues.leave(sid, group.id, "gone", "hangup")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher, args=(n,)) for n in range(20)]
    threads += [threading.Thread(target=hang_up, args=(n,)) for n in range(0, 10, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    claims = Counter(agent for agents in offers.values() for agent in agents)
    assert sorted(claims) == sorted(ids) and set(claims.values()) == {1}
    assert all(len(agents) == 1 for agents in offers.values())
    for sid, before in left.items():  # gone while waiting: never offered
        assert (sid in offers) == (before == "offered")
    with apps[1].app_context():
        acd = get_acd()
        for sid, agents in offers.items():
            assert acd.board.claimed_for(sid) == agents
        waiting = acd.queues.size(group.id)
    gone_waiting = sum(1 for before in left.values() if before == "waiting")
    assert waiting == CALLERS - len(offers) - gone_waiting


def test_a_claim_moves_to_the_real_call_only_while_it_holds(make_app, redis_url):
    """A campaign reserves an agent under a placeholder, then moves the claim to the call
    Twilio created; a claim already given up (or another call's) does not move."""
    app = make_app(redis_url=redis_url)
    _setup(app, "longest_idle")
    with app.app_context(), db.get_engine().begin() as conn:
        group = groups.get_group(conn, "support")
        (agent,) = acd_route.choose_agents(conn, group, "PLACEHOLDER1")
        board = get_acd().board
        assert board.rekey(agent, "PLACEHOLDER1", "CA-real", 60_000)
        assert board.claimed_for("CA-real") == [agent]
        assert board.claimed_for("PLACEHOLDER1") == []
        assert board.live([agent], presence_ops.ms(clock.now()))[0].call_sid == "CA-real"
        assert not board.rekey(agent, "PLACEHOLDER1", "CA-again", 60_000)  # moved already
        assert board.claimed_for("CA-again") == []
