"""Call records as the softphone reads them (SPEC SP-8): JSON shapes and access rules.

An agent sees the calls they answered or made and the calls that rang them; supervisors and
admins see every call. A child leg's SID finds its call record, so the softphone may ask with
whichever CallSid its SDK reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, or_, select

from voice import numbering
from voice.numbering import NumberError

from .. import call_access
from ..auth.accounts import Agent
from ..errors import APIError
from ..schema import agent_groups, agents, calls, phone_numbers
from . import calls as call_store

MAX_PAGE = 200
DEFAULT_PAGE = 50


def may_see(conn: Connection, agent: Agent, record: RowMapping) -> bool:
    """The one rule (:mod:`connector.call_access`), shared with wrap-up and CRM history."""
    return call_access.may_see(conn, agent, record)


def find_record(conn: Connection, agent: Agent, call_sid: str) -> RowMapping:
    """The call record for ``call_sid`` (or for the leg it names), if the agent may see it."""
    row = call_store.get_row(conn, call_sid)
    if row is not None and row["parent_call_sid"]:
        row = call_store.get_row(conn, row["parent_call_sid"])
    if row is None or not may_see(conn, agent, row):
        raise APIError(404, "not_found", "no such call")  # the same answer for others' calls
    return row


def page(conn: Connection, agent: Agent, limit: int, before: str | None) -> list[RowMapping]:
    """Call records newest first; ``before`` is the ``next_before`` of the previous page."""
    query = select(calls).where(calls.c.parent_call_sid.is_(None))
    visible = call_access.visible_call_sids(agent)
    if visible is not None:
        query = query.where(calls.c.call_sid.in_(visible))
    if before:
        started, sid = parse_cursor(before)
        query = query.where(or_(calls.c.started_at < started,
                                and_(calls.c.started_at == started, calls.c.call_sid < sid)))
    query = query.order_by(calls.c.started_at.desc(), calls.c.call_sid.desc()).limit(limit)
    return list(conn.execute(query).mappings())


def cursor(row: RowMapping) -> str:
    """An opaque, URL-safe position: the start time in UTC and the SID."""
    started = row["started_at"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{started}_{row['call_sid']}"


def parse_cursor(text: str) -> tuple[datetime, str]:
    stamp, _, sid = text.partition("_")
    try:
        started = datetime.fromisoformat(stamp)
    except ValueError:
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": {"before": "use the next_before of the previous page"}}
                       ) from None
    if started.tzinfo is None:
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": {"before": "the time needs a UTC offset"}})
    return started, sid or "\uffff"


def render(conn: Connection, records: Sequence[RowMapping], *,
           with_legs: bool = False) -> list[dict[str, Any]]:
    """JSON for call records, with the names of agents, groups and numbers filled in."""
    children = call_store.children_of(conn, [r["call_sid"] for r in records])
    everything = [*records, *(leg for legs in children.values() for leg in legs)]
    names = _Names(conn, everything)
    out = []
    for record in records:
        legs = children.get(record["call_sid"], [])
        data = _record(record, legs, names)
        if with_legs:
            data["legs"] = [_leg(leg, names) for leg in legs]
        out.append(data)
    return out


def _record(row: RowMapping, legs: list[RowMapping], names: _Names) -> dict[str, Any]:
    sid = row["call_sid"]
    recording = None
    if row["recording_sid"]:
        recording = {"duration": row["recording_duration"],
                     "url": f"/api/calls/{sid}/recording"}
    return {
        "call_sid": sid, "direction": row["direction"], "status": row["status"],
        "outcome": row["outcome"], "detail": row["detail"],
        "final": row["finalized_at"] is not None,
        "from_number": row["from_number"], "to_number": row["to_number"],
        "customer_number": row["customer_number"],
        "customer_display": _display(row["customer_number"]),
        "our_number": row["our_number"], "our_number_label": names.label(row["our_number"]),
        "agent": names.agent(row["agent_id"]), "group": names.group(row["group_id"]),
        "started_at": _iso(row["started_at"]), "answered_at": _iso(row["answered_at"]),
        "ended_at": _iso(row["ended_at"]), "duration_seconds": row["duration_seconds"],
        "talk_seconds": row["talk_seconds"], "recording": recording,
        "customer": row["customer"] or {}, "disposition": row["disposition"],
        "notes": row["notes"],
        "customer_call_sid": _customer_leg(row, legs), "agent_call_sid": _agent_leg(row, legs),
    }


def _leg(row: RowMapping, names: _Names) -> dict[str, Any]:
    return {"call_sid": row["call_sid"], "leg": row["leg"], "status": row["status"],
            "to_number": row["to_number"], "agent": names.agent(row["agent_id"]),
            "started_at": _iso(row["started_at"]), "answered_at": _iso(row["answered_at"]),
            "ended_at": _iso(row["ended_at"]), "talk_seconds": row["talk_seconds"]}


def _customer_leg(row: RowMapping, legs: list[RowMapping]) -> str | None:
    """The leg the customer is on — what hold and transfer act on."""
    if row["direction"] == "inbound":
        return row["call_sid"]
    return _pick(legs, "customer")


def _agent_leg(row: RowMapping, legs: list[RowMapping]) -> str | None:
    """The agent's browser leg."""
    if row["direction"] == "outbound":
        return row["call_sid"]
    return _pick(legs, "agent")


def _pick(legs: list[RowMapping], kind: str) -> str | None:
    """The answered leg of ``kind``, else the newest one."""
    matching = [leg for leg in legs if leg["leg"] == kind]
    answered = [leg for leg in matching if leg["answered_at"] is not None]
    chosen = answered[0] if answered else (matching[-1] if matching else None)
    return chosen["call_sid"] if chosen else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _display(number: str) -> str:
    if not number:
        return ""
    try:
        return numbering.parse_destination(number).display
    except NumberError:
        return number


class _Names:
    """Agents, groups and number labels of a batch of rows, read in three queries."""

    def __init__(self, conn: Connection, rows: Iterable[RowMapping]) -> None:
        rows = list(rows)
        agent_ids = {r["agent_id"] for r in rows if r["agent_id"]}
        group_ids = {r["group_id"] for r in rows if r["group_id"]}
        ours = {r["our_number"] for r in rows if r["our_number"]}
        self._agents = {a.id: {"id": a.id, "username": a.username,
                               "display_name": a.display_name}
                        for a in conn.execute(select(agents.c.id, agents.c.username,
                                                     agents.c.display_name).where(
                            agents.c.id.in_(agent_ids)))} if agent_ids else {}
        self._groups = {g.id: {"id": g.id, "name": g.name, "display_name": g.display_name}
                        for g in conn.execute(select(agent_groups).where(
                            agent_groups.c.id.in_(group_ids)))} if group_ids else {}
        self._labels = {n.e164: n.label for n in conn.execute(
            select(phone_numbers.c.e164, phone_numbers.c.label).where(
                phone_numbers.c.e164.in_(ours)))} if ours else {}

    def agent(self, agent_id: int | None) -> dict[str, Any] | None:
        return self._agents.get(agent_id) if agent_id else None

    def group(self, group_id: int | None) -> dict[str, Any] | None:
        return self._groups.get(group_id) if group_id else None

    def label(self, e164: str) -> str:
        return self._labels.get(e164, "")
