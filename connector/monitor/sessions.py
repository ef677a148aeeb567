"""The record of every monitoring (``monitor_sessions``) and its audit-log entries.

A supervisor's leg in a call's conference is one *session*, known by that leg's CallSid; each
mode it is in is one row (a switch ends a row and starts the next), so the table answers "who
listened to whom, on which call, how, from when to when". Every start, switch and stop is also
written to the console's audit log in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from voice import numbering

from ..console import audit
from ..schema import monitor_sessions


@dataclass(frozen=True)
class Session:
    """The open row of one supervisor leg."""

    id: int
    supervisor_id: int | None
    supervisor: str
    agent_id: int | None
    call_sid: str
    supervisor_call_sid: str
    joined_from: str
    mode: str
    started_at: datetime

    def public(self) -> dict[str, Any]:
        return {"session": self.supervisor_call_sid, "agent_id": self.agent_id,
                "call_sid": self.call_sid, "mode": self.mode, "joined_from": self.joined_from,
                "started_at": self.started_at.isoformat()}


@dataclass(frozen=True)
class Who:
    """The person acting and where from (for the audit log)."""

    agent_id: int | None
    username: str
    ip: str = ""
    user_agent: str = ""


def shown_address(address: str) -> str:
    """Where a supervisor listens from, as recorded: a softphone identity, or a masked number."""
    return address if address.startswith("client:") else numbering.mask(address)


def start(conn: Connection, who: Who, *, agent_id: int, call_sid: str, leg: str, address: str,
          mode: str, now: datetime) -> Session:
    joined_from = shown_address(address)
    conn.execute(insert(monitor_sessions).values(
        supervisor_id=who.agent_id, supervisor=who.username[:64], agent_id=agent_id,
        call_sid=call_sid, supervisor_call_sid=leg, joined_from=joined_from, mode=mode,
        started_at=now))
    _audit(conn, who, "monitor.start", now, agent_id=agent_id, call_sid=call_sid, mode=mode,
           session=leg, joined_from=joined_from)
    found = open_session(conn, leg)
    assert found is not None
    return found


def switch(conn: Connection, who: Who, session: Session, mode: str, now: datetime) -> Session:
    """End the current mode's row and open one for ``mode`` (same leg, same call)."""
    _close(conn, session.supervisor_call_sid, now, "switched")
    conn.execute(insert(monitor_sessions).values(
        supervisor_id=session.supervisor_id, supervisor=session.supervisor,
        agent_id=session.agent_id, call_sid=session.call_sid,
        supervisor_call_sid=session.supervisor_call_sid, joined_from=session.joined_from,
        mode=mode, started_at=now))
    _audit(conn, who, "monitor.mode", now, agent_id=session.agent_id,
           call_sid=session.call_sid, session=session.supervisor_call_sid,
           **{"from": session.mode, "to": mode})
    found = open_session(conn, session.supervisor_call_sid)
    assert found is not None
    return found


def stop(conn: Connection, who: Who | None, leg: str, now: datetime, reason: str) -> bool:
    """End the session of ``leg`` (``who`` None: the call itself ended it); False if none."""
    session = open_session(conn, leg)
    if session is None:
        return False
    _close(conn, leg, now, reason)
    actor = who or Who(None, "")
    _audit(conn, actor, "monitor.stop", now, agent_id=session.agent_id,
           call_sid=session.call_sid, session=leg, mode=session.mode, reason=reason)
    return True


def open_session(conn: Connection, leg: str) -> Session | None:
    row = conn.execute(select(monitor_sessions).where(
        monitor_sessions.c.supervisor_call_sid == leg,
        monitor_sessions.c.ended_at.is_(None)).order_by(monitor_sessions.c.id.desc())).first()
    return _session(row) if row else None


def open_sessions(conn: Connection, *, supervisor_id: int | None = None,
                  call_sid: str | None = None) -> list[Session]:
    query = select(monitor_sessions).where(monitor_sessions.c.ended_at.is_(None))
    if supervisor_id is not None:
        query = query.where(monitor_sessions.c.supervisor_id == supervisor_id)
    if call_sid is not None:
        query = query.where(monitor_sessions.c.call_sid == call_sid)
    return [_session(r) for r in conn.execute(query.order_by(monitor_sessions.c.id))]


def history(conn: Connection, *, limit: int = 200) -> list[dict[str, Any]]:
    """Newest first: every mode stretch, ended or not."""
    rows = conn.execute(select(monitor_sessions).order_by(
        monitor_sessions.c.started_at.desc(), monitor_sessions.c.id.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]


def _close(conn: Connection, leg: str, now: datetime, reason: str) -> None:
    conn.execute(update(monitor_sessions).where(
        monitor_sessions.c.supervisor_call_sid == leg,
        monitor_sessions.c.ended_at.is_(None)).values(ended_at=now, end_reason=reason[:32]))


def _audit(conn: Connection, who: Who, action: str, now: datetime, *, agent_id: int | None,
           **details: Any) -> None:
    audit.record(conn, at=now, action=action, actor_id=who.agent_id, actor=who.username,
                 target=f"agent:{agent_id}", details=details, ip=who.ip,
                 user_agent=who.user_agent)


def _session(row: Any) -> Session:
    return Session(row.id, row.supervisor_id, row.supervisor, row.agent_id, row.call_sid,
                   row.supervisor_call_sid, row.joined_from, row.mode, row.started_at)
