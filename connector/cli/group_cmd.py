"""``cti group``: groups of agents, their ring strategy, queue and targets, members' skills
(SPEC CF-5, CF-6).

Every change goes through :func:`connector.acd.groups.save`, the function the admin API and the
console use, so the rules and the field names in the errors are the same everywhere.

Examples::

    cti group add support --name サポート --members sato,ito strategy=skill ring_seconds=15
    cti group set support max_waiting=5 overflow=group:sales timeout=voicemail
    cti group member skill support ito 2
    cti group export -o groups.toml
    cti group import groups.toml
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import click

from voice.acd.settings import SettingsError, from_stored, from_text, target_text

from .. import clock, db
from ..acd import groups as acd_groups
from ..auth import accounts
from ..voice import groups
from ..voice.groups import GroupError
from . import CliContext, fail, pass_ctx
from .config_cmd import to_toml

#: What a group's table in an export file may hold.
FILE_KEYS = ("display_name", "members", "skills", "settings")


def _members(value: str | None) -> list[str] | None:
    return None if value is None else [m.strip() for m in value.split(",") if m.strip()]


def _assignments(values: tuple[str, ...]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r}: write settings as key=value",
                                     param_hint="SETTINGS")
        settings[key.strip()] = from_text(key.strip(), text)
    return settings


def _save(ctx: CliContext, name: str, *, create: bool, **parts: Any) -> groups.Group:
    with db.get_engine(ctx.app).begin() as conn:
        try:
            return acd_groups.save(conn, name, create=create, now=clock.now(ctx.app), **parts)
        except SettingsError as exc:
            fail("the group was not saved", exc.problems)
    raise AssertionError("unreachable")


def _group_or_exit(conn: Any, name: str) -> groups.Group:
    group = groups.get_group(conn, name)
    if group is None:
        fail(f"group {name!r} does not exist")
    assert group is not None
    return group


def _member_text(group: groups.Group) -> str:
    return ", ".join(f"{m}:{s}" for m, s in zip(group.members, group.skills, strict=False))


@click.group("group")
def group() -> None:
    """Groups of agents: ring strategy, queue, overflow and timeout targets, skills."""


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def group_list(ctx: CliContext, as_json: bool) -> None:
    """List groups: strategy and members (user:skill level, in ring order)."""
    with db.get_engine(ctx.app).connect() as conn:
        found = groups.list_groups(conn)
    if as_json:
        click.echo(json.dumps([acd_groups.describe(g) for g in found], ensure_ascii=False,
                              indent=2))
        return
    click.echo(f"{'GROUP':<16}  {'STRATEGY':<12}  {'NAME':<14}  MEMBERS")
    for g in found:
        strategy = from_stored(g.settings).strategy
        click.echo(f"{g.name:<16}  {strategy:<12}  {g.display_name or '-':<14}  "
                   f"{_member_text(g) or '(no members)'}")


@group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def group_show(ctx: CliContext, name: str, as_json: bool) -> None:
    """Every setting of one group, as ``cti group set`` takes them."""
    with db.get_engine(ctx.app).connect() as conn:
        found = _group_or_exit(conn, name)
    if as_json:
        click.echo(json.dumps(acd_groups.describe(found), ensure_ascii=False, indent=2))
        return
    settings = from_stored(found.settings)
    click.echo(f"group        {found.name}")
    click.echo(f"name         {found.display_name}")
    click.echo(f"members      {_member_text(found) or '(no members)'}")
    for key, value in settings.public().items():
        shown = target_text(getattr(settings, key)) if key in ("overflow", "timeout") else value
        click.echo(f"{key}={shown}")


_SETTINGS_ARG = click.argument("settings", nargs=-1, metavar="[KEY=VALUE]...")
_HELP_SETTINGS = ("KEY=VALUE sets a setting (see `cti group show`), e.g. strategy=round_robin, "
                  "overflow=group:sales, timeout=voicemail, color=#1E88E5.")


@group.command("add", epilog=_HELP_SETTINGS)
@click.argument("name")
@_SETTINGS_ARG
@click.option("--name", "display_name", help="Display name, e.g. サポート.")
@click.option("--members", help="User IDs in ring order, comma-separated.")
@pass_ctx
def group_add(ctx: CliContext, name: str, settings: tuple[str, ...], display_name: str | None,
              members: str | None) -> None:
    """Add a group."""
    saved = _save(ctx, name, create=True, display_name=display_name,
                  members=_members(members), settings=_assignments(settings) or None)
    click.echo(f"added group {saved.name}: {', '.join(saved.members) or '(no members)'}")


@group.command("set", epilog=_HELP_SETTINGS)
@click.argument("name")
@_SETTINGS_ARG
@click.option("--name", "display_name", help="Display name.")
@click.option("--members", help="User IDs in ring order, comma-separated (replaces them).")
@pass_ctx
def group_set(ctx: CliContext, name: str, settings: tuple[str, ...], display_name: str | None,
              members: str | None) -> None:
    """Change a group's name, members or settings (the others stay as they are)."""
    saved = _save(ctx, name, create=False, display_name=display_name,
                  members=_members(members), settings=_assignments(settings) or None)
    click.echo(f"changed group {saved.name}: {', '.join(saved.members) or '(no members)'}")


