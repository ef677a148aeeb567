"""Statistics (ST-3, ST-5) against counts computed independently, in Python, from the raw call
records of a seeded month — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from statistics import mean
from typing import Any

import pytest

from connector import db
from connector.console import stats_sql
from tests.connector.console.seed import JST, insert_calls, month_of_calls, seed_people

MONTH = (2026, 10)


@pytest.fixture
def seeded(any_db_app):
    engine = db.get_engine(any_db_app)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    with engine.begin() as conn:
        agent_ids, group_ids = seed_people(conn, now)
        rows = month_of_calls(*MONTH, agent_ids, group_ids, count=1500)
        insert_calls(conn, rows)
    return engine, rows, group_ids


def _kind(row: dict[str, Any]) -> set[str]:
    codes = {row["outcome"], row["detail"]}
    kinds = set()
    if row["outcome"] in ("answered", "forwarded"):
        kinds.add("answered")
    overflow = "overflow" in codes
    timed_out = not overflow and bool(codes & {"timeout", "timed_out", "queue_timeout"})
    if overflow:
        kinds.add("overflow")
    if timed_out:
        kinds.add("timed_out")
    if row["outcome"] in ("missed", "abandoned") and not overflow and not timed_out:
        kinds.add("abandoned")
    return kinds


def expected(rows: list[dict[str, Any]], key, group_id: int | None) -> dict[Any, dict[str, Any]]:
    """The figures per key, counted one record at a time."""
    first = datetime(*MONTH, 1, tzinfo=JST)
    last = datetime(MONTH[0], MONTH[1] + 1, 1, tzinfo=JST)
    buckets: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["direction"] != "inbound" or row["group_id"] is None:
            continue
        if group_id is not None and row["group_id"] != group_id:
            continue
        if not first <= row["started_at"] < last:
            continue
        buckets[key(row)].append(row)
        buckets["__total__"].append(row)
    out = {}
    for name, items in buckets.items():
        answered = [r for r in items if "answered" in _kind(r)]
        abandoned = [r for r in items if "abandoned" in _kind(r)]
        waits = [(r["answered_at"] - r["started_at"]).total_seconds() for r in answered]
        gave_up = [(r["ended_at"] - r["started_at"]).total_seconds() for r in abandoned]
        out[name] = {
            "calls": len(items), "answered": len(answered), "abandoned": len(abandoned),
            "overflow": sum("overflow" in _kind(r) for r in items),
            "timed_out": sum("timed_out" in _kind(r) for r in items),
            "answer_rate": round(100 * len(answered) / len(items), 2),
            "avg_wait": round(mean(waits), 1) if waits else None,
            "max_wait": round(max(waits), 1) if waits else None,
            "avg_abandon": round(mean(gave_up), 1) if gave_up else None,
            "max_abandon": round(max(gave_up), 1) if gave_up else None,
            "talk_seconds": sum(r["talk_seconds"] for r in answered),
        }
    return out


def _period() -> stats_sql.Period:
    return stats_sql.Period.local_days("2026-10-01", "2026-10-31", "Asia/Tokyo")


def _compare(report: dict[str, Any], wanted: dict[Any, dict[str, Any]]) -> None:
    total = wanted.pop("__total__")
    assert report["total"] == pytest.approx(total, abs=0.11)
    rows = {r["key"]: {k: v for k, v in r.items() if k != "key"} for r in report["rows"]
            if r["calls"]}
    assert set(rows) == set(wanted)
    for key, figures in wanted.items():
        assert rows[key] == pytest.approx(figures, abs=0.11), key


@pytest.mark.parametrize("group", [None, 0, 1])
def test_by_local_day_matches_the_raw_records(seeded, group):
    engine, rows, group_ids = seeded
    group_id = None if group is None else group_ids[group]
    with engine.connect() as conn:
        report = stats_sql.group_report(conn, _period(), by="day", group_id=group_id)
    assert len(report["rows"]) == 31  # every day listed, empty ones as zeros
    _compare(report, expected(rows, lambda r: r["started_at"].astimezone(JST).date().isoformat(),
                              group_id))


def test_by_hour_of_day_matches_the_raw_records(seeded):
    engine, rows, group_ids = seeded
    with engine.connect() as conn:
        report = stats_sql.group_report(conn, _period(), by="hour", group_id=group_ids[0])
    assert [r["key"] for r in report["rows"]] == list(range(24))
    _compare(report, expected(rows, lambda r: r["started_at"].astimezone(JST).hour,
                              group_ids[0]))


def test_by_agent_matches_the_raw_records(seeded):
    engine, rows, _ = seeded
    with engine.connect() as conn:
        report = stats_sql.group_report(conn, _period(), by="agent")
    _compare(report, expected(rows, lambda r: r["agent_id"], None))


def test_calls_crossing_midnight_count_on_the_day_they_started(seeded):
    engine, rows, _ = seeded
    crossing = [r for r in rows if r["direction"] == "inbound" and r["group_id"]
                and r["started_at"].astimezone(JST).hour == 23
                and r["ended_at"].astimezone(JST).date() > r["started_at"].astimezone(JST).date()
                and r["started_at"] >= datetime(2026, 10, 1, tzinfo=JST)
                and r["started_at"] < datetime(2026, 11, 1, tzinfo=JST)]
    assert len(crossing) >= 5  # the seed really has them
    day = crossing[0]["started_at"].astimezone(JST).date()
    with engine.connect() as conn:
        report = stats_sql.group_report(conn, stats_sql.Period.local_days(
            day.isoformat(), day.isoformat()), by="day")
        next_day = stats_sql.group_report(conn, stats_sql.Period.local_days(
            (day + timedelta(days=1)).isoformat(), (day + timedelta(days=1)).isoformat()),
            by="day")
    same_day = [r for r in rows if r["direction"] == "inbound" and r["group_id"]
                and r["started_at"].astimezone(JST).date() == day]
    following = [r for r in rows if r["direction"] == "inbound" and r["group_id"]
                 and r["started_at"].astimezone(JST).date() == day + timedelta(days=1)]
    assert report["total"]["calls"] == len(same_day)
    assert next_day["total"]["calls"] == len(following)


def test_an_empty_period_has_zeros_and_no_rates(seeded):
    engine, _, _ = seeded
    with engine.connect() as conn:
        report = stats_sql.group_report(conn, stats_sql.Period.local_days(
            "2025-01-01", "2025-01-02"), by="day")
    assert report["total"]["calls"] == 0 and report["total"]["answer_rate"] is None
    assert [r["calls"] for r in report["rows"]] == [0, 0]


def test_per_number_figures_match_the_raw_records(seeded):
    engine, rows, _ = seeded
    first = datetime(2026, 10, 1, tzinfo=JST)
    last = datetime(2026, 11, 1, tzinfo=JST)
    wanted: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        if not first <= r["started_at"] < last:
            continue
        side = wanted.setdefault(r["our_number"], {}).setdefault(
            r["direction"], {"count": 0, "connected": 0, "seconds": 0})
        side["count"] += 1
        if r["answered_at"] is not None:
            side["connected"] += 1
            side["seconds"] += r["talk_seconds"]
    with engine.connect() as conn:
        report = stats_sql.number_report(conn, _period(), ["+81399999999"])
    by_number = {r["number"]: r for r in report}
    assert by_number["+81399999999"]["inbound"]["count"] == 0  # listed without calls
    for number, sides in wanted.items():
        for direction, figures in sides.items():
            got = by_number[number][direction]
            assert {k: got[k] for k in figures} == figures, (number, direction)
            assert got["average"] == pytest.approx(figures["seconds"] / figures["connected"],
                                                   abs=0.06)


def test_a_zone_with_summer_time_buckets_by_its_local_days(seeded):
    """Europe/Berlin leaves summer time on 2026-10-25: the offset CASE must switch there."""
    engine, rows, _ = seeded
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    period = stats_sql.Period.local_days("2026-10-20", "2026-10-28", "Europe/Berlin")
    assert len(stats_sql.offset_segments(period)) == 2
    with engine.connect() as conn:
        report = stats_sql.group_report(conn, period, by="day")
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["direction"] == "inbound" and r["group_id"] and period.start <= r["started_at"] \
                < period.end:
            counts[r["started_at"].astimezone(berlin).date().isoformat()] += 1
    assert {r["key"]: r["calls"] for r in report["rows"] if r["calls"]} == dict(counts)
