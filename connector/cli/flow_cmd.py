"""``cti flow``: call flows as TOML files, schedule overrides and announcement audio.

Examples::

    cti flow check main.toml
    cti flow import main.toml
    cti flow export main -o main.toml
    cti flow override main hours closed --for 3h --note 本日は臨時休業
    cti flow override main hours --clear
    cti flow audio add closed.wav
"""

from __future__ import annotations

import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import click

from voice.flows import audio as audio_check
from voice.flows.model import FlowError

from .. import clock, db
from ..flows import store
from . import CliContext, pass_ctx

_DURATION = re.compile(r"(\d+)\s*(m|min|h|d)")
_UNIT_MINUTES = {"m": 1, "min": 1, "h": 60, "d": 24 * 60}


def _fail_flow(exc: FlowError, source: str = "") -> None:
    prefix = f"{source}: " if source else ""
    click.echo(f"cti: {prefix}{len(exc.problems)} problem(s) in the flow", err=True)
    for problem in exc.problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(1)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="FILE") from None


@click.group("flow")
def flow() -> None:
    """Call flows: business hours, menus, announcements, voicemail (docs/call-flows.md)."""


@flow.command("check")
@click.argument("path", metavar="FILE")
@pass_ctx
def check(ctx: CliContext, path: str) -> None:
    """Check a flow file against this deployment (groups, agents, numbers, audio)."""
    text = _read(path)
    with db.get_engine(ctx.app).connect() as conn:
        try:
            parsed = store.check_text(conn, text)
        except FlowError as exc:
            _fail_flow(exc, path)
    click.echo(f"{path}: flow {parsed.name!r} is valid ({len(parsed.nodes)} nodes, "
               f"entry {parsed.entry!r})")


@flow.command("import")
@click.argument("path", metavar="FILE")
@pass_ctx
def import_(ctx: CliContext, path: str) -> None:
    """Store FILE as the flow's next version; new calls use it at once."""
    text = _read(path)
    with db.get_engine(ctx.app).begin() as conn:
        try:
            stored, changed = store.import_flow(conn, text, now=clock.now(ctx.app))
        except FlowError as exc:
            _fail_flow(exc, path)
    state = f"version {stored.version}" if changed else f"unchanged (version {stored.version})"
    click.echo(f"flow {stored.flow.name!r}: {state}")


@flow.command("export")
@click.argument("name")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file.")
@click.option("--version", "version", type=int, help="An older version (default: newest).")
@pass_ctx
def export(ctx: CliContext, name: str, output: str | None, version: int | None) -> None:
    """Print the flow NAME as TOML (what `cti flow import` reads back)."""
    with db.get_engine(ctx.app).connect() as conn:
        stored = store.get_flow(conn, name, version) if version else store.latest(conn, name)
    if stored is None:
        click.echo(f"cti: no flow {name!r}" + (f" version {version}" if version else ""),
                   err=True)
        sys.exit(1)
    if output:
        Path(output).write_text(stored.source, encoding="utf-8")
        click.echo(f"wrote {output} (flow {name!r} version {stored.version})")
    else:
        click.echo(stored.source, nl=False)


@flow.command("list")
@pass_ctx
def list_(ctx: CliContext) -> None:
    """Every flow, its newest version and its overrides."""
    with db.get_engine(ctx.app).connect() as conn:
        found, overrides = store.latest_all(conn), store.overrides(conn)
    now = clock.now(ctx.app)
    for name in sorted(found):
        stored = found[name]
        click.echo(f"{name}\tversion {stored.version}\t{len(stored.flow.nodes)} nodes\t"
                   f"{stored.flow.description}")
        for node, override in sorted(overrides.get(name, {}).items()):
            if override.until > now:
                click.echo(f"  override {node} → {override.goto} until "
                           f"{override.until.isoformat()} {override.note}")


@flow.command("override")
@click.argument("name")
@click.argument("node")
@click.argument("goto", required=False)
@click.option("--for", "duration", help="How long: 30m, 3h, 2d.")
@click.option("--until", "until", help="Until this time (ISO, with offset).")
@click.option("--note", default="", help="Why, e.g. 本日は臨時休業.")
@click.option("--clear", is_flag=True, help="End the override now.")
@pass_ctx
def override(ctx: CliContext, name: str, node: str, goto: str | None, duration: str | None,
             until: str | None, note: str, clear: bool) -> None:
    """Send calls at schedule NODE of flow NAME to GOTO for a while (or --clear)."""
    now = clock.now(ctx.app)
    with db.get_engine(ctx.app).begin() as conn:
        if clear:
            done = store.clear_override(conn, name, node)
            click.echo("override cleared" if done else "no override on that node")
            return
        if not goto:
            raise click.BadParameter("give the node to go to (or --clear)", param_hint="GOTO")
        try:
            made = store.set_override(conn, name, node, goto, _until(now, duration, until),
                                      now=now, note=note)
        except FlowError as exc:
            _fail_flow(exc)
    click.echo(f"calls at {name}/{node} go to {made.goto} until {made.until.isoformat()}")


def _until(now: datetime, duration: str | None, until: str | None) -> datetime:
    if bool(duration) == bool(until):
        raise click.BadParameter("give --for or --until (one of them)")
    if duration:
        match = _DURATION.fullmatch(duration.strip())
        if not match:
            raise click.BadParameter(f"{duration!r} is not a duration such as 30m, 3h, 2d",
                                     param_hint="--for")
        return now + timedelta(minutes=int(match[1]) * _UNIT_MINUTES[match[2]])
    try:
        moment = datetime.fromisoformat(until or "")
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise click.BadParameter("an ISO time with its offset, e.g. 2026-12-06T18:00+09:00",
                                 param_hint="--until")
    return moment


@flow.group("audio")
def audio() -> None:
    """Announcement audio files (WAV 8 kHz mono 16-bit recommended; MP3, AIFF)."""


@audio.command("add")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", help="The name flows use (default: the file name).")
@pass_ctx
def audio_add(ctx: CliContext, path: str, name: str | None) -> None:
    """Upload FILE after checking its format by content."""
    data = Path(path).read_bytes()
    try:
        info = audio_check.inspect(data)
        chosen = audio_check.check_name(name or Path(path).name)
    except audio_check.AudioError as exc:
        click.echo(f"cti: {path}: {exc}", err=True)
        sys.exit(1)
    with db.get_engine(ctx.app).begin() as conn:
        store.save_audio(conn, chosen, info.content_type, info.description, data,
                         now=clock.now(ctx.app))
    note = "" if info.recommended else " (Twilio converts it; WAV 8 kHz mono 16-bit is best)"
    click.echo(f"audio {chosen!r}: {info.description}, {len(data)} bytes{note}")


@audio.command("list")
@pass_ctx
def audio_list(ctx: CliContext) -> None:
    """Uploaded audio files."""
    with db.get_engine(ctx.app).connect() as conn:
        for item in store.list_audio(conn):
            click.echo(f"{item.name}\t{item.description}\t{item.size} bytes")
