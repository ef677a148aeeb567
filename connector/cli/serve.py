"""``cti serve`` (development server) and ``cti worker`` (background jobs)."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import click
import redis
from flask import Flask

from .. import clock, db, queue
from ..auth import accounts
from ..auth.policy import effective_policy
from ..logs import configure_logging
from ..runtime import app_secrets
from . import CliContext, pass_ctx

log = logging.getLogger("cti.jobs")

#: Pause before `cti worker` starts rq's loop again after it ended on an error.
WORKER_RESTART_SECONDS = 2.0
#: How long a stopping worker waits for its maintenance and call-record threads.
THREAD_STOP_SECONDS = 10.0
#: How long the worker `cti serve` started may finish its current job when the server stops;
#: then it is stopped at once (write-backs are idempotent, the sweeper re-queues their work).
WORKER_WARM_STOP_SECONDS = 10.0


def _logging(ctx: CliContext, app: Flask) -> None:
    settings = ctx.settings
    configure_logging(settings.logging.level, settings.logging.format, app_secrets(app))


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
    worker_process = None
    with _signals_stop_the_server():
        try:
            app = ctx.unchecked_app
            settings = ctx.settings
            _logging(ctx, app)
            db.upgrade(db.get_engine(app))
            app = ctx.app
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
            app.run(host=host, port=port, threaded=True, use_reloader=False)
        finally:
            # A second Ctrl-C or SIGTERM must not cut the clean-up short (it is bounded).
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
            _stop_worker(worker_process)
            _stop_embedded_redis(ctx)


@contextlib.contextmanager
def _signals_stop_the_server() -> Iterator[None]:
    """SIGTERM and SIGHUP end `cti serve` like Ctrl-C does: through its clean-up.

    By default they would kill the process on the spot, leaving its worker and its embedded
    redis-server running.
    """
    def stop(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    previous = {sig: signal.getsignal(sig)
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start_worker(ctx: CliContext) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if ctx.config_path:
        env["CTI_CONFIG"] = str(ctx.config_path)
    # A session of its own: a Ctrl-C in the terminal reaches `cti serve` only, which stops the
    # worker once (rq treats a second signal as "stop now").
    return subprocess.Popen([sys.executable, "-m", "connector.cli", "worker",
                             "--stop-with-parent"], env=env, start_new_session=True)


def _stop_worker(process: subprocess.Popen[bytes] | None) -> None:
    """Warm shutdown (the current job finishes), then a cold one, then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    for timeout in (WORKER_WARM_STOP_SECONDS, 10.0):
        process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
            return
    process.kill()
    process.wait()


def _stop_embedded_redis(ctx: CliContext) -> None:
    """The embedded redis-server stops with `cti serve`, also one adopted from a crash."""
    app = ctx._app
    server = queue.embedded_server(app) if app is not None else None
    if server is not None:
        server.stop()


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
                                  policy=effective_policy(app), now=now, role=role)
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
@click.option("--stop-with-parent", is_flag=True, hidden=True,
              help="Stop when the process that started this one ends (used by `cti serve`).")
@pass_ctx
def worker(ctx: CliContext, burst: bool, queues: tuple[str, ...],
           stop_with_parent: bool) -> None:
    """Run a background-job worker (with the scheduler that retries need)."""
    from ..callstream import Consumer
    from ..maintenance import Maintenance

    _logging(ctx, ctx.app)
    if stop_with_parent:
        _stop_when_orphaned(os.getppid())
    upkeep = Maintenance(ctx.app)
    writer = Consumer(ctx.app)  # call records queued by the webhooks (connector.callstream)
    if not burst:
        upkeep.start()
        writer.start()
    try:
        _run_rq(ctx, upkeep, list(queues) or None, burst)
    finally:
        # Joined, not just told: the embedded Redis stops at exit only when no connection is
        # left, and a thread still inside a blocking read would hold one (or reconnect).
        for thread in (upkeep, writer):
            thread.stop()
        for thread in (upkeep, writer):
            if thread.is_alive():
                thread.join(timeout=THREAD_STOP_SECONDS)


def _run_rq(ctx: CliContext, upkeep: Any, queues: list[str] | None, burst: bool) -> None:
    """rq's worker loop, started again whenever it ends on an error rather than on request.

    rq's loop ends on any error it did not expect (Redis restarting, among others), and creating
    a worker already talks to Redis; the write-backs must not wait for someone to restart
    `cti worker`. Only the first start fails loudly (a wrong ``redis_url``).
    """
    from ..queue import make_worker
    from ..scheduler_lock import release_stale

    started = False
    while True:
        try:
            rq_worker = make_worker(ctx.app, queues)
            # A scheduler killed with its worker keeps rq's lock for a minute: take it over.
            release_stale(rq_worker.connection, rq_worker.queue_names())
            upkeep.worker = rq_worker
            started = True
            # rq sets its own loggers to INFO unless told otherwise; [logging] level governs.
            rq_worker.work(with_scheduler=True, burst=burst,
                           logging_level=ctx.settings.logging.level)
        except redis.RedisError as exc:
            if burst or not started:
                raise
            log.warning("the job worker cannot reach Redis: %s", exc)
        else:
            if burst or _stopped_on_request(rq_worker):
                return
            log.warning("the job worker stopped after an error (logged above)")
        # rq's signal handlers stay installed and need a live worker; between two runs a
        # SIGTERM or Ctrl-C simply ends the process (no job is running).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        log.warning("starting the job worker again in %.0f s", WORKER_RESTART_SECONDS)
        time.sleep(WORKER_RESTART_SECONDS)


def _stopped_on_request(rq_worker: object) -> bool:
    """Whether rq's loop ended because the worker was asked to stop (a signal, a stop command)
    rather than on an error. rq keeps this only in private attributes: an rq without them
    counts as stopped, so `cti worker` never keeps running against a stop request."""
    if not hasattr(rq_worker, "_shutdown_requested_date"):
        return True
    return bool(getattr(rq_worker, "_shutdown_requested_date", None)
                or getattr(rq_worker, "_stop_requested", False))


def _stop_when_orphaned(parent_pid: int, interval: float = 1.0) -> None:
    """Ask this worker to stop (as SIGTERM does) once its parent is gone — a `cti serve`
    killed with SIGKILL cannot stop its worker itself."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            stopped.wait(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    stopped = threading.Event()  # never set: the thread dies with the process
    threading.Thread(target=watch, name="cti-parent-watch", daemon=True).start()
