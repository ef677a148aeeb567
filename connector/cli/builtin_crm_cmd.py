"""``cti crm``: the built-in CRM from the command line (import, list, demo)."""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import click

from .. import clock, db
from ..builtin_crm import csv_import, demo, store
from . import CliContext, pass_ctx


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
            click.echo(f"cti: --map {problem}", err=True)
        sys.exit(2)
    with db.get_engine(ctx.app).begin() as conn:
        report = csv_import.import_customers(conn, file.read_bytes(), mapping,
                                             now=clock.now(ctx.app), dry_run=dry_run,
                                             allow_duplicates=allow_duplicates)
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_report(file, report)
    sys.exit(1 if report.errors else 0)


def _print_report(file: Path, report: csv_import.ImportReport) -> None:
    done = "would be imported" if report.dry_run else "imported"
    click.echo(f"{file.name}: {report.rows} rows, {report.imported} {done}, "
               f"{report.rows - report.imported} skipped"
               + (f" (encoding {report.encoding})" if report.encoding else ""))
    if report.mapping:
        click.echo("columns: " + ", ".join(f"{target}={column}" for target, columns
                                           in report.mapping.items() for column in columns))
    for title, problems in (("skipped", report.errors), ("warnings", report.warnings)):
        if problems:
            click.echo(f"{title}:")
            for problem in problems:
                click.echo(f"  {problem.describe()}")
    if report.dry_run:
        click.echo("dry run: nothing was written")


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
    click.echo(f"{'ID':>6}  {_pad('NAME', 16)}  {_pad('COMPANY', 20)}  PHONES")
    for customer in customers:
        phones = ", ".join(phone["display"] for phone in customer["phones"])
        click.echo(f"{customer['id']:>6}  {_pad(customer['name'], 16)}  "
                   f"{_pad(customer['company'], 20)}  {phones}")
    if total > len(customers):
        click.echo(f"({len(customers)} of {total} shown; use --limit or a query)")


@crm.command("demo")
@pass_ctx
def demo_(ctx: CliContext) -> None:
    """Add the demo customers (only into an empty built-in CRM)."""
    with db.get_engine(ctx.app).begin() as conn:
        created = demo.create_demo_data(conn, clock.now(ctx.app))
    if created:
        click.echo(f"created {created} demo customers")
    else:
        click.echo("the built-in CRM already has customers; nothing was added")


def _pad(text: str, width: int) -> str:
    """Pad to ``width`` terminal columns: Japanese characters take two."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)
