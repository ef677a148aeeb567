"""Turning a call record into the :class:`~crm_adapters.base.CallLog` one CRM should store.

Which customer record a log is attached to, per CRM, in order of preference:

1. the record the agent chose at wrap-up (``customer.chosen``),
2. the record the agent clicked to dial (click-to-call, ``customer.selected``),
3. the only match for the caller when the phone rang (``customer.matches``),
4. the only match in the phone index now.

With several candidates and no choice, the log is written without a customer link rather than to
the wrong customer (the agent can still attach it at wrap-up, which re-sends the log).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from crm_adapters.base import CallLog

from . import phone_index
from .schema import agent_crm_users, agents, calls


class CallMissing(LookupError):
    """The write-back row names a call that is not in the database."""


def build(conn: Connection, call_sid: str, adapter: str, *, base_url: str) -> CallLog:
    """The log of ``call_sid`` for ``adapter``; ``base_url`` is the public URL of the connector
    (recording links point at its player page, which requires signing in — SPEC CF-10)."""
    call = conn.execute(select(calls).where(calls.c.call_sid == call_sid)).first()
    if call is None:
        raise CallMissing(f"call {call_sid} is not recorded")
    recording_url = f"{base_url}/crm/recordings/{call_sid}" if call.recording_sid else ""
    agent = _agent(conn, call.agent_id, adapter)
    customer = choose_customer(conn, call, adapter)
    return CallLog(
        call_sid=call.call_sid,
        direction=call.direction,
        status=call.status,
        from_number=call.from_number,
        to_number=call.to_number,
        customer_number=call.customer_number,
        started_at=_iso(call.started_at) or "",
        answered_at=_iso(call.answered_at),
        ended_at=_iso(call.ended_at),
        duration_seconds=max(0, call.duration_seconds or 0),
        talk_seconds=max(0, call.talk_seconds or 0),
        agent_username=agent.get("username", ""),
        agent_name=agent.get("display_name", ""),
        agent_email=agent.get("email", ""),
        agent_crm_user=agent.get("crm_user", ""),
        customer_record_id=str(customer.get("id", "")),
        customer_object_type=str(customer.get("type", "")),
        customer_name=str(customer.get("name", "")),
        disposition=call.disposition,
        notes=call.notes,
        recording_url=recording_url,
    )


def choose_customer(conn: Connection, call: Any, adapter: str) -> dict[str, Any]:
    data = call.customer or {}
    # "chosen": at wrap-up; "selected": clicked to dial (the voice layer's outbound webhook).
    for key in ("chosen", "selected"):
        for ref in _refs(data.get(key)):
            if ref.get("adapter") == adapter and ref.get("id"):
                return ref
    rung = [r for r in _refs(data.get("matches")) if r.get("adapter") == adapter]
    if len(rung) == 1:
        return rung[0]
    if not rung and call.customer_number:
        indexed = [c for c in phone_index.lookup(conn, call.customer_number)
                   if c.adapter == adapter]
        if len(indexed) == 1:
            c = indexed[0]
            return {"adapter": adapter, "id": c.record_id, "type": c.object_type,
                    "name": c.display_name}
    return {}


def _refs(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def _agent(conn: Connection, agent_id: int | None, adapter: str) -> dict[str, Any]:
    if agent_id is None:
        return {}
    row = conn.execute(select(agents.c.username, agents.c.display_name, agents.c.email).where(
        agents.c.id == agent_id)).first()
    if row is None:
        return {}
    mapped = conn.execute(select(agent_crm_users.c.crm_user).where(
        agent_crm_users.c.agent_id == agent_id, agent_crm_users.c.adapter == adapter)).scalar()
    # Without an explicit mapping the e-mail address is the best guess for a CRM user.
    return {**row._mapping, "crm_user": mapped or row.email}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
