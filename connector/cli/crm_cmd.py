"""``cti sync``, ``cti jobs …`` and ``cti doctor``: the CRM layer from the command line."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import click

from crm_adapters.errors import AdapterError

from .. import clock, crm, monitoring, queue, sync, writeback
from ..logs import Scrubber
from ..runtime import app_secrets
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
    """Write-back rows per adapter and state, late ones, queues, workers and crashed jobs."""
    counts = writeback.get_pipeline(ctx.app).counts()
    report = monitoring.report(ctx.app, repair=True, crashed_limit=1)
    for adapter, states in sorted(counts.items()):
        click.echo(f"{adapter}: " + ", ".join(f"{k} {v}" for k, v in sorted(states.items())))
    minutes = int(report.late_after.total_seconds() // 60)
    for group in report.late:
        why = ("nobody is working on them" if group.kind == "unattended"
               else "waiting for a retry after an error")
        click.echo(f"{group.adapter}: {group.count} late (not written after {minutes} min; "
                   f"{why})")
    for name in queue.QUEUES:
        click.echo(f"queue {name}: {len(queue.get_queue(name, ctx.app))} waiting")
    live = report.live_workers
    click.echo(f"workers: {len(live)} running"
               + (f", {len(report.workers) - len(live)} dead" if len(live) < len(report.workers)
                  else "")
               + ("" if live else " — start `cti worker`"))
    crashed = report.crashed_total + report.abandoned
    click.echo(f"crashed jobs: {crashed}" + (" — see `cti jobs failed`" if crashed else ""))


@jobs.command("failed")
@click.option("--adapter", help="Only this adapter's write-backs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def failed(ctx: CliContext, adapter: str | None, as_json: bool) -> None:
    """List call logs that could not be written (dead letters) and background jobs that
    crashed (rq's failed-job registry)."""
    rows = writeback.get_pipeline(ctx.app).failed(adapter)
    crashed = monitoring.report(ctx.app, repair=True).crashed
    scrub = Scrubber(app_secrets(ctx.app))
    if as_json:
        click.echo(json.dumps({
            "writebacks": [{k: _jsonable(v) for k, v in r.items() if k != "claim_token"}
                           for r in rows],
            "crashed_jobs": [{k: _jsonable(scrub(v) if k == "error" else v)
                              for k, v in asdict(job).items()} for job in crashed],
        }, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no failed write-backs")
    for r in rows:
        click.echo(f"{r['adapter']:<12} {r['call_sid']}  attempts {r['attempts']}  "
                   f"{r['updated_at']:%Y-%m-%d %H:%M}  {r['last_error'][:200]}")
    if not crashed:
        click.echo("no crashed jobs")
        return
    click.echo(f"crashed jobs ({len(crashed)}; `cti jobs retry --crashed` runs them again):")
    for job in crashed:
        when = f"{job.ended_at:%Y-%m-%d %H:%M:%S}" if job.ended_at else "?"
        click.echo(f"{when}  {job.job_id}  {job.func}  {job.kind}: {scrub(job.error)}")


def _jsonable(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


@jobs.command("retry")
@click.option("--adapter", help="Only this adapter.")
@click.option("--call-sid", help="Only this call.")
@click.option("--all", "retry_all", is_flag=True,
              help="Every failed write-back and every crashed job.")
@click.option("--crashed", is_flag=True, help="Crashed background jobs (run them again).")
@pass_ctx
def retry(ctx: CliContext, adapter: str | None, call_sid: str | None, retry_all: bool,
          crashed: bool) -> None:
    """Re-drive failed write-backs and crashed jobs (after fixing their cause)."""
    if not (adapter or call_sid or retry_all or crashed):
        click.echo("cti: say which: --adapter NAME, --call-sid SID, --crashed or --all",
                   err=True)
        sys.exit(2)
    if adapter or call_sid or retry_all:
        count = writeback.get_pipeline(ctx.app).retry_failed(adapter=adapter,
                                                             call_sid=call_sid)
        click.echo(f"re-queued {count} write-back(s)")
    if crashed or retry_all:
        click.echo(f"re-queued {monitoring.requeue_crashed(queue.get_redis(ctx.app))} "
                   "crashed job(s)")


@jobs.command("forget-crashed")
@click.option("--job", "job_ids", multiple=True, help="Only this job id (repeatable).")
@pass_ctx
def forget_crashed(ctx: CliContext, job_ids: tuple[str, ...]) -> None:
    """Remove crashed jobs from the list without running them again."""
    count = monitoring.forget_crashed(queue.get_redis(ctx.app), set(job_ids) or None)
    click.echo(f"forgot {count} crashed job(s)")


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
