"""A seeded month of call records (and presence intervals) for the statistics tests and bench.

Deterministic (``random.Random(seed)``); includes calls that start just before local midnight
and end after it, abandoned calls, overflow and timed-out calls, outbound calls per number and
calls outside any group, so every branch of the aggregates is exercised.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert

from connector.schema import agent_group_members, agent_groups, agents, calls, phone_numbers

JST = ZoneInfo("Asia/Tokyo")
NUMBERS = ("+81312345678", "+81501234567", "+81120111222")
#: (outcome, detail) of inbound group calls, with weights.
INBOUND_KINDS = ((("answered", ""), 10), (("missed", ""), 3), (("missed", "overflow"), 1),
                 (("overflow", ""), 1), (("missed", "timeout"), 1), (("voicemail", ""), 1),
                 (("forwarded", ""), 1), (("rejected", "block_list"), 1))


def seed_people(conn: Connection, now: datetime, agent_count: int = 6,
                group_count: int = 2) -> tuple[list[int], list[int]]:
    agent_ids, group_ids = [], []
    for n in range(agent_count):
        agent_ids.append(conn.execute(insert(agents).values(
            username=f"seedagent{n}", display_name=f"エージェント{n}", role="agent",
            password_hash="x", password_changed_at=now, created_at=now,
            updated_at=now)).inserted_primary_key[0])
    for n in range(group_count):
        gid = conn.execute(insert(agent_groups).values(
            name=f"group{n}", display_name=f"グループ{n}", created_at=now,
            updated_at=now)).inserted_primary_key[0]
        group_ids.append(gid)
        for position, agent_id in enumerate(agent_ids[n::group_count]):
            conn.execute(insert(agent_group_members).values(group_id=gid, agent_id=agent_id,
                                                            position=position))
    for e164 in NUMBERS:
        conn.execute(insert(phone_numbers).values(e164=e164, created_at=now, updated_at=now))
    return agent_ids, group_ids


def month_of_calls(year: int, month: int, agent_ids: list[int], group_ids: list[int],
                   count: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    first = datetime(year, month, 1, tzinfo=JST)
    last = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=JST)
    span = (last - first).total_seconds()
    rows = []
    for n in range(count):
        start = first + timedelta(seconds=rng.uniform(0, span))
        if n % 25 == 0:  # just before a local midnight, ending after it
            day = first + timedelta(days=rng.randrange((last - first).days))
            start = day.replace(hour=23, minute=59, second=rng.randrange(30, 59))
        rows.append(_call(rng, n, start.astimezone(UTC), agent_ids, group_ids))
    # A few calls outside the month on both sides (must never be counted).
    for n, start in enumerate((first - timedelta(seconds=1), last, last + timedelta(hours=1))):
        rows.append(_call(rng, count + n, start.astimezone(UTC), agent_ids, group_ids))
    return rows


def _call(rng: random.Random, n: int, start: datetime, agent_ids: list[int],
          group_ids: list[int]) -> dict[str, Any]:
    sid = f"CA{n:032d}"
    our = rng.choice(NUMBERS)
    if rng.random() < 0.25:
        return _outbound(rng, sid, start, our, agent_ids)
    kinds, weights = zip(*INBOUND_KINDS, strict=True)
    outcome, detail = rng.choices(kinds, weights)[0]
    answered = outcome in ("answered", "forwarded")
    wait = rng.uniform(0.5, 40)
    talk = rng.randrange(5, 900) if answered else None
    end = start + timedelta(seconds=wait + (talk or 0))
    return {"call_sid": sid, "direction": "inbound", "leg": "customer", "status": "completed",
            "from_number": "+819012345678", "to_number": our,
            "customer_number": "+819012345678",
            "our_number": our, "group_id": rng.choice([*group_ids, None]) if n % 9 == 0
            else rng.choice(group_ids), "agent_id": rng.choice(agent_ids) if answered else None,
            "outcome": outcome, "detail": detail, "started_at": start,
            "answered_at": start + timedelta(seconds=wait) if answered else None,
            "ended_at": end, "talk_seconds": talk, "created_at": start, "updated_at": end}


def _outbound(rng: random.Random, sid: str, start: datetime, our: str,
              agent_ids: list[int]) -> dict[str, Any]:
    connected = rng.random() < 0.6
    talk = rng.randrange(3, 600) if connected else None
    ring = rng.uniform(2, 20)
    return {"call_sid": sid, "direction": "outbound", "leg": "agent", "status": "completed",
            "from_number": "client:agent", "to_number": "+81312340000",
            "customer_number": "+81312340000", "our_number": our,
            "group_id": None, "agent_id": rng.choice(agent_ids),
            "outcome": "answered" if connected else "no_answer", "detail": "",
            "started_at": start,
            "answered_at": start + timedelta(seconds=ring) if connected else None,
            "ended_at": start + timedelta(seconds=ring + (talk or 0)), "talk_seconds": talk,
            "created_at": start, "updated_at": start}


def insert_calls(conn: Connection, rows: list[dict[str, Any]]) -> None:
    for chunk in range(0, len(rows), 1000):
        conn.execute(insert(calls), rows[chunk:chunk + 1000])


def with_charges(records: list[dict[str, Any]], seed: int = 11,
                 yen_every: int = 53) -> list[dict[str, Any]]:
    """Prices on the records (``price_*`` columns) and, for about half, a priced child leg:
    mostly priced in USD, some still pending or unpriced, every ``yen_every``-th in JPY (0:
    none). Returns the new legs."""
    rng = random.Random(seed)
    legs = []
    for n, record in enumerate(records):
        unit = "JPY" if yen_every and n % yen_every == 0 else "USD"
        record.update(_price(rng, unit))
        if rng.random() < 0.5:
            leg = {**record, "call_sid": "CL" + record["call_sid"][2:],
                   "parent_call_sid": record["call_sid"], "leg": "agent",
                   "direction": "outbound", "our_number": "", "from_number": record["to_number"],
                   "to_number": "client:agent",
                   "started_at": record["started_at"] + timedelta(seconds=rng.uniform(1, 30))}
            leg.update(_price(rng, unit))
            legs.append(leg)
    return legs


def _price(rng: random.Random, unit: str) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.1:
        return {"price": None, "price_unit": None, "charge_micros": None, "price_status": ""}
    if roll < 0.13:
        return {"price": None, "price_unit": None, "charge_micros": None,
                "price_status": "unpriced"}
    # USD: 0 to 0.4 in Twilio's 5 decimals; JPY: whole and half yen.
    micros = rng.randrange(0, 40_000) * 10 if unit == "USD" else rng.randrange(1, 60) * 500_000
    return {"price": f"-{micros / 1_000_000:.5f}", "price_unit": unit, "charge_micros": micros,
            "price_status": "priced"}
