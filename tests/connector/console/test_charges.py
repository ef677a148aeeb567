"""ST-6 通話料金: the SQL sums against sums computed here over seeded calls, the screen, CSV."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from connector import db
from connector.console import stats_sql
from connector.console.stats_sql import money
from connector.schema import audit_log, console_permissions
from tests.connector.console.seed import (
    JST,
    insert_calls,
    month_of_calls,
    seed_people,
    with_charges,
)


@pytest.fixture
def seeded(any_db_app, clock):
    with db.get_engine(any_db_app).begin() as conn:
        agent_ids, group_ids = seed_people(conn, clock.current)
        records = month_of_calls(2026, 10, agent_ids, group_ids, 300, seed=5)
        records += month_of_calls(2026, 11, agent_ids, group_ids, 200, seed=6)
        # Each month's calls are numbered from 0: give all of them SIDs of their own.
        for n, record in enumerate(records):
            record["call_sid"] = f"CA{n:032d}"
        legs = with_charges(records)
        insert_calls(conn, records)
        insert_calls(conn, legs)
    return any_db_app, records, legs


def _expected(records, legs, first: str, last: str, by: str, direction: str = "",
              number: str = ""):
    """{unit: {"rows": {key: (calls, inbound, outbound, pending)}, "numbers": {...}}},
    computed in Python from the seeded rows, independently of the SQL."""
    children = defaultdict(list)
    for leg in legs:
        children[leg["parent_call_sid"]].append(leg)
    start = datetime.fromisoformat(first).replace(tzinfo=JST).astimezone(UTC)
    end = (datetime.fromisoformat(last).replace(tzinfo=JST).astimezone(UTC)
           + __import__("datetime").timedelta(days=1))
    calls_of = []
    for r in records:
        if not start <= r["started_at"] < end:
            continue
        if (direction and r["direction"] != direction) or (number and r["our_number"] != number):
            continue
        parts = [r, *children[r["call_sid"]]]
        units = {p["price_unit"] for p in parts if p["price_unit"]}
        calls_of.append({"unit": max(units) if units else "",
                         "micros": sum(p["charge_micros"] or 0 for p in parts),
                         "pending": sum(p["price_status"] == "" for p in parts),
                         "key": r["started_at"].astimezone(JST).date().isoformat()[
                             :10 if by == "day" else 7],
                         "direction": r["direction"], "number": r["our_number"]})
    counts = defaultdict(int)
    for c in calls_of:
        if c["unit"]:
            counts[c["unit"]] += 1
    main = max(counts, key=lambda u: (counts[u], u))
    out: dict = defaultdict(lambda: {"rows": defaultdict(lambda: [0, 0, 0, 0]),
                                     "numbers": defaultdict(lambda: [0, 0, 0, 0])})
    for c in calls_of:
        unit = c["unit"] or main
        for table, key in (("rows", c["key"]), ("numbers", c["number"])):
            cell = out[unit][table][key]
            cell[0] += 1
            cell[1 if c["direction"] == "inbound" else 2] += c["micros"]
            cell[3] += c["pending"]
    return main, out


def _actual(report, unit, table):
    rows = report["tables"][unit][table]
    key = "key" if table == "rows" else "number"
    return {r[key]: [r["calls"], r["inbound"], r["outbound"], r["pending"]] for r in rows
            if r["calls"]}


@pytest.mark.parametrize(("by", "direction", "number"), [
    ("day", "", ""), ("month", "", ""), ("day", "outbound", ""), ("month", "", "+81501234567"),
])
def test_sql_sums_match_sums_computed_over_the_seeded_calls(seeded, by, direction, number):
    app, records, legs = seeded
    first, last = "2026-10-01", "2026-11-30"
    period = stats_sql.Period.local_days(first, last)
    with db.get_engine(app).connect() as conn:
        report = stats_sql.charge_report(conn, period, by=by, direction=direction, number=number)
    main, expected = _expected(records, legs, first, last, by, direction, number)
    assert report["main_unit"] == main == "USD"
    assert set(report["units"]) == set(expected) == ({"USD", "JPY"} if not direction
                                                     else set(expected))
    for unit, tables in expected.items():
        for table in ("rows", "numbers"):
            assert _actual(report, unit, table) == {k: v for k, v in tables[table].items()}
        total = report["tables"][unit]["total"]
        assert total["total"] == sum(v[1] + v[2] for v in tables["rows"].values())
        assert total["calls"] == sum(v[0] for v in tables["rows"].values())
    keys = [r["key"] for r in report["tables"]["USD"]["rows"]]
    assert keys == (["2026-10", "2026-11"] if by == "month" else
                    [f"2026-10-{d:02d}" for d in range(1, 32)]
                    + [f"2026-11-{d:02d}" for d in range(1, 31)])


def test_a_period_inside_a_month_counts_only_its_days(seeded):
    app, records, legs = seeded
    period = stats_sql.Period.local_days("2026-10-10", "2026-10-12")
    with db.get_engine(app).connect() as conn:
        report = stats_sql.charge_report(conn, period, by="month")
    _, expected = _expected(records, legs, "2026-10-10", "2026-10-12", "month")
    assert _actual(report, "USD", "rows") == dict(expected["USD"]["rows"])


def _seed_small(app, clock):
    with db.get_engine(app).begin() as conn:
        agent_ids, group_ids = seed_people(conn, clock.current)
        records = month_of_calls(2026, 11, agent_ids, group_ids, 40, seed=3)
        legs = with_charges(records)
        insert_calls(conn, records)
        insert_calls(conn, legs)
    return records, legs


def test_the_screen_shows_the_tables_and_the_csv_opens_in_both_encodings(app, clock,
                                                                          console_user):
    records, legs = _seed_small(app, clock)
    sv = console_user(app, "sv1", "supervisor")
    base = "/console/stats/charges?from=2026-11-01&to=2026-11-30&by=month"
    page = sv.get(base)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    _, expected = _expected(records, legs, "2026-11-01", "2026-11-30", "month")
    calls, inbound, outbound, _pending = expected["USD"]["rows"]["2026-11"]
    assert f'data-col="total">{money(inbound + outbound)}<' in html
    assert 'id="chart-data"' in html and "通話料金" in html
    for encoding, codec in (("", "utf-8-sig"), ("&encoding=cp932", "cp932")):
        response = sv.get(f"{base}&format=csv{encoding}")
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.data.decode(codec), newline="")))
        assert rows[0][:5] == ["月", "コール数", "着信の料金", "発信の料金", "料金合計"]
        assert rows[1][:6] == ["2026-11", str(calls), money(inbound), money(outbound),
                               money(inbound + outbound), "USD"]
        assert all(not c.startswith(("=", "+", "-", "@")) for row in rows for c in row)
        numbers = list(csv.reader(io.StringIO(sv.get(
            f"{base}&format=csv&table=numbers{encoding}").data.decode(codec), newline="")))
        assert numbers[0][0] == "電話番号" and "03-1234-5678" in [r[0] for r in numbers]
    with db.get_engine(app).connect() as conn:
        targets = [r.target for r in conn.execute(select(audit_log).where(
            audit_log.c.action == "download"))]
    assert targets.count("charges.csv") == 2 and targets.count("charges-numbers.csv") == 2
    assert sv.get("/console/stats/charges?by=week").status_code == 422


def test_permission_to_view_and_download(app, clock, console_user, sign_in):
    _seed_small(app, clock)
    sv = console_user(app, "sv1", "supervisor")
    with db.get_engine(app).begin() as conn:
        conn.execute(insert(console_permissions).values(
            role="supervisor", screen="charges", action="download", allowed=False,
            updated_at=clock.current))
    assert sv.get("/console/stats/charges").status_code == 200
    assert sv.get("/console/stats/charges?format=csv").status_code == 403
    with db.get_engine(app).begin() as conn:
        conn.execute(insert(console_permissions).values(
            role="supervisor", screen="charges", action="view", allowed=False,
            updated_at=clock.current))
    assert sv.get("/console/stats/charges").status_code == 403
    assert "通話料金" not in sv.get("/console/history").get_data(as_text=True)


def test_history_csv_carries_each_calls_charge(app, clock, console_user):
    records, legs = _seed_small(app, clock)
    sv = console_user(app, "sv1", "supervisor")
    response = sv.get("/console/history?from=2026-11-01&to=2026-11-30&format=csv")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    children = defaultdict(list)
    for leg in legs:
        children[leg["parent_call_sid"]].append(leg)
    by_sid = {r["call_sid"]: r for r in rows}
    inside = [r for r in records if r["started_at"].astimezone(JST).month == 11]
    assert len(by_sid) == len(inside)
    for record in inside:
        parts = [record, *children[record["call_sid"]]]
        row = by_sid[record["call_sid"]]
        unit = next((p["price_unit"] for p in parts if p["price_unit"]), "")
        assert row["料金 charge"] == money(sum(p["charge_micros"] or 0 for p in parts), unit)
        assert row["料金未確定レグ legs not priced"] == str(
            sum(p["price_status"] == "" for p in parts))
        units = {p["price_unit"] for p in parts if p["price_unit"]}
        assert row["通貨 currency"] == (units.pop() if units else "") == unit
