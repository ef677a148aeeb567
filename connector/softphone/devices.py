"""One active softphone device per agent (SPEC SP-9).

Browser tabs elect one leader among themselves (docs/softphone.md); this module is the server's
half: each browser has a random ``device_id`` (kept in its localStorage, shared by its tabs), the
leading tab registers it and sends a heartbeat every ``device_heartbeat_seconds``. A second
browser or PC of the same agent is refused, may take over after confirming, or always takes
over — ``[softphone] second_device`` = ``refuse`` / ``ask`` / ``replace``. A device that misses
three heartbeats counts as gone: anyone may register then, and the agent is marked offline so
routing stops ringing a dead browser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import presence
from ..schema import agent_presence

DEVICE_ID_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")


class DeviceInUse(Exception):
    """Another device of the agent is active; ``can_take_over`` says whether it may be replaced."""

    def __init__(self, can_take_over: bool) -> None:
        super().__init__("another device is active")
        self.can_take_over = can_take_over


class DeviceReplaced(Exception):
    """The heartbeat came from a device that is no longer the agent's active one."""


@dataclass(frozen=True)
class Registration:
    device_id: str
    replaced: str | None  # the device that was active before, if it was taken over


def register(conn: Connection, agent_id: int, device_id: str, *, now: datetime,
             policy: str, stale_after: timedelta, takeover: bool = False) -> Registration:
    """Make ``device_id`` the agent's active device, or raise :class:`DeviceInUse`."""
    row = conn.execute(select(agent_presence.c.device_id, agent_presence.c.device_seen_at).where(
        agent_presence.c.agent_id == agent_id)).first()
    current = row.device_id if row else None
    fresh = bool(row and row.device_seen_at and row.device_seen_at > now - stale_after)
    replaced = None
    if current and current != device_id and fresh:
        if not (policy == "replace" or (policy == "ask" and takeover)):
            raise DeviceInUse(can_take_over=policy == "ask")
        replaced = current
    values = {"device_id": device_id, "device_seen_at": now}
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        agent_presence).values(agent_id=agent_id, status="offline", since=now, **values)
    conn.execute(insert.on_conflict_do_update(index_elements=["agent_id"], set_=values))
    return Registration(device_id, replaced)


def heartbeat(conn: Connection, agent_id: int, device_id: str, *, now: datetime) -> None:
    """Renew the registration; raise :class:`DeviceReplaced` if another device took over."""
    result = conn.execute(update(agent_presence).where(
        agent_presence.c.agent_id == agent_id,
        agent_presence.c.device_id == device_id).values(device_seen_at=now))
    if result.rowcount == 0:
        raise DeviceReplaced()


def release(conn: Connection, agent_id: int, device_id: str, *, now: datetime) -> bool:
    """The device signs off: the agent goes offline. Returns False if it was not the active one."""
    active = conn.execute(select(agent_presence.c.agent_id).where(
        agent_presence.c.agent_id == agent_id,
        agent_presence.c.device_id == device_id)).first()
    if active is None:
        return False
    presence.mark_offline(conn, agent_id, now, by=agent_id)
    return True


def sweep_stale(conn: Connection, *, now: datetime, stale_after: timedelta,
                on_offline: Callable[[int], None] | None = None) -> int:
    """Mark agents whose device stopped reporting offline; returns how many.

    ``on_offline`` is told each agent (the ACD takes them off its live board).
    """
    stale = conn.execute(select(agent_presence.c.agent_id).where(and_(
        agent_presence.c.device_id.is_not(None),
        agent_presence.c.device_seen_at < now - stale_after))).scalars().all()
    for agent_id in stale:
        presence.mark_offline(conn, agent_id, now)
        if on_offline is not None:
            on_offline(agent_id)
    return len(stale)


def active_device(conn: Connection, agent_id: int, *, now: datetime,
                  stale_after: timedelta) -> dict[str, object] | None:
    """The agent's active device as JSON-able data, or ``None``."""
    row = conn.execute(select(agent_presence.c.device_id, agent_presence.c.device_seen_at).where(
        agent_presence.c.agent_id == agent_id)).first()
    if not row or not row.device_id or not row.device_seen_at:
        return None
    if row.device_seen_at <= now - stale_after:
        return None
    return {"device_id": row.device_id, "seen_at": row.device_seen_at.isoformat()}
