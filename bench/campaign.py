"""Campaign dialing-decision benchmark: the cost per call of a progressive pacing round.

One round is what ``connector.campaigns.dialer.tick_campaign`` decides for a campaign: read
the assigned agents' live state (one Redis pipeline), select the due contacts they may take
(one indexed query, ``ix_campaign_contacts_due``), pair them (:func:`voice.campaigns.dialing.
assign`), then for each pair claim the agent atomically (the board's Lua script) and take
the contact (a conditional UPDATE). The REST request to Twilio is not part of the decision.

Measured for 100 agents and 100,000 contacts (SQLite file, like a single-machine install),
against the same decision for 1 agent and 1,000 contacts in the same run, and against a
naive decision that loads every waiting contact and picks in Python. Prints the cost per call
(p50/p99 over rounds) and the ratios; the target is ≤ 5 ms per call. Claims are released
after each round, so every round sees every agent free; contacts taken stay taken.

    .venv/bin/python bench/campaign.py                      # Redis at 127.0.0.1:6379/14
    .venv/bin/python bench/campaign.py --agents 100 --contacts 100000 --rounds 30
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402
from sqlalchemy import Connection, create_engine, insert, select  # noqa: E402

from connector.acd.board import AgentBoard, Snapshot  # noqa: E402
from connector.campaigns import store  # noqa: E402
from connector.schema import campaign_contacts, campaigns, metadata  # noqa: E402
from voice.campaigns import dialing  # noqa: E402
from voice.campaigns.dialing import Candidate  # noqa: E402

NOW = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


def fill(conn: Connection, campaign_id: int, contacts: int) -> None:
    conn.execute(insert(campaigns).values(id=campaign_id, name=f"bench {campaign_id}",
                                          status="running", settings={}, created_at=NOW,
                                          updated_at=NOW))
    batch = []
    for n in range(contacts):
        # A realistic list: most due now, some later (retries), a few recalls of agent 1.
        due = NOW - timedelta(seconds=n % 600) if n % 5 else NOW + timedelta(hours=1)
        recall = n % 97 == 0
        batch.append({"campaign_id": campaign_id, "e164": f"+8190{campaign_id:02d}{n:06d}",
                      "state": "pending", "attempts": 0, "due_at": due, "updated_at": NOW,
                      "owner_agent_id": 1 if recall else None,
                      "recall_at": due if recall else None})
        if len(batch) == 5000:
            conn.execute(insert(campaign_contacts), batch)
            batch = []
    if batch:
        conn.execute(insert(campaign_contacts), batch)


def indexed_round(conn: Connection, board: AgentBoard, campaign_id: int, members: list[int],
                  round_no: int) -> int:
    now_ms = int(NOW.timestamp() * 1000)
    free = [a.agent_id for a in board.live(members, now_ms) if a.free]
    count = dialing.calls_to_place(len(free), 0, 0)
    rows = store.due_contacts(conn, campaign_id, free, NOW, limit=count + len(free))
    candidates = [Candidate(r.id, NOW, r.owner_agent_id, r.recall_at is not None) for r in rows]
    placed = 0
    for agent_id, candidate in dialing.assign(candidates, free, NOW)[:count]:
        call = f"CM{round_no:08d}{agent_id:024d}"
        if board.claim(call, [agent_id], max_agents=1, ttl_ms=60_000, now_ms=now_ms):
            placed += store.take(conn, candidate.contact_id, "dialing", agent_id, NOW)
    return placed


def naive_round(conn: Connection, board: AgentBoard, campaign_id: int, members: list[int],
                round_no: int) -> int:
    """The same decision without the index: every waiting contact loaded, picked in Python."""
    now_ms = int(NOW.timestamp() * 1000)
    free = [a.agent_id for a in board.live(members, now_ms) if a.free]
    c = campaign_contacts.c
    waiting = [Candidate(r.id, r.due_at, r.owner_agent_id, r.recall_at is not None)
               for r in conn.execute(select(c.id, c.due_at, c.owner_agent_id, c.recall_at).where(
                   c.campaign_id == campaign_id, c.state == "pending"))]
    placed, taken = 0, set()
    for agent_id in free:
        chosen = dialing.pick((w for w in waiting if w.contact_id not in taken), agent_id, NOW)
        if chosen is None:
            continue
        taken.add(chosen.contact_id)
        call = f"CN{round_no:08d}{agent_id:024d}"
        if board.claim(call, [agent_id], max_agents=1, ttl_ms=60_000, now_ms=now_ms):
            placed += store.take(conn, chosen.contact_id, "dialing", agent_id, NOW)
    return placed


def measure(engine, board: AgentBoard, campaign_id: int, members: list[int], rounds: int,
            decide: Callable[..., int]) -> list[float]:
    """Milliseconds per call placed, one figure per round."""
    per_call = []
    now_ms = int(NOW.timestamp() * 1000)
    for round_no in range(rounds):
        with engine.begin() as conn:
            start = time.perf_counter()
            placed = decide(conn, board, campaign_id, members, round_no)
            took = (time.perf_counter() - start) * 1000
        per_call.append(took / max(placed, 1))
        for agent in board.live(members, now_ms):  # free everyone for the next round
            if agent.call_sid:
                board.release(agent.agent_id, agent.call_sid, status="available",
                              now_ms=now_ms)
    return per_call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--naive-rounds", type=int, default=3)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis)
    board = AgentBoard(client, prefix="cti:acd:bench-campaign:")
    board.forget()
    board.load(Snapshot(a, "available", None, "", 0, "available", 0, None)
               for a in range(1, args.agents + 1))
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/bench.db")
        metadata.create_all(engine)
        loading = time.perf_counter()
        with engine.begin() as conn:
            fill(conn, 1, args.contacts)
            fill(conn, 2, 1000)
            fill(conn, 3, args.contacts)
        loaded = time.perf_counter() - loading
        members = list(range(1, args.agents + 1))
        measure(engine, board, 1, members, 2, indexed_round)  # warm up
        big = measure(engine, board, 1, members, args.rounds, indexed_round)
        small = measure(engine, board, 2, [1], args.rounds, indexed_round)
        naive = measure(engine, board, 3, members, args.naive_rounds, naive_round)
        engine.dispose()
    board.forget()
    client.close()

    def p99(values: list[float]) -> float:
        return max(values) if len(values) < 100 else statistics.quantiles(values, n=100)[98]

    print(f"loaded {args.contacts:,} contacts (twice) and 1,000 in {loaded:.1f} s; "
          f"{args.agents} agents free each round, {args.rounds} rounds")
    print(f"{args.agents} agents, {args.contacts:,} contacts: per call p50 "
          f"{statistics.median(big):.3f} ms, p99 {p99(big):.3f} ms (target ≤ 5 ms)")
    print(f"baseline 1 agent, 1,000 contacts: per call p50 {statistics.median(small):.3f} ms, "
          f"p99 {p99(small):.3f} ms")
    print(f"naive (load every waiting contact), {args.agents} agents: per call p50 "
          f"{statistics.median(naive):.3f} ms")
    print(f"ratio p50 ({args.agents} agents / 1 agent): "
          f"{statistics.median(big) / statistics.median(small):.2f}; "
          f"naive / indexed: {statistics.median(naive) / statistics.median(big):.1f}")


if __name__ == "__main__":
    main()
