"""``cti db``: schema migrations."""

from __future__ import annotations

import click

from .. import db as storage
from . import CliContext, pass_ctx


@click.group(name="db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_ctx
def upgrade(ctx: CliContext, revision: str) -> None:
    """Create or upgrade the schema; existing data is kept."""
    engine = storage.get_engine(ctx.unchecked_app)
    before = storage.current_revision(engine)
    storage.upgrade(engine, revision)
    after = storage.current_revision(engine)
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to {after}")


@db_group.command("current")
@pass_ctx
def current(ctx: CliContext) -> None:
    """Show the schema revision of the database and the newest one."""
    revision = storage.current_revision(storage.get_engine(ctx.unchecked_app))
    click.echo(f"current: {revision or 'empty'}")
    click.echo(f"newest:  {storage.head_revision()}")
