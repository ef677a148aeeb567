"""Groups of agents that a number can ring together (SPEC CF-5; ring-all until the ACD).

Members are kept in order (``position``): when more than ten are available, the first ten
ring (Twilio rings at most ten parties of one ``<Dial>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from ..auth import accounts
from ..schema import agent_group_members, agent_groups, agents, phone_numbers
from . import versions

NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,50}")


class GroupError(ValueError):
    """Unusable group settings; ``problems`` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    display_name: str
    members: tuple[str, ...]  # usernames, in ring order
    member_ids: tuple[int, ...]
    settings: dict[str, Any] = field(default_factory=dict)  # ACD (voice.acd.settings)
    skills: tuple[int, ...] = ()  # each member's skill level (1 = best), as member_ids

    def skill_at(self, position: int) -> int:
        """The skill level of the member at ``position`` of ``member_ids`` (1 when unset).

        Routing asks this once per member, so it is an index (looking a member up by id had
        built a dict of every member each time: 25 dicts per decision for a group of 25).
        """
        return self.skills[position] if position < len(self.skills) else 1

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "display_name": self.display_name,
                "members": list(self.members)}

    @property
    def label(self) -> str:
        return self.display_name or self.name


def get_group(conn: Connection, name: str) -> Group | None:
    row = conn.execute(select(agent_groups).where(agent_groups.c.name == name)).first()
    return _group(conn, row) if row else None


def get_group_by_id(conn: Connection, group_id: int) -> Group | None:
    row = conn.execute(select(agent_groups).where(agent_groups.c.id == group_id)).first()
    return _group(conn, row) if row else None


def list_groups(conn: Connection) -> list[Group]:
    rows = conn.execute(select(agent_groups).order_by(agent_groups.c.name)).all()
    return [_group(conn, row) for row in rows]


def save_group(conn: Connection, name: str, *, display_name: str | None = None,
               members: list[str] | None = None, now: datetime) -> Group:
    """Create or change a group; ``members`` (user IDs, in ring order) replaces the members.

    Raises:
        GroupError: A bad name or unknown members.
    """
    if not NAME_RE.fullmatch(name):
        raise GroupError({"name": "1 to 50 letters, digits, '-' or '_'"})
    member_ids = _member_ids(conn, members) if members is not None else None
    current = get_group(conn, name)
    if current is None:
        conn.execute(insert(agent_groups).values(name=name, display_name=display_name or "",
                                                 created_at=now, updated_at=now))
    else:
        values: dict[str, Any] = {"updated_at": now}
        if display_name is not None:
            values["display_name"] = display_name
        conn.execute(update(agent_groups).where(agent_groups.c.id == current.id).values(**values))
    group = get_group(conn, name)
    assert group is not None
    if member_ids is not None:
        # Members who stay keep their skill level: changing who is in a group is not a
        # change of anyone's skill.
        kept = dict(zip(group.member_ids, group.skills, strict=False))
        conn.execute(delete(agent_group_members).where(
            agent_group_members.c.group_id == group.id))
        for position, agent_id in enumerate(member_ids):
            conn.execute(insert(agent_group_members).values(
                group_id=group.id, agent_id=agent_id, position=position,
                skill=kept.get(agent_id, 1)))
        group = get_group(conn, name)
        assert group is not None
    versions.bump(conn, "routing")
    return group


def delete_group(conn: Connection, name: str) -> bool:
    """Delete a group no number routes to; False if there was none.

    Raises:
        GroupError: Numbers still route (or fall back) to it.
    """
    using = conn.execute(select(phone_numbers.c.e164).where(
        ((phone_numbers.c.route_type == "group") & (phone_numbers.c.route_target == name))
        | ((phone_numbers.c.fallback_type == "group")
           & (phone_numbers.c.fallback_target == name)))).scalars().all()
    if using:
        raise GroupError({"name": f"numbers still use this group: {', '.join(using)}"})
    deleted = conn.execute(delete(agent_groups).where(agent_groups.c.name == name)).rowcount
    versions.bump(conn, "routing")
    return bool(deleted)


def _member_ids(conn: Connection, usernames: list[str]) -> list[int]:
    ids, unknown = [], []
    for username in dict.fromkeys(accounts.normalize_username(u) for u in usernames):
        agent = accounts.find_agent(conn, username)
        if agent is None:
            unknown.append(username)
        else:
            ids.append(agent.id)
    if unknown:
        raise GroupError({"members": f"unknown user IDs: {', '.join(unknown)}"})
    return ids


def _group(conn: Connection, row: Any) -> Group:
    members = conn.execute(select(agents.c.id, agents.c.username,
                                  agent_group_members.c.skill).join(
        agent_group_members, agent_group_members.c.agent_id == agents.c.id).where(
        agent_group_members.c.group_id == row.id).order_by(
        agent_group_members.c.position, agents.c.username)).all()
    return Group(row.id, row.name, row.display_name, tuple(m.username for m in members),
                 tuple(m.id for m in members), dict(row.settings or {}),
                 tuple(m.skill for m in members))
