"""Rows of ``call_controls``: which calls the softphone holds or transfers, and how far it got.

Functions take an open connection (the caller's transaction) and ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from ..schema import call_controls

#: States in which the customer's leg is away from the agent and the agent should see it.
OPEN_STATES = ("held", "consulting", "transferring")


@dataclass(frozen=True)
class Target:
    """Where a transfer goes: an agent's client identity, a group, or an outside number."""

    kind: str  # "agent" | "group" | "number"
    value: str  # identity, group key, or E.164
    label: str  # what people see: a name, a group name, a formatted number


@dataclass(frozen=True)
class Control:
    call_sid: str
    customer_call_sid: str
    agent_id: int | None
    state: str
    queue_name: str
    our_number: str
    target: Target | None
    consult_call_sid: str | None
    context: dict[str, str]
    last_error: str
    held_at: datetime | None

    def public(self) -> dict[str, Any]:
        return {
            "call_sid": self.call_sid, "state": self.state,
            "target": ({"kind": self.target.kind, "label": self.target.label}
                       if self.target else None),
            "last_error": self.last_error,
            "held_at": self.held_at.isoformat() if self.held_at else None,
            "context": self.context,
        }


def _control(row: Any) -> Control:
    target = (Target(row.target_kind, row.target, row.target_label)
              if row.target_kind else None)
    return Control(row.call_sid, row.customer_call_sid, row.agent_id, row.state, row.queue_name,
                   row.our_number, target, row.consult_call_sid, dict(row.context or {}),
                   row.last_error, row.held_at)


def get(conn: Connection, call_sid: str) -> Control | None:
    row = conn.execute(select(call_controls).where(call_controls.c.call_sid == call_sid)).first()
    return _control(row) if row else None


def open_for_agent(conn: Connection, agent_id: int) -> list[Control]:
    rows = conn.execute(select(call_controls).where(
        call_controls.c.agent_id == agent_id,
        call_controls.c.state.in_(OPEN_STATES)).order_by(call_controls.c.created_at))
    return [_control(r) for r in rows]


def start_hold(conn: Connection, *, call_sid: str, customer_call_sid: str, agent_id: int,
               queue_name: str, our_number: str, context: dict[str, str],
               now: datetime) -> Control:
    """Record that the call is now held (a first hold inserts, a later one updates)."""
    values = {"customer_call_sid": customer_call_sid, "agent_id": agent_id, "state": "held",
              "queue_name": queue_name, "our_number": our_number, "held_at": now,
              "last_error": "", "consult_call_sid": None, "updated_at": now}
    if context:
        values["context"] = context
    if get(conn, call_sid) is None:
        conn.execute(insert(call_controls).values(call_sid=call_sid, created_at=now,
                                                  **{"context": context, **values}))
    else:
        conn.execute(update(call_controls).where(call_controls.c.call_sid == call_sid).values(
            **values))
    found = get(conn, call_sid)
    assert found is not None
    return found


def change(conn: Connection, call_sid: str, *, now: datetime, state: str | None = None,
           target: Target | None = None, consult_call_sid: str | None = None,
           last_error: str | None = None, clear_target: bool = False) -> None:
    values: dict[str, Any] = {"updated_at": now}
    if state is not None:
        values["state"] = state
        values["held_at"] = now if state == "held" else None
    if target is not None:
        values.update(target_kind=target.kind, target=target.value, target_label=target.label)
    if clear_target:
        values.update(target_kind="", target="", target_label="")
    if consult_call_sid is not None:
        values["consult_call_sid"] = consult_call_sid
    if last_error is not None:
        values["last_error"] = last_error[:200]
    conn.execute(update(call_controls).where(call_controls.c.call_sid == call_sid).values(
        **values))
