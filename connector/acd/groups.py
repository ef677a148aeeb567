"""A group's ACD configuration in the database: settings (JSON) and members' skill levels.

:func:`configure` validates everything first — each problem under its field name — including
that overflow and timeout targets exist (another group, an agent), so a group never refers
to something missing. Saving bumps the routing version: every process sees it on its next call.

:func:`save` is the whole group at once (name, members, settings, skills) for the admin API,
the console and ``cti group``: one set of rules, every problem under its full field name
(``members``, ``settings.overflow``, ``skills.sato``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, update

from voice.acd.settings import GroupSettings, SettingsError, from_stored, parse, to_stored

from ..auth import accounts
from ..schema import agent_group_members, agent_groups
from ..voice import groups, versions


def configure(conn: Connection, name: str, *, settings: Mapping[str, Any] | None = None,
              skills: Mapping[str, int] | None = None) -> groups.Group:
    """Change the group's ACD settings (merged over the current ones) and skill levels.

    Raises:
        SettingsError: Bad settings, a missing target, or skills of non-members.
    """
    group = groups.get_group(conn, name)
    if group is None:
        raise SettingsError({"name": f"no group named {name!r}"})
    merged = parse(settings or {}, from_stored(group.settings)) if settings else None
    problems = _target_problems(conn, merged, group.name) if merged else {}
    problems.update(_skill_problems(group, skills or {}))
    if problems:
        raise SettingsError(problems)
    if merged is not None:
        conn.execute(update(agent_groups).where(agent_groups.c.id == group.id).values(
            settings=to_stored(merged)))
    for username, level in (skills or {}).items():
        agent_id = dict(zip(group.members, group.member_ids, strict=True))[
            accounts.normalize_username(username)]
        conn.execute(update(agent_group_members).where(
            agent_group_members.c.group_id == group.id,
            agent_group_members.c.agent_id == agent_id).values(skill=level))
    versions.bump(conn, "routing")
    found = groups.get_group(conn, name)
    assert found is not None
    return found


def save(conn: Connection, name: str, *, create: bool, now: datetime,
         display_name: str | None = None, members: list[str] | None = None,
         settings: Mapping[str, Any] | None = None, skills: Mapping[str, int] | None = None,
         replace: bool = False) -> groups.Group:
    """Create (``create``) or change a group with its ACD settings and skills, validated as one.

    ``replace``: the settings are the whole set (missing keys take their defaults, as an
    import means); otherwise they are merged over the current ones. Call it inside a
    transaction: on a problem it raises after writing, and the rollback undoes the writes.

    Raises:
        SettingsError: Each problem under its full field name.
    """
    current = groups.get_group(conn, name)
    if create and current is not None:
        raise SettingsError({"name": f"a group named {name!r} exists already"})
    if not create and current is None:
        raise SettingsError({"name": f"no group named {name!r}"})
    problems: dict[str, str] = {}
    if settings is not None:
        base = None if replace or current is None else from_stored(current.settings)
        try:
            parse(settings, base)
        except SettingsError as exc:
            problems.update({f"settings.{k}": v for k, v in exc.problems.items()})
    if members is not None and not all(isinstance(m, str) for m in members):
        problems["members"] = "a list of user IDs"
    if problems:
        raise SettingsError(problems)
    try:
        groups.save_group(conn, name, display_name=display_name, members=members, now=now)
    except groups.GroupError as exc:
        raise SettingsError(dict(exc.problems)) from None
    if replace and settings is not None:
        conn.execute(update(agent_groups).where(agent_groups.c.name == name).values(settings={}))
    try:
        return configure(conn, name, settings=settings, skills=skills)
    except SettingsError as exc:
        raise SettingsError({(k if k.startswith("skills.") else f"settings.{k}"): v
                             for k, v in exc.problems.items()}) from None


def describe(group: groups.Group) -> dict[str, Any]:
    """The group with its ACD settings and members' skills, for the API and the CLI."""
    return {**group.public(), "settings": from_stored(group.settings).public(),
            "skills": dict(zip(group.members, group.skills, strict=False))}


def _target_problems(conn: Connection, settings: GroupSettings, own: str) -> dict[str, str]:
    problems = {}
    for name in ("overflow", "timeout"):
        target = getattr(settings, name)
        if target is None:
            continue
        if target.type == "group" and (target.value == own
                                       or groups.get_group(conn, target.value) is None):
            problems[name] = (f"value: no group named {target.value!r}" if target.value != own
                              else "value: a group cannot overflow to itself")
        if target.type == "agent" and accounts.find_agent(conn, target.value) is None:
            problems[name] = f"value: no agent with user ID {target.value!r}"
    return problems


def _skill_problems(group: groups.Group, skills: Mapping[str, int]) -> dict[str, str]:
    problems = {}
    for username, level in skills.items():
        key = f"skills.{username}"
        if accounts.normalize_username(username) not in group.members:
            problems[key] = "not a member of this group"
        elif not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 9:
            problems[key] = "a skill level from 1 (best) to 9"
    return problems
