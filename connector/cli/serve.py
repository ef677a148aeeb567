"""``cti serve`` (development server) and ``cti worker`` (background jobs)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import click

from .. import clock, db
from ..auth import accounts
from ..logs import configure_logging
from ..runtime import app_secrets
from . import CliContext, pass_ctx


def _logging(ctx: CliContext) -> None:
    settings = ctx.settings
    configure_logging(settings.logging.level, settings.logging.format, app_secrets(ctx.app))


@click.command()
@click.option("--host", help="Interface to bind (default: [server] host).")
@click.option("--port", type=int, help="Port (default: [server] port).")
@click.option("--worker/--no-worker", default=True, show_default=True,
              help="Also run a background-job worker.")
@click.option("--demo/--no-demo", default=None,
              help="Create demo accounts when there are none (default: on with embedded "
                   "defaults).")
@pass_ctx
def serve(ctx: CliContext, host: str | None, port: int | None, worker: bool,
          demo: bool | None) -> None:
    """Run the development server; with no configuration, on embedded defaults.

    The database is created or upgraded first. For production use gunicorn
    (see README.md, "Production deployment").
    """
    ctx.override_server(host, port)
    app = ctx.app
    settings = ctx.settings
    _logging(ctx)
    db.upgrade(db.get_engine(app))
    if demo if demo is not None else settings.embedded["database"]:
        _create_demo_accounts(ctx)
        _create_demo_customers(ctx)
        _create_demo_number(ctx)
    worker_process = _start_worker(ctx) if worker else None
    host, port = settings.server.host, settings.server.port
    click.echo(f"cti-connector on http://{host}:{port}  (public URL "
               f"{settings.server.public_base_url}; health: /healthz)", err=True)
    for part, embedded in settings.embedded.items():
        if embedded:
            click.echo(f"  embedded {part.replace('_', ' ')}", err=True)
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        if worker_process is not None:
            worker_process.terminate()
            worker_process.wait(timeout=10)


def _start_worker(ctx: CliContext) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if ctx.config_path:
        env["CTI_CONFIG"] = str(ctx.config_path)
    return subprocess.Popen([sys.executable, "-m", "connector.cli", "worker"], env=env)


def _create_demo_accounts(ctx: CliContext) -> None:
    """On a fresh embedded install, create accounts a newcomer can sign in with at once."""
    app = ctx.app
    now = clock.now(app)
    demo = [("admin", "管理者", "admin"), ("agent1", "オペレーター 1", "agent")]
    created = []
    with db.get_engine(app).begin() as conn:
        if accounts.count_agents(conn):
            return
        for username, name, role in demo:
            password = f"Demo-{secrets.token_hex(4)}-{secrets.randbelow(90) + 10}"
            accounts.create_agent(conn, username=username, display_name=name, password=password,
                                  policy=ctx.settings.auth, now=now, role=role)
            created.append(f"{username}  {password}  ({role})")
    path = Path(ctx.settings.data_dir) / "demo-credentials.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(created) + "\n")
    click.echo("Created demo accounts (also saved in " + str(path) + "):", err=True)
    for line in created:
        click.echo("  " + line, err=True)


def _create_demo_customers(ctx: CliContext) -> None:
    """On a fresh install, give the built-in CRM someone to pop (see builtin_crm/demo.py)."""
    from ..builtin_crm.demo import create_demo_data

    with db.get_engine(ctx.app).begin() as conn:
        created = create_demo_data(conn, clock.now(ctx.app))
    if created:
        _index_builtin_crm(ctx)
        click.echo(f"Created {created} demo customers in the built-in CRM: "
                   f"{ctx.settings.server.public_base_url}/crm/customers", err=True)


def _index_builtin_crm(ctx: CliContext) -> None:
    """Put the demo customers into the phone index now, as the worker's sync would later, so
    the very first simulated call already pops its caller."""
    from .. import crm, sync

    layer = crm.get_layer(ctx.app)
    adapter = layer.adapters.get("builtin")
    if adapter is not None:
        sync.sync_adapter(layer.engine, adapter, now=ctx.app.extensions["cti.clock"])


def _create_demo_number(ctx: CliContext) -> None:
    """In simulated mode, a number that rings the demo agent (see softphone/demo.py)."""
    from ..softphone.demo import create_demo_number

    number = create_demo_number(ctx.app)
    if number:
        click.echo(f"Created the demo number {number} → agent1; try a simulated call at "
                   f"{ctx.settings.server.public_base_url}/softphone/", err=True)


@click.command()
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--queue", "queues", multiple=True, help="Queue to serve (repeatable; "
                                                       "default: all).")
@pass_ctx
def worker(ctx: CliContext, burst: bool, queues: tuple[str, ...]) -> None:
    """Run a background-job worker (with the scheduler that retries need)."""
    from ..maintenance import Maintenance
    from ..queue import make_worker

    _logging(ctx)
    upkeep = Maintenance(ctx.app)
    if not burst:
        upkeep.start()
    try:
        # rq sets its own loggers to INFO unless told otherwise; [logging] level governs them.
        make_worker(ctx.app, list(queues) or None).work(
            with_scheduler=True, burst=burst, logging_level=ctx.settings.logging.level)
    finally:
        upkeep.stop()
