"""``cti number`` and ``cti numbers block|restrict``: routing data (CF-1, CF-9); groups are
``cti group`` (:mod:`.group_cmd`).

Examples::

    cti number add 050-1234-5678 --label サポート --route group:support --fallback voicemail
    cti number set 050-1234-5678 --max-channels 2 --overflow voicemail \
        --ring-popup-url 'https://crm.example.jp/search?tel=@@@@'
    cti number grant 050-1234-5678 sato ito --default
    cti numbers block add 090-1234-5678 --note 迷惑電話
    cti numbers restrict import restrict.csv
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from voice.numbering import NumberError

from .. import clock, db
from ..messages import Text
from ..voice import number_lists, numbers
from ..voice.numbers import NumberChanges, Route, RoutingError
from . import CliContext, fail, pass_ctx


def _route(value: str | None, name: str) -> Route | None:
    if value is None:
        return None
    try:
        return Route.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{name}") from None


# --- cti number -------------------------------------------------------------------------------

@click.group("number")
def number() -> None:
    """Our phone numbers: where their calls go, who may call from them."""


def _number_options(command: Any) -> Any:
    options = [
        click.option("--label", help="Name shown to agents, e.g. サポート窓口."),
        click.option("--route", help="agent:<user>, group:<name>, voicemail, external:<number> "
                                     "or none."),
        click.option("--fallback", help="Where calls go when the route finds nobody (same "
                                        "forms)."),
        click.option("--recording/--no-recording", default=None, help="Record calls (CF-10)."),
        click.option("--caller-id-name", help="Caller-ID display name: the called line's name "
                                              "on the agent's softphone (端末表示名)."),
        click.option("--max-channels", type=int, help="Calls the number carries at once "
                                                      "(0: no limit)."),
        click.option("--overflow", help="Where calls over --max-channels go (route forms; "
                                        "none: a busy announcement)."),
        click.option("--ring-popup-url", help="Page the softphone opens when a call rings; "
                                              "@@@@ is the caller's number (\"\" removes it)."),
        click.option("--answer-popup-url", help="Page the softphone opens when a call is "
                                                "answered; @@@@ is the caller's number."),
        click.option("--transfer-caller-id", help="Caller ID of external transfers (default: "
                                                  "the called number)."),
        click.option("--active/--inactive", default=None, help="Inactive numbers announce "
                                                               "that they take no calls."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _save(ctx: CliContext, e164: str, options: dict[str, Any], *, create: bool) -> None:
    changes = NumberChanges(
        label=options["label"], route=_route(options["route"], "route"),
        fallback=_route(options["fallback"], "fallback"), recording=options["recording"],
        caller_id_name=options["caller_id_name"],
        transfer_caller_id=options["transfer_caller_id"], active=options["active"],
        max_channels=options["max_channels"], overflow=_route(options["overflow"], "overflow"),
        ring_popup_url=options["ring_popup_url"], answer_popup_url=options["answer_popup_url"])
    with db.get_engine(ctx.app).begin() as conn:
        try:
            normalized = numbers.normalize_number(e164)
            exists = numbers.get_number(conn, normalized) is not None
            if exists and create:
                fail(f"{normalized} exists already; change it with `cti number set`")
            if not exists and not create:
                fail(f"{normalized} is not one of our numbers; add it with `cti number add`")
            saved = numbers.save_number(conn, normalized, changes, now=clock.now(ctx.app))
        except RoutingError as exc:
            fail("the number was not saved", exc.problems)
    click.echo(f"{'added' if create else 'changed'} {_describe(saved)}")


def _describe(n: numbers.PhoneNumber) -> str:
    extras = [f"fallback {n.fallback}"] if n.fallback.type != "none" else []
    if n.recording:
        extras.append("recorded")
    if n.max_channels:
        overflow = f", over it {n.overflow}" if n.overflow.type != "none" else ""
        extras.append(f"{n.max_channels} channel(s){overflow}")
    if n.caller_id_name:
        extras.append(f"shown as {n.caller_id_name}")
    for event, url in (("ring", n.ring_popup_url), ("answer", n.answer_popup_url)):
        if url:
            extras.append(f"{event} pop-up {url}")
    if not n.active:
        extras.append("inactive")
    label = f" ({n.label})" if n.label else ""
    return f"{n.display}{label} → {n.route}" + (f"  [{', '.join(extras)}]" if extras else "")


@number.command("add")
@click.argument("e164")
@_number_options
@pass_ctx
def number_add(ctx: CliContext, e164: str, **options: Any) -> None:
    """Add one of our numbers."""
    _save(ctx, e164, options, create=True)


@number.command("set")
@click.argument("e164")
@_number_options
@pass_ctx
def number_set(ctx: CliContext, e164: str, **options: Any) -> None:
    """Change a number; options not given stay as they are."""
    _save(ctx, e164, options, create=False)


@number.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def number_list(ctx: CliContext, as_json: bool) -> None:
    """List our numbers and their routes."""
    with db.get_engine(ctx.app).connect() as conn:
        found = numbers.list_numbers(conn)
    if as_json:
        click.echo(json.dumps([n.public() for n in found], ensure_ascii=False, indent=2))
        return
    for n in found:
        click.echo(_describe(n))


@number.command("remove")
@click.argument("e164")
@pass_ctx
def number_remove(ctx: CliContext, e164: str) -> None:
    """Remove a number (its calls then hear the unconfigured-number announcement)."""
    with db.get_engine(ctx.app).begin() as conn:
        try:
            removed = numbers.delete_number(conn, numbers.normalize_number(e164))
        except RoutingError as exc:
            fail("not removed", exc.problems)
    if not removed:
        fail(f"{e164} is not one of our numbers")
    click.echo(f"removed {e164}")


@number.command("grant")
@click.argument("e164")
@click.argument("usernames", nargs=-1, required=True)
@click.option("--default", "as_default", is_flag=True, help="Make it their default caller ID.")
@pass_ctx
def number_grant(ctx: CliContext, e164: str, usernames: tuple[str, ...],
                 as_default: bool) -> None:
    """Let agents call from this number (SP-3)."""
    with db.get_engine(ctx.app).begin() as conn:
        try:
            for username in usernames:
                numbers.grant_caller_id(conn, username, e164, default=as_default)
        except RoutingError as exc:
            fail("nothing was changed", exc.problems)
    click.echo(f"{', '.join(usernames)} may call from {e164}" + (" (default)" if as_default
                                                                 else ""))


@number.command("revoke")
@click.argument("e164")
@click.argument("usernames", nargs=-1, required=True)
@pass_ctx
def number_revoke(ctx: CliContext, e164: str, usernames: tuple[str, ...]) -> None:
    """Stop agents calling from this number."""
    with db.get_engine(ctx.app).begin() as conn:
        try:
            for username in usernames:
                numbers.revoke_caller_id(conn, username, e164)
        except RoutingError as exc:
            fail("nothing was changed", exc.problems)
    click.echo(f"{', '.join(usernames)} may no longer call from {e164}")


# --- cti numbers block|restrict ---------------------------------------------------------------
# Messages follow the CLI language (cti --lang, [cli] language): connector/messages.py.

LIST_NAMES = {"block": Text("着信拒否リスト", "block list"),
              "restrict": Text("発信規制リスト", "restriction list")}
ADDED = Text("追加しました: {pattern}", "added {pattern}")
ALREADY_LISTED = Text("登録済みです: {pattern}", "already listed: {pattern}")
REMOVED = Text("削除しました: {pattern}", "removed {pattern}")
NOT_LISTED = Text("{pattern!r} は{list}にありません", "{pattern!r} is not on the {list}")
BAD_PATTERN = Text("{pattern!r}: {reason}", "{pattern!r}: {reason}")
IMPORTED = Text("{added}件を追加、{existing}件は登録済み、{refused}件は取り込めませんでした",
                "added {added}, already listed {existing}, refused {refused}")
PREVIEWED = Text("確認のみ（登録していません）: {added}件を追加予定、{existing}件は登録済み、"
                 "{refused}件は取り込めません",
                 "dry run (nothing added): would add {added}, already listed {existing}, "
                 "would refuse {refused}")
REFUSED_ROW = Text("{message}（値: {value!r}）", "{message} ({value!r})")


@click.group("numbers")
def number_list_group() -> None:
    """Block list (着信拒否) and restriction list (発信規制)."""


def _list_commands(list_name: str) -> click.Group:
    label = number_lists.LABELS[list_name]
    commands = click.Group(list_name, help=f"The {list_name} list ({label}).")

    @commands.command("list")
    @pass_ctx
    def list_(ctx: CliContext) -> None:
        """Show the rules."""
        with db.get_engine(ctx.app).connect() as conn:
            for rule in number_lists.list_rules(conn, list_name):
                click.echo(f"{rule.pattern:<20} {rule.note}".rstrip())

    @commands.command("add")
    @click.argument("pattern")
    @click.option("--note", default="", help="Why (shown to admins).")
    @pass_ctx
    def add(ctx: CliContext, pattern: str, note: str) -> None:
        """Add a number, a prefix ending in * (0120*), a short code or 'anonymous'."""
        with db.get_engine(ctx.app).begin() as conn:
            try:
                rule, created = number_lists.add_rule(conn, list_name, pattern, note,
                                                      now=clock.now(ctx.app))
            except NumberError as exc:
                fail(ctx.text(BAD_PATTERN.format(pattern=pattern, reason=Text.of(exc))))
        click.echo(ctx.text((ADDED if created else ALREADY_LISTED).format(pattern=rule.pattern)))

    @commands.command("remove")
    @click.argument("pattern")
    @pass_ctx
    def remove(ctx: CliContext, pattern: str) -> None:
        """Remove a rule (give the pattern in any form)."""
        with db.get_engine(ctx.app).begin() as conn:
            try:
                removed = number_lists.remove_rule(conn, list_name, pattern=pattern)
            except NumberError as exc:
                fail(ctx.text(BAD_PATTERN.format(pattern=pattern, reason=Text.of(exc))))
        if not removed:
            fail(ctx.text(NOT_LISTED.format(pattern=pattern, list=LIST_NAMES[list_name])))
        click.echo(ctx.text(REMOVED.format(pattern=pattern)))

    @commands.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check the file and report; add nothing.")
    @pass_ctx
    def import_(ctx: CliContext, file: Path, dry_run: bool) -> None:
        """Add the rules of a CSV file (number[,note]; UTF-8 or Shift_JIS)."""
        with db.get_engine(ctx.app).begin() as conn:
            report = number_lists.import_csv(conn, list_name, file.read_bytes(),
                                             now=clock.now(ctx.app), dry_run=dry_run)
        summary = PREVIEWED if dry_run else IMPORTED
        click.echo(ctx.text(summary.format(added=report.added, existing=report.existing,
                                           refused=len(report.errors))))
        for error in report.errors:
            click.echo("  " + ctx.text(REFUSED_ROW.format(message=Text.of(error),
                                                          value=error.value)), err=True)
        if report.errors:
            sys.exit(1)

    return commands


number_list_group.add_command(_list_commands("block"))
number_list_group.add_command(_list_commands("restrict"))
