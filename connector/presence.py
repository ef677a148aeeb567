"""Agent presence (SPEC SP-6): what each agent is doing, so routing rings only available agents.

Statuses: 待機 ``available``, 着信中 ``ringing``, 通話中 ``on_call``, 保留 ``hold``, 離席 ``away``,
後処理 ``acw`` (after-call work), 停止 ``paused`` (optionally with an admin-defined stop status
such as 昼休憩), オフライン ``offline``. An agent without a row is offline. Only ``available``
agents are offered calls; away, ACW and paused agents get none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .schema import PRESENCE_STATUSES, agent_presence, agents

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


def get(conn: Connection, agent_id: int) -> Presence:
    row = conn.execute(select(agent_presence).where(
        agent_presence.c.agent_id == agent_id)).first()
    if row is None:
        return Presence(agent_id, "offline", None)
    return Presence(agent_id, row.status, row.since, row.stop_status_id, row.updated_by)


def set_status(conn: Connection, agent_id: int, status: str, *, now: datetime,
               by: int | None = None, stop_status_id: int | None = None) -> Presence:
    """Record ``status`` for the agent; ``since`` changes only when the status changes."""
    if status not in PRESENCE_STATUSES:
        raise PresenceError(f"status: unknown status {status!r} "
                            f"(known: {', '.join(PRESENCE_STATUSES)})")
    if stop_status_id is not None and status != "paused":
        raise PresenceError("stop_status_id: only with status 'paused'")
    current = get(conn, agent_id)
    since = now if (current.status, current.stop_status_id) != (status, stop_status_id) else (
        current.since or now)
    values = {"status": status, "stop_status_id": stop_status_id, "since": since,
              "updated_by": by}
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        agent_presence).values(agent_id=agent_id, **values)
    conn.execute(insert.on_conflict_do_update(index_elements=["agent_id"], set_=values))
    return Presence(agent_id, status, since, stop_status_id, by)


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


def mark_offline(conn: Connection, agent_id: int, now: datetime) -> None:
    conn.execute(update(agent_presence).where(agent_presence.c.agent_id == agent_id).values(
        status="offline", stop_status_id=None, since=now, device_id=None))
