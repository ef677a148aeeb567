"""Agent presence (SPEC SP-6): what each agent is doing, so routing rings only available agents.

Statuses: 待機 ``available``, 着信中 ``ringing``, 通話中 ``on_call``, 保留 ``hold``, 離席 ``away``,
後処理 ``acw`` (after-call work), 停止 ``paused`` (optionally with an admin-defined stop status
such as 昼休憩), オフライン ``offline``. An agent without a row is offline. Only ``available``
agents are offered calls; away, ACW and paused agents get none.

Agents choose only :data:`CHOSEN` (待機, 離席, 停止, sign-out); the server sets the call
statuses (:mod:`connector.acd.presence_ops`). A status may be timed (``until``: 後処理 for the
group's ACW time, an auto-pause): when it lapses, the agent's ``chosen_status`` follows, from
``until`` on (:func:`settle`). Every change closes the agent's open row of
``agent_status_intervals`` and opens a new one — the record statistics (SPEC ST-4) read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .schema import PRESENCE_STATUSES, agent_presence, agent_status_intervals, agents

#: What agents (and supervisors) may choose; the other statuses follow calls.
CHOSEN = ("available", "away", "paused", "offline")
#: Statuses of an agent claimed for a call.
BUSY = ("ringing", "on_call", "hold")

LABELS_JA = {"available": "待機", "ringing": "着信中", "on_call": "通話中", "hold": "保留",
             "away": "離席", "acw": "後処理", "paused": "停止", "offline": "オフライン"}
LABELS_EN = {"available": "Available", "ringing": "Ringing", "on_call": "On call",
             "hold": "On hold", "away": "Away", "acw": "After-call work", "paused": "Paused",
             "offline": "Offline"}


class PresenceError(ValueError):
    """An unknown status, or a stop status given with a status other than ``paused``."""


@dataclass(frozen=True)
class Presence:
    agent_id: int
    status: str
    since: datetime | None
    stop_status_id: int | None = None
    updated_by: int | None = None
    call_sid: str | None = None
    group_id: int | None = None
    until: datetime | None = None
    chosen_status: str | None = None
    chosen_stop_status_id: int | None = None
    ring_outs: int = 0


def get(conn: Connection, agent_id: int) -> Presence:
    row = conn.execute(select(agent_presence).where(
        agent_presence.c.agent_id == agent_id)).first()
    if row is None:
        return Presence(agent_id, "offline", None)
    return _presence(row)


def _presence(row: Any) -> Presence:
    return Presence(row.agent_id, row.status, row.since, row.stop_status_id, row.updated_by,
                    row.call_sid, row.group_id, row.until, row.chosen_status,
                    row.chosen_stop_status_id, row.ring_outs or 0)


def set_status(conn: Connection, agent_id: int, status: str, *, now: datetime,
               by: int | None = None, stop_status_id: int | None = None,
               call_sid: str | None = None, group_id: int | None = None,
               until: datetime | None = None, ring_outs: int | None = None,
               remember: bool = True) -> Presence:
    """Record ``status`` for the agent; ``since`` changes only when the status changes.

    A chosen status (:data:`CHOSEN` but offline) is also remembered as the one a timed
    status returns to, unless ``remember`` is off (a server-set pause). Changing the
    status (or the call) closes the open interval at ``now``.
    """
    if status not in PRESENCE_STATUSES:
        raise PresenceError(f"status: unknown status {status!r} "
                            f"(known: {', '.join(PRESENCE_STATUSES)})")
    if stop_status_id is not None and status != "paused":
        raise PresenceError("stop_status_id: only with status 'paused'")
    current = settle(conn, agent_id, now)
    changed = ((current.status, current.stop_status_id, current.call_sid)
               != (status, stop_status_id, call_sid) or current.since is None)
    since = now if changed else (current.since or now)
    values: dict[str, Any] = {
        "status": status, "stop_status_id": stop_status_id, "since": since, "updated_by": by,
        "call_sid": call_sid, "group_id": group_id, "until": until,
        "ring_outs": current.ring_outs if ring_outs is None else ring_outs}
    if remember and status in CHOSEN and status != "offline":
        values.update(chosen_status=status, chosen_stop_status_id=stop_status_id)
    _upsert(conn, agent_id, values)
    if changed:
        _new_interval(conn, agent_id, status, stop_status_id, group_id, call_sid, now)
    return get(conn, agent_id)


def settle(conn: Connection, agent_id: int, now: datetime) -> Presence:
    """The agent's presence with a lapsed timed status replaced by the chosen one (recorded
    from the moment it lapsed)."""
    current = get(conn, agent_id)
    if current.until is None or current.until > now:
        return current
    status = current.chosen_status or "available"
    stop = current.chosen_stop_status_id if status == "paused" else None
    _upsert(conn, agent_id, {"status": status, "stop_status_id": stop, "since": current.until,
                             "until": None, "call_sid": None, "group_id": None,
                             "updated_by": None})
    _new_interval(conn, agent_id, status, stop, None, None, current.until)
    return get(conn, agent_id)


def _upsert(conn: Connection, agent_id: int, values: dict[str, Any]) -> None:
    statement = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        agent_presence).values(agent_id=agent_id, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["agent_id"], set_=values))


def _new_interval(conn: Connection, agent_id: int, status: str, stop_status_id: int | None,
                  group_id: int | None, call_sid: str | None, start: datetime) -> None:
    """Close the agent's open interval at ``start`` and open one for the new status."""
    conn.execute(update(agent_status_intervals).where(
        agent_status_intervals.c.agent_id == agent_id,
        agent_status_intervals.c.ended_at.is_(None)).values(ended_at=start))
    conn.execute(insert(agent_status_intervals).values(
        agent_id=agent_id, status=status, stop_status_id=stop_status_id, group_id=group_id,
        call_sid=call_sid, started_at=start))


def intervals(conn: Connection, agent_id: int, since: datetime | None = None) -> list[Any]:
    """The agent's status intervals (oldest first), from ``since`` on if given."""
    query = select(agent_status_intervals).where(agent_status_intervals.c.agent_id == agent_id)
    if since is not None:
        query = query.where((agent_status_intervals.c.ended_at.is_(None))
                            | (agent_status_intervals.c.ended_at > since))
    return list(conn.execute(query.order_by(agent_status_intervals.c.started_at,
                                            agent_status_intervals.c.id)))


def all_present(conn: Connection) -> list[Presence]:
    """Every agent with a presence row (loading the live board)."""
    return [_presence(row) for row in conn.execute(select(agent_presence))]


_AVAILABLE = select(agent_presence.c.agent_id).join(
    agents, agents.c.id == agent_presence.c.agent_id).where(
    agent_presence.c.agent_id.in_(bindparam("ids", expanding=True)),
    agent_presence.c.status == "available", agents.c.active.is_(True))


def available_agents(conn: Connection, agent_ids: list[int]) -> list[int]:
    """Those of ``agent_ids`` that are active and 待機 (available), in the given order."""
    if not agent_ids:
        return []
    found = {r.agent_id for r in conn.execute(_AVAILABLE, {"ids": list(agent_ids)})}
    return [a for a in agent_ids if a in found]


def mark_offline(conn: Connection, agent_id: int, now: datetime, by: int | None = None) -> None:
    """Sign-out or a vanished browser: offline, no device, no call."""
    set_status(conn, agent_id, "offline", now=now, by=by)
    conn.execute(update(agent_presence).where(agent_presence.c.agent_id == agent_id).values(
        device_id=None, device_seen_at=None))
