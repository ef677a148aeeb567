"""Call history search (SPEC ST-1): the filters of the 通話履歴 screen, as one SQL query.

Only call records (parent legs) are listed; ``party`` and ``number`` match the digits of the
customer's and our number (so ``0312345678``, ``03-1234-5678`` and ``+81312345678`` all find
``+81312345678``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, or_, select

from voice import numbering
from voice.numbering import NumberError

from ..schema import agent_groups, agents, calls

MAX_ROWS = 10_000  # a CSV holds at most this many; the screen pages through 100 at a time
PAGE = 100
DIRECTIONS = ("inbound", "outbound")


@dataclass
class Filters:
    start: datetime | None = None
    end: datetime | None = None
    party: str = ""
    number: str = ""
    direction: str = ""
    agent_id: int | None = None
    group_id: int | None = None
    outcome: str = ""
    min_seconds: int | None = None
    max_seconds: int | None = None


def _digits_pattern(text: str) -> str:
    """A LIKE pattern for a number as typed: national 0… becomes +81…; else the digits."""
    digits = re.sub(r"\D", "", text)
    if not digits:
        return ""
    try:
        return f"%{numbering.normalize(text)}%"
    except NumberError:
        return f"%{digits.lstrip('0')}%"


def _leg_charges() -> tuple[Any, Any, Any]:
    """The call's charge (its record's and its legs' prices, millionths), its currency, and how
    many of them are still waiting for a price (ST-6, connector.voice.charges)."""
    leg = calls.alias("charged_leg")
    of_legs = select(func.sum(leg.c.charge_micros)).where(
        leg.c.parent_call_sid == calls.c.call_sid).scalar_subquery()
    unit = select(func.max(leg.c.price_unit)).where(
        leg.c.parent_call_sid == calls.c.call_sid).scalar_subquery()
    pending = select(func.count()).where(leg.c.parent_call_sid == calls.c.call_sid,
                                         leg.c.price_status == "").scalar_subquery()
    waiting = func.coalesce(pending, 0) + case((calls.c.price_status == "", 1), else_=0)
    return ((func.coalesce(calls.c.charge_micros, 0) + func.coalesce(of_legs, 0)
             ).label("charge_micros"),
            func.coalesce(calls.c.price_unit, unit).label("charge_unit"),
            waiting.label("charge_pending"))


def query(filters: Filters) -> Any:
    record_columns = [calls.c[name] for name in (
        "call_sid", "direction", "from_number", "to_number", "customer_number", "our_number",
        "agent_id", "group_id", "status", "outcome", "detail", "started_at", "answered_at",
        "ended_at", "duration_seconds", "talk_seconds", "recording_sid", "disposition", "notes")]
    q = select(*record_columns, *_leg_charges(), agents.c.username,
               agents.c.display_name.label("agent_name"),
               agent_groups.c.name.label("group_name"),
               agent_groups.c.display_name.label("group_label")).select_from(
        calls.outerjoin(agents, agents.c.id == calls.c.agent_id).outerjoin(
            agent_groups, agent_groups.c.id == calls.c.group_id)).where(
        calls.c.parent_call_sid.is_(None))
    if filters.start:
        q = q.where(calls.c.started_at >= filters.start)
    if filters.end:
        q = q.where(calls.c.started_at < filters.end)
    if filters.party and (pattern := _digits_pattern(filters.party)):
        q = q.where(or_(calls.c.customer_number.like(pattern), calls.c.from_number.like(pattern),
                        calls.c.to_number.like(pattern)))
    if filters.number and (pattern := _digits_pattern(filters.number)):
        q = q.where(calls.c.our_number.like(pattern))
    if filters.direction:
        q = q.where(calls.c.direction == filters.direction)
    if filters.agent_id is not None:
        q = q.where(calls.c.agent_id == filters.agent_id)
    if filters.group_id is not None:
        q = q.where(calls.c.group_id == filters.group_id)
    if filters.outcome:
        q = q.where(calls.c.outcome == filters.outcome)
    if filters.min_seconds is not None:
        q = q.where(calls.c.talk_seconds >= filters.min_seconds)
    if filters.max_seconds is not None:
        q = q.where(calls.c.talk_seconds <= filters.max_seconds)
    return q.order_by(calls.c.started_at.desc(), calls.c.call_sid.desc())


def search(conn: Connection, filters: Filters, *, limit: int = PAGE,
           offset: int = 0) -> list[dict[str, Any]]:
    rows = conn.execute(query(filters).limit(limit).offset(offset)).mappings()
    return [dict(r) for r in rows]


def outcomes_in_use(conn: Connection) -> list[str]:
    rows = conn.execute(select(calls.c.outcome).where(calls.c.parent_call_sid.is_(None),
                                                      calls.c.outcome != "").distinct())
    return sorted(r.outcome for r in rows)


CSV_HEADER = ("call_sid", "開始 started", "発着信 direction", "相手番号 party",
              "電話番号 number", "エージェント agent", "グループ group", "結果 outcome",
              "詳細 detail", "待ち秒 wait", "通話秒 talk", "対応結果 disposition", "メモ notes",
              "料金 charge", "通貨 currency", "料金未確定レグ legs not priced")


def csv_rows(conn: Connection, filters: Filters, local: Any) -> list[list[Any]]:
    """Rows for the CSV (up to :data:`MAX_ROWS`); ``local`` turns UTC into local time text."""
    out = []
    for r in search(conn, filters, limit=MAX_ROWS):
        wait = ""
        if r["answered_at"] is not None:
            wait = round((r["answered_at"] - r["started_at"]).total_seconds())
        party = r["customer_number"] or (r["from_number"] if r["direction"] == "inbound"
                                         else r["to_number"])
        out.append([r["call_sid"], local(r["started_at"]), r["direction"], party,
                    r["our_number"], r["agent_name"] or "", r["group_label"] or r["group_name"]
                    or "", r["outcome"], r["detail"], wait, r["talk_seconds"] or 0,
                    r["disposition"], r["notes"],
                    _money(r["charge_micros"], r["charge_unit"] or ""),
                    r["charge_unit"] or "", r["charge_pending"]])
    return out


def _money(micros: int | None, unit: str) -> str:
    from .stats_sql import money

    return money(int(micros or 0), unit)
