"""ST-4 against the presence-intervals interface: a fixture table shaped like the ACD's, and
seconds computed independently by clipping each interval in Python."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from connector import db
from connector.console import stats_sql
from connector.schema import PRESENCE_STATUSES

START = datetime(2026, 10, 5, 0, tzinfo=UTC)  # 09:00 JST
NOW = START + timedelta(hours=7, minutes=30)


def _intervals(seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for agent in (1, 2, 3):
        moment = START - timedelta(minutes=rng.randrange(5, 90))  # begins before the window
        while moment < NOW:
            length = timedelta(seconds=rng.randrange(30, 2400))
            end = moment + length
            rows.append({"agent_id": agent, "status": rng.choice(PRESENCE_STATUSES),
                         "stop_status_id": None, "group_id": 1 if agent < 3 else 2,
                         "started_at": moment, "ended_at": None if end >= NOW else end})
            moment = end
    return rows


def _clipped(rows, first, last):
    seconds, counts = defaultdict(float), defaultdict(int)
    for r in rows:
        end = r["ended_at"] or NOW
        low, high = max(r["started_at"], first), min(end, last)
        if high > low or (r["started_at"] < last and end > first):
            seconds[(r["agent_id"], r["status"])] += max(0.0, (high - low).total_seconds())
            counts[(r["agent_id"], r["status"])] += 1
    return seconds, counts


@pytest.fixture
def source(any_db_app):
    source = stats_sql.IntervalSource(table="test_presence_intervals")
    table = source.as_table()
    engine = db.get_engine(any_db_app)
    rows = _intervals()
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(insert(table), rows)
    return engine, source, rows


def test_seconds_and_counts_per_agent_match_clipped_intervals(source):
    engine, src, rows = source
    with engine.connect() as conn:
        assert stats_sql.intervals_available(conn, src)
        report = stats_sql.status_report(conn, src, START, 8, now=NOW)
    seconds, counts = _clipped(rows, START, START + timedelta(hours=8))
    got = {(r["agent_id"], r["status"]): r for r in report}
    assert set(got) == set(seconds)
    for key, value in seconds.items():
        assert got[key]["seconds"] == pytest.approx(value, abs=0.1), key
        assert got[key]["count"] == counts[key], key
    # An agent's time adds up to the part of the window that has passed (up to now).
    for agent in (1, 2, 3):
        total = sum(r["seconds"] for r in report if r["agent_id"] == agent)
        assert total == pytest.approx((NOW - START).total_seconds(), abs=0.5)


def test_per_hour_buckets_and_shares(source):
    engine, src, rows = source
    with engine.connect() as conn:
        report = stats_sql.status_report(conn, src, START, 8, now=NOW, by="hour",
                                         agent_ids=[1, 2])
    for hour in range(8):
        first = START + timedelta(hours=hour)
        seconds, _ = _clipped([r for r in rows if r["agent_id"] in (1, 2)], first,
                              first + timedelta(hours=1))
        got = {(r["agent_id"], r["status"]): r["seconds"] for r in report if r["hour"] == first}
        assert got == pytest.approx({k: v for k, v in seconds.items()}, abs=0.1)
    shares = stats_sql.status_shares(report)
    for statuses in shares.values():
        assert sum(s["percent"] for s in statuses.values()) == pytest.approx(100, abs=0.1)


def test_a_missing_interval_table_is_reported_not_an_error(any_db_app):
    with db.get_engine(any_db_app).connect() as conn:
        assert not stats_sql.intervals_available(conn, stats_sql.IntervalSource(
            table="no_such_table"))
