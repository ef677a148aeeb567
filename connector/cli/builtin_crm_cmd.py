"""``cti crm``: the built-in CRM from the command line (import, list, demo).

Messages follow the CLI language (``cti --lang``, ``[cli] language``: connector/messages.py).
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import click

from .. import clock, db
from ..builtin_crm import csv_import, demo, store
from ..messages import Text
from . import CliContext, pass_ctx

SUMMARY = Text("{file}: {rows}行中 {imported}件を取り込み、{skipped}件をスキップ",
               "{file}: {rows} rows, {imported} imported, {skipped} skipped")
DRY_SUMMARY = Text("{file}: {rows}行中 {imported}件を取り込み可能、{skipped}件をスキップ",
                   "{file}: {rows} rows, {imported} would be imported, {skipped} skipped")
ENCODING = Text("（文字コード {encoding}）", " (encoding {encoding})")
COLUMNS = Text("列の対応: {columns}", "columns: {columns}")
SKIPPED = Text("スキップした行:", "skipped:")
WARNINGS = Text("注意:", "warnings:")
DRY_RUN = Text("確認のみ（--dry-run）: 何も書き込んでいません", "dry run: nothing was written")
SHOWN = Text("（{total}件中 {shown}件を表示。--limit か検索語で絞り込めます）",
             "({shown} of {total} shown; use --limit or a query)")
HEADINGS = (Text("氏名", "NAME"), Text("会社名", "COMPANY"), Text("電話番号", "PHONES"))
DEMO_CREATED = Text("デモ用の顧客を{count}件作成しました", "created {count} demo customers")
DEMO_SKIPPED = Text("内蔵CRMには既に顧客がいるため、何も追加していません",
                    "the built-in CRM already has customers; nothing was added")


@click.group("crm")
def crm() -> None:
    """The built-in CRM: customers and their CSV import."""


@crm.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="Which column fills which field (repeatable; phone, tags and notes may take "
                   "several columns), e.g. --map name=氏名 --map phone=電話番号 --map phone=携帯. "
                   "Fields: name, name_kana, company, phone, tags, notes. Without any, columns "
                   "are recognised by their headers.")
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--allow-duplicates", is_flag=True,
              help="Import rows whose numbers other customers already have (with a warning) "
                   "instead of skipping them.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_ctx
def import_(ctx: CliContext, file: Path, mapping: tuple[str, ...], dry_run: bool,
            allow_duplicates: bool, as_json: bool) -> None:
    """Import customers from a CSV file (UTF-8 or Shift_JIS, header row first).

    Rows with problems are skipped and listed with their row number, column and reason; every
    other row is imported. Exits with 1 when any row was skipped.
    """
    try:
        csv_import.parse_mapping(mapping)
    except csv_import.MappingError as error:
        for problem in error.problems:
            click.echo(f"cti: --map {ctx.text(problem)}", err=True)
        sys.exit(2)
    with db.get_engine(ctx.app).begin() as conn:
        report = csv_import.import_customers(conn, file.read_bytes(), mapping,
                                             now=clock.now(ctx.app), dry_run=dry_run,
                                             allow_duplicates=allow_duplicates)
    if as_json:
        click.echo(json.dumps(report.to_dict(ctx.language), ensure_ascii=False, indent=2))
    else:
        _print_report(ctx, file, report)
    sys.exit(1 if report.errors else 0)


def _print_report(ctx: CliContext, file: Path, report: csv_import.ImportReport) -> None:
    summary = (DRY_SUMMARY if report.dry_run else SUMMARY).format(
        file=file.name, rows=report.rows, imported=report.imported,
        skipped=report.rows - report.imported)
    encoding = ENCODING.format(encoding=report.encoding) if report.encoding else Text("", "")
    click.echo(ctx.text(summary) + ctx.text(encoding))
    if report.mapping:
        click.echo(ctx.text(COLUMNS.format(columns=", ".join(
            f"{target}={column}" for target, columns in report.mapping.items()
            for column in columns))))
    for title, problems in ((SKIPPED, report.errors), (WARNINGS, report.warnings)):
        if problems:
            click.echo(ctx.text(title))
            for problem in problems:
                click.echo(f"  {problem.describe(ctx.language)}")
    if report.dry_run:
        click.echo(ctx.text(DRY_RUN))


@crm.command("list")
@click.argument("query", required=False, default="")
@click.option("--tag", default="", help="Only customers with this tag.")
@click.option("--limit", type=click.IntRange(1, store.MAX_PAGE), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def list_(ctx: CliContext, query: str, tag: str, limit: int, as_json: bool) -> None:
    """List customers, optionally matching QUERY (name, reading, company, tag or number)."""
    with db.get_engine(ctx.app).connect() as conn:
        customers, total = store.search(conn, query, tag=tag, limit=limit)
    if as_json:
        click.echo(json.dumps({"customers": customers, "total": total}, ensure_ascii=False,
                              indent=2))
        return
    name, company, numbers = (ctx.text(heading) for heading in HEADINGS)
    click.echo(f"{'ID':>6}  {_pad(name, 16)}  {_pad(company, 20)}  {numbers}")
    for customer in customers:
        phones = ", ".join(phone["display"] for phone in customer["phones"])
        click.echo(f"{customer['id']:>6}  {_pad(customer['name'], 16)}  "
                   f"{_pad(customer['company'], 20)}  {phones}")
    if total > len(customers):
        click.echo(ctx.text(SHOWN.format(shown=len(customers), total=total)))


@crm.command("demo")
@pass_ctx
def demo_(ctx: CliContext) -> None:
    """Add the demo customers (only into an empty built-in CRM)."""
    with db.get_engine(ctx.app).begin() as conn:
        created = demo.create_demo_data(conn, clock.now(ctx.app))
    click.echo(ctx.text(DEMO_CREATED.format(count=created) if created else DEMO_SKIPPED))


def _pad(text: str, width: int) -> str:
    """Pad to ``width`` terminal columns: Japanese characters take two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)
