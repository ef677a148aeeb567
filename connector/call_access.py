"""Who may see — and so change — a call: ONE rule for the calls API, wrap-up and the built-in
CRM's per-customer history (issue 17).

* Supervisors and admins: every call.
* Agents: the calls they answered or made (``calls.agent_id``) and the calls that rang them
  (a leg of the call carries their id). Calls nobody answered (missed, voicemail) are the
  supervisors' — an agent gets a 404 reading them, and so may not wrap them up either.

Both forms are here, kept together so they cannot drift: :func:`may_see` for one call record,
:func:`visible_call_sids` as SQL for lists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, select, union

from .auth.guard import ROLE_RANK
from .schema import calls


def sees_all(agent: Any) -> bool:
    return ROLE_RANK.get(agent.role, -1) >= ROLE_RANK["supervisor"]


def may_see(conn: Connection, agent: Any, call: Any) -> bool:
    """Whether ``agent`` may see the (parent) call record ``call`` (row or mapping)."""
    row = call._mapping if hasattr(call, "_mapping") else call
    if sees_all(agent) or row["agent_id"] == agent.id:
        return True
    return conn.execute(select(calls.c.call_sid).where(
        calls.c.parent_call_sid == row["call_sid"],
        calls.c.agent_id == agent.id).limit(1)).first() is not None


def visible_call_sids(agent: Any) -> Select[Any] | None:
    """The CallSids of the (parent) call records ``agent`` may see; ``None`` means all."""
    if sees_all(agent):
        return None
    own = select(calls.c.call_sid).where(calls.c.agent_id == agent.id,
                                         calls.c.parent_call_sid.is_(None))
    rang = select(calls.c.parent_call_sid).where(calls.c.agent_id == agent.id,
                                                 calls.c.parent_call_sid.is_not(None))
    return select(union(own, rang).subquery().c[0])