@group.command("remove")
@click.argument("name")
@pass_ctx
def group_remove(ctx: CliContext, name: str) -> None:
    """Remove a group no number uses."""
    with db.get_engine(ctx.app).begin() as conn:
        try:
            removed = groups.delete_group(conn, name)
        except GroupError as exc:
            fail("not removed", exc.problems)
    if not removed:
        fail(f"group {name!r} does not exist")
    click.echo(f"removed group {name}")


# --- members --------------------------------------------------------------------------------

@group.group("member")
def member() -> None:
    """A group's members and their skill levels (1 = best)."""


@member.command("add")
@click.argument("name")
@click.argument("agent")
@click.option("--skill", type=int, default=None, help="Skill level 1 (best) to 9; default 1.")
@pass_ctx
def member_add(ctx: CliContext, name: str, agent: str, skill: int | None) -> None:
    """Add an agent at the end of the ring order."""
    username = accounts.normalize_username(agent)
    with db.get_engine(ctx.app).connect() as conn:
        current = _group_or_exit(conn, name)
    if username in current.members:
        fail(f"{username} is a member of {name} already")
    saved = _save(ctx, name, create=False, members=[*current.members, username],
                  skills=None if skill is None else {username: skill})
    click.echo(f"{name}: {_member_text(saved)}")


@member.command("remove")
@click.argument("name")
@click.argument("agent")
@pass_ctx
def member_remove(ctx: CliContext, name: str, agent: str) -> None:
    """Take an agent out of the group."""
    username = accounts.normalize_username(agent)
    with db.get_engine(ctx.app).connect() as conn:
        current = _group_or_exit(conn, name)
    if username not in current.members:
        fail(f"{username} is not a member of {name}")
    saved = _save(ctx, name, create=False,
                  members=[m for m in current.members if m != username])
    click.echo(f"{name}: {_member_text(saved) or '(no members)'}")


@member.command("skill")
@click.argument("name")
@click.argument("agent")
@click.argument("level", type=int)
@pass_ctx
def member_skill(ctx: CliContext, name: str, agent: str, level: int) -> None:
    """Set a member's skill level (1 = best; skill-weighted groups ring level 1 first)."""
    saved = _save(ctx, name, create=False, skills={agent: level})
    click.echo(f"{name}: {_member_text(saved)}")


# --- export / import ------------------------------------------------------------------------

@group.command("export")
@click.argument("names", nargs=-1)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@pass_ctx
def group_export(ctx: CliContext, names: tuple[str, ...], output: Path | None) -> None:
    """Write groups (all, or those named) as TOML that ``cti group import`` reads."""
    with db.get_engine(ctx.app).connect() as conn:
        found = [_group_or_exit(conn, n) for n in names] if names else groups.list_groups(conn)
    data = {"groups": {g.name: _file_table(g) for g in found}}
    text = to_toml(data)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(found)} groups to {output}")


def _file_table(found: groups.Group) -> dict[str, Any]:
    settings = {k: v for k, v in from_stored(found.settings).public().items() if v is not None}
    return {"display_name": found.display_name, "members": list(found.members),
            "skills": dict(zip(found.members, found.skills, strict=False)),
            "settings": settings}


@group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def group_import(ctx: CliContext, path: Path) -> None:
    """Create or replace the groups of a TOML file, all or none.

    Each group's settings are the file's (a setting left out takes its default); groups not
    in the file stay as they are. Groups of the file may name each other as targets.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        fail(f"{path}: not TOML: {exc}")
    tables = data.get("groups")
    if not isinstance(tables, dict) or set(data) - {"groups"}:
        fail(f"{path}: expected only [groups.<name>] tables")
    problems = {f"groups.{n}.{k}": "unknown key" for n, t in tables.items()
                if isinstance(t, dict) for k in t if k not in FILE_KEYS}
    problems.update({f"groups.{n}": "a table" for n, t in tables.items()
                     if not isinstance(t, dict)})
    if problems:
        fail("nothing was imported", problems)
    now = clock.now(ctx.app)
    with db.get_engine(ctx.app).begin() as conn:
        created = []
        for name, table in tables.items():  # first every group, so targets can name them
            create = groups.get_group(conn, name) is None
            created += [name] if create else []
            _import_step(conn, name, create=create, now=now,
                         display_name=table.get("display_name", ""),
                         members=table.get("members", []))
        for name, table in tables.items():
            _import_step(conn, name, create=False, now=now, settings=table.get("settings", {}),
                         skills=table.get("skills", {}), replace=True)
    click.echo(f"imported {len(tables)} groups ({len(created)} new) from {path}")


def _import_step(conn: Any, name: str, **parts: Any) -> None:
    try:
        acd_groups.save(conn, name, **parts)
    except SettingsError as exc:
        fail("nothing was imported", {f"groups.{name}.{k}": v for k, v in exc.problems.items()})
