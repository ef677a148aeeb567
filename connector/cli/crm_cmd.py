"""``cti sync``, ``cti jobs …`` and ``cti doctor``: the CRM layer from the command line."""

from __future__ import annotations

import json
import sys

import click

from crm_adapters.errors import AdapterError

from .. import clock, crm, queue, sync, writeback
from . import CliContext, pass_ctx


@click.command("sync")
@click.option("--adapter", "names", multiple=True, help="Adapter to sync (default: all that "
                                                        "support it).")
@click.option("--full", is_flag=True, help="Read everything and drop records the CRM no longer "
                                           "has (default: only changes since the last sync).")
@pass_ctx
def sync_command(ctx: CliContext, names: tuple[str, ...], full: bool) -> None:
    """Fill the local phone index from the CRMs, showing progress."""
    layer = crm.get_layer(ctx.app)
    targets = {n: a for n, a in layer.server_side.items()
               if a.supports_sync and (not names or n in names)}
    unknown = set(names) - set(targets)
    if unknown:
        click.echo(f"cti: cannot sync {', '.join(sorted(unknown))} (enabled adapters that "
                   f"support syncing: {', '.join(sorted(targets)) or 'none'})", err=True)
        sys.exit(1)
    failed = False
    for name, adapter in targets.items():
        try:
            report = sync.sync_adapter(layer.engine, adapter, now=ctx.app.extensions["cti.clock"],
                                       full=full, progress=_show_progress)
        except AdapterError as exc:
            click.echo(f"\n{name}: failed: {exc}", err=True)
            failed = True
            continue
        click.echo(f"\r{name}: {report.stats.records} records, {report.stats.numbers} numbers, "
                   f"{report.stats.invalid_numbers} not understood, {report.removed} removed "
                   f"({'full' if report.full else 'incremental'}, {report.seconds:.1f} s)")
    sys.exit(1 if failed else 0)


def _show_progress(report: sync.SyncReport) -> None:
    rate = report.stats.records / report.seconds if report.seconds else 0.0
    click.echo(f"\r{report.adapter}: {report.stats.records} records, {report.stats.numbers} "
               f"numbers ({rate:.0f} records/s)", nl=False, err=True)


@click.group()
def jobs() -> None:
    """CRM write-back jobs: status, dead letters, retries."""


@jobs.command("status")
@pass_ctx
def status(ctx: CliContext) -> None:
    """Write-back rows per adapter and state, and the queue lengths."""
    counts = writeback.get_pipeline(ctx.app).counts()
    for adapter, states in sorted(counts.items()):
        click.echo(f"{adapter}: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    for name in queue.QUEUES:
        click.echo(f"queue {name}: {len(queue.get_queue(name, ctx.app))} waiting")


@jobs.command("failed")
@click.option("--adapter", help="Only this adapter.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def failed(ctx: CliContext, adapter: str | None, as_json: bool) -> None:
    """List call logs that could not be written (the dead-letter list)."""
    rows = writeback.get_pipeline(ctx.app).failed(adapter)
    if as_json:
        click.echo(json.dumps([{k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                for k, v in r.items() if k not in ("claim_token",)}
                               for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no failed write-backs")
        return
    for r in rows:
        click.echo(f"{r['adapter']:<12} {r['call_sid']}  attempts {r['attempts']}  "
                   f"{r['updated_at']:%Y-%m-%d %H:%M}  {r['last_error'][:200]}")


@jobs.command("retry")
@click.option("--adapter", help="Only this adapter.")
@click.option("--call-sid", help="Only this call.")
@click.option("--all", "retry_all", is_flag=True, help="Every failed write-back.")
@pass_ctx
def retry(ctx: CliContext, adapter: str | None, call_sid: str | None, retry_all: bool) -> None:
    """Re-drive failed write-backs (after fixing their cause)."""
    if not (adapter or call_sid or retry_all):
        click.echo("cti: say which: --adapter NAME, --call-sid SID or --all", err=True)
        sys.exit(2)
    count = writeback.get_pipeline(ctx.app).retry_failed(adapter=adapter, call_sid=call_sid)
    click.echo(f"re-queued {count} write-back(s)")


@jobs.command("sweep")
@pass_ctx
def sweep(ctx: CliContext) -> None:
    """Re-queue write-backs whose job was lost (the worker does this every 30 s)."""
    result = writeback.get_pipeline(ctx.app).sweep()
    click.echo(f"re-queued {result['jobs']} job(s), handed off {result['handed_off']} call(s)")


@click.command()
@pass_ctx
def doctor(ctx: CliContext) -> None:
    """Check every external link and say what to fix (SPEC AD-7)."""
    from .. import doctor as checks

    verdicts = checks.run(ctx.app)
    for v in verdicts:
        mark = "OK " if v.ok and v.severity != "warning" else ("!  " if v.ok else "NG ")
        click.echo(f"{mark} {v.name}: {v.message}")
    bad = sum(not v.ok for v in verdicts)
    click.echo(f"{len(verdicts) - bad} OK, {bad} to fix (checked at "
               f"{clock.now(ctx.app):%Y-%m-%d %H:%M} UTC)")
    sys.exit(1 if bad else 0)
