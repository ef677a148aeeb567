"""What the user editor links to a user besides their profile (SPEC AD-1): groups with a skill
level each, the numbers they may call from (発信者番号) with their default, and the user's
change history (変更履歴, from the audit log).

Skill levels are the ACD's (1 = best … 9, ``voice.acd.strategies`` skill-weighted); a change
bumps the routing version so every web process routes with it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request
from sqlalchemy import Connection, delete, func, insert, select, update

from ..schema import agent_group_members, agent_groups, audit_log, phone_numbers
from ..voice import numbers, versions
from .common import FormError

SKILL_LEVELS = range(1, 10)
#: Entries of the change history shown under the editor.
HISTORY_ROWS = 20


@dataclass(frozen=True)
class Links:
    """The editor's view of one user's (or a new user's) links."""

    groups: list[Any]
    skills: dict[int, int]  # group id → skill level, for the groups the user is in
    numbers: list[Any]
    caller_ids: set[str]
    default_caller_id: str
    history: list[dict[str, Any]]


def load(conn: Connection, agent_id: int | None, username: str = "") -> Links:
    groups = conn.execute(select(agent_groups).order_by(agent_groups.c.name)).all()
    ours = conn.execute(select(phone_numbers.c.e164, phone_numbers.c.label).where(
        phone_numbers.c.active.is_(True)).order_by(phone_numbers.c.e164)).all()
    if agent_id is None:
        return Links(groups, {}, ours, set(), "", [])
    skills = {r.group_id: r.skill for r in conn.execute(select(
        agent_group_members.c.group_id, agent_group_members.c.skill).where(
        agent_group_members.c.agent_id == agent_id))}
    allowed = numbers.caller_ids(conn, agent_id)
    default = next((c.e164 for c in allowed if c.default), "")
    history = [dict(r) for r in conn.execute(select(audit_log).where(
        audit_log.c.target == f"user:{username}").order_by(
        audit_log.c.at.desc(), audit_log.c.id.desc()).limit(HISTORY_ROWS)).mappings()]
    return Links(groups, skills, ours, {c.e164 for c in allowed}, default, history)


def groups_from_form() -> dict[int, int]:
    """The groups ticked on the form, each with its skill level (1 when none is chosen)."""
    chosen: dict[int, int] = {}
    try:
        for value in request.form.getlist("groups"):
            group_id = int(value)
            chosen[group_id] = int(request.form.get(f"skill-{group_id}") or 1)
    except ValueError:
        raise FormError({"groups": "group ids and skill levels are whole numbers"}) from None
    if any(level not in SKILL_LEVELS for level in chosen.values()):
        raise FormError({"groups": "a skill level from 1 (best) to 9"})
    return chosen


def set_groups(conn: Connection, agent_id: int, wanted: dict[int, int]) -> dict[str, Any]:
    """Make the user a member of exactly ``wanted`` (group id → skill); what changed."""
    current = {r.group_id: r.skill for r in conn.execute(select(
        agent_group_members.c.group_id, agent_group_members.c.skill).where(
        agent_group_members.c.agent_id == agent_id))}
    known = {r.id for r in conn.execute(select(agent_groups.c.id))}
    if set(wanted) - known:
        raise FormError({"groups": f"unknown group ids {sorted(set(wanted) - known)}"})
    for group_id in set(current) - set(wanted):
        conn.execute(delete(agent_group_members).where(
            agent_group_members.c.group_id == group_id,
            agent_group_members.c.agent_id == agent_id))
    for group_id in set(wanted) - set(current):
        last = conn.execute(select(func.coalesce(func.max(agent_group_members.c.position), -1))
                            .where(agent_group_members.c.group_id == group_id)).scalar_one()
        conn.execute(insert(agent_group_members).values(
            group_id=group_id, agent_id=agent_id, position=last + 1, skill=wanted[group_id]))
    reskilled = {g: wanted[g] for g in set(wanted) & set(current) if wanted[g] != current[g]}
    for group_id, level in reskilled.items():
        conn.execute(update(agent_group_members).where(
            agent_group_members.c.group_id == group_id,
            agent_group_members.c.agent_id == agent_id).values(skill=level))
    changed: dict[str, Any] = {}
    if set(wanted) - set(current):
        changed["added"] = sorted(set(wanted) - set(current))
    if set(current) - set(wanted):
        changed["removed"] = sorted(set(current) - set(wanted))
    if reskilled:
        changed["skills"] = {str(g): level for g, level in sorted(reskilled.items())}
    if changed:
        versions.bump(conn, "routing")
    return changed


def set_caller_ids(conn: Connection, agent_id: int, username: str) -> dict[str, Any]:
    """The numbers ticked as 発信者番号 and the default among them; what changed."""
    wanted = request.form.getlist("caller_ids")
    default = request.form.get("default_caller_id", "")
    if default and default not in wanted:
        wanted.append(default)  # choosing a default allows that number
    before = {c.e164: c.default for c in numbers.caller_ids(conn, agent_id)}
    try:
        numbers.set_caller_ids(conn, username, wanted, default or None)
    except numbers.RoutingError as exc:
        raise FormError({"caller_ids": "; ".join(exc.problems.values())}) from None
    after = {c.e164: c.default for c in numbers.caller_ids(conn, agent_id)}
    return {} if before == after else {"from": before, "to": after}
