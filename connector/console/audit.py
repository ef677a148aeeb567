"""The audit log: every settings change and every sign-in — who, when, what, from where.

Rows are written in the same transaction as the change they describe, so a change that is
rolled back leaves no entry, and an entry never lacks its change. Secrets (passwords, PINs)
never reach ``details``: callers pass field names, not values, for those.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from ..schema import audit_log

#: Field names whose values are replaced by "***" whatever a caller passes.
SECRET_FIELDS = frozenset({"password", "new_password", "current_password", "pin",
                           "refresh_token", "access_token"})
MAX_PAGE = 500


def record(conn: Connection, *, at: datetime, action: str, actor_id: int | None = None,
           actor: str = "", target: str = "", details: Mapping[str, Any] | None = None,
           ip: str = "", user_agent: str = "") -> None:
    conn.execute(insert(audit_log).values(
        at=at, action=action[:64], actor_id=actor_id, actor=actor[:64], target=target[:200],
        details=_clean(details) if details else None, ip=ip[:64], user_agent=user_agent[:255]))


def _clean(details: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in details.items():
        if key in SECRET_FIELDS:
            out[key] = "***"
        elif isinstance(value, Mapping):
            out[key] = _clean(value)
        else:
            out[key] = value
    return out


def entries(conn: Connection, *, since: datetime | None = None, until: datetime | None = None,
            actor: str = "", action: str = "", limit: int = 200) -> list[dict[str, Any]]:
    """Newest first; ``actor`` and ``action`` match a prefix."""
    query = select(audit_log).order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    if actor:
        query = query.where(audit_log.c.actor.startswith(actor, autoescape=True))
    if action:
        query = query.where(audit_log.c.action.startswith(action, autoescape=True))
    rows = conn.execute(query.limit(max(1, min(limit, MAX_PAGE)))).mappings()
    return [dict(row) for row in rows]
