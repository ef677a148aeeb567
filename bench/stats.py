"""Statistics benchmark: a year of call records, then time a month's reports (SPEC ST-3, ST-5).

Loads N call records (default 1,000,000 over the 12 months of 2026, 100 agents, 10 groups,
20 numbers) into a fresh database migrated to the current schema, then times each report of
the console for one month (October) — per group by day, by hour and by agent, and per number —
the way the statistics pages run them. Prints each time and its ratio to the 1 s target.

    .venv/bin/python bench/stats.py                       # 1,000,000 calls, SQLite
    .venv/bin/python bench/stats.py --database postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/stats.py --calls 20000         # a quick run

On PostgreSQL the records go into a schema of their own (dropped afterwards).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from connector import db  # noqa: E402
from connector.console import stats_sql  # noqa: E402
from connector.schema import agent_groups, agents, calls, phone_numbers  # noqa: E402

TARGET_SECONDS = 1.0
BATCH = 10_000
OUTCOMES = ("answered",) * 7 + ("missed", "missed", "overflow", "voicemail")


def _people(conn, agent_count: int, groups: int, numbers: int) -> tuple[list[int], list[str]]:
    now = datetime.now(UTC)
    conn.execute(insert(agents), [{"username": f"bench{n}", "display_name": f"エージェント{n}",
                                   "password_hash": "x", "password_changed_at": now,
                                   "created_at": now, "updated_at": now}
                                  for n in range(agent_count)])
    conn.execute(insert(agent_groups), [{"name": f"g{n}", "created_at": now, "updated_at": now}
                                        for n in range(groups)])
    ours = [f"+8150{10000000 + n:08d}" for n in range(numbers)]
    conn.execute(insert(phone_numbers), [{"e164": e, "created_at": now, "updated_at": now}
                                         for e in ours])
    return list(range(1, agent_count + 1)), ours


def _rows(count: int, agent_ids: list[int], groups: int, ours: list[str], seed: int):
    rng = random.Random(seed)
    year = datetime(2026, 1, 1, tzinfo=UTC)
    span = 365 * 86400
    for n in range(count):
        start = year + timedelta(seconds=rng.uniform(0, span))
        inbound = rng.random() < 0.7
        outcome = rng.choice(OUTCOMES) if inbound else rng.choice(("answered", "no_answer"))
        answered = outcome == "answered"
        wait = rng.uniform(1, 40)
        talk = rng.randrange(5, 600) if answered else None
        yield {"call_sid": f"CA{n:032x}", "direction": "inbound" if inbound else "outbound",
               "leg": "customer", "status": "completed", "from_number": "+819012345678",
               "to_number": "", "customer_number": "+819012345678",
               "our_number": rng.choice(ours), "group_id": rng.randrange(1, groups + 1)
               if inbound else None, "agent_id": rng.choice(agent_ids) if answered else None,
               "outcome": outcome, "detail": "", "started_at": start,
               "answered_at": start + timedelta(seconds=wait) if answered else None,
               "ended_at": start + timedelta(seconds=wait + (talk or 0)), "talk_seconds": talk,
               "created_at": start, "updated_at": start}


def load(engine, count: int, agent_count: int) -> float:
    started = time.perf_counter()
    with engine.begin() as conn:
        agent_ids, ours = _people(conn, agent_count, 10, 20)
    batch = []
    for row in _rows(count, agent_ids, 10, ours, seed=1):
        batch.append(row)
        if len(batch) == BATCH:
            with engine.begin() as conn:
                conn.execute(insert(calls), batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(insert(calls), batch)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


def report(engine) -> list[tuple[str, float]]:
    period = stats_sql.Period.local_days("2026-10-01", "2026-10-31", "Asia/Tokyo")
    runs = [
        ("per group by day (all groups)", lambda c: stats_sql.group_report(c, period, by="day")),
        ("per group by day (one group)", lambda c: stats_sql.group_report(c, period, by="day",
                                                                          group_id=3)),
        ("per group by hour", lambda c: stats_sql.group_report(c, period, by="hour")),
        ("per group by agent", lambda c: stats_sql.group_report(c, period, by="agent")),
        ("per number", lambda c: stats_sql.number_report(c, period)),
    ]
    times = []
    with engine.connect() as conn:
        for name, run in runs:
            run(conn)  # warm the cache: a supervisor's second look, not the disk's first
            started = time.perf_counter()
            result = run(conn)
            times.append((name, time.perf_counter() - started))
            if name.startswith("per group by day (all"):
                calls_in_month = result["total"]["calls"]
    print(f"inbound group calls in October: {calls_in_month:,}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--database", default="", help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    schema = ""
    with tempfile.TemporaryDirectory() as folder:
        if args.database:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.database, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{args.database}?options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{folder}/bench.db"
        engine = db.make_engine(url)
        try:
            db.upgrade(engine)
            loaded = load(engine, args.calls, args.agents)
            print(f"{engine.dialect.name}: loaded {args.calls:,} calls, {args.agents} agents "
                  f"in {loaded:.1f} s")
            worst = 0.0
            for name, seconds in report(engine):
                worst = max(worst, seconds)
                print(f"  {name:32s} {seconds * 1000:8.1f} ms  "
                      f"({seconds / TARGET_SECONDS:.2f} × the 1 s target)")
            print(f"slowest report: {worst * 1000:.1f} ms = {worst / TARGET_SECONDS:.2f} × target")
        finally:
            engine.dispose()
            if schema:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()


if __name__ == "__main__":
    main()
