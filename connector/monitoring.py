"""Is background work getting done? Workers, crashed jobs and late write-backs.

One report serves ``cti doctor`` (verdicts that say what to do), ``cti jobs status|failed``
(details) and ``GET /healthz`` (counts only: it is not authenticated). Crashed jobs are the
entries of rq's own failed-job registry — jobs that raised, whose work horse died, or that rq
found abandoned by a dead worker — so nothing is kept twice.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from flask import Flask
from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from . import queue, writeback


@dataclass(frozen=True)
class Verdict:
    """One line of ``cti doctor``."""

    name: str
    ok: bool
    message: str
    severity: str = "error"  # "error": must be fixed; "warning": works, but look at it


@dataclass(frozen=True)
class WorkerState:
    name: str
    hostname: str
    pid: int | None
    state: str
    last_heartbeat: datetime | None
    #: Why this registration belongs to a worker that is gone; "" while it is alive.
    dead: str = ""


@dataclass(frozen=True)
class CrashedJob:
    job_id: str
    func: str
    queue: str
    ended_at: datetime | None
    #: "exception" (the job raised), "died" (its process was killed or exited) or
    #: "abandoned" (the worker running it died).
    kind: str
    error: str  # the exception's last line, or how the process ended


@dataclass
class JobsReport:
    workers: list[WorkerState] = field(default_factory=list)
    crashed: list[CrashedJob] = field(default_factory=list)  # newest first, at most a limit
    crashed_total: int = 0
    abandoned: int = 0  # jobs whose worker died, not yet moved to the failed registry
    late: list[writeback.LateWritebacks] = field(default_factory=list)
    dead_letters: int = 0
    late_after: timedelta = timedelta(minutes=10)
    redis_error: str = ""
    database_error: str = ""

    @property
    def live_workers(self) -> list[WorkerState]:
        return [w for w in self.workers if not w.dead]

    def late_of(self, kind: str) -> list[writeback.LateWritebacks]:
        return [group for group in self.late if group.kind == kind]


def report(app: Flask, *, repair: bool = False, crashed_limit: int = 100,
           use_redis: bool = True, use_database: bool = True) -> JobsReport:
    """What the workers and the write-backs look like now.

    ``repair=True`` first lets rq move jobs abandoned by dead workers into its failed-job
    registry (what every worker does each ten minutes): for ``cti doctor`` and ``cti jobs``,
    not for ``/healthz``, which only reads. ``use_redis``/``use_database`` false skip a
    service already known to be down.
    """
    late_after = timedelta(minutes=app.config["CTI_SETTINGS"].crm.writeback_late_minutes)
    result = JobsReport(late_after=late_after)
    if use_redis:
        _read_redis(app, result, repair=repair, crashed_limit=crashed_limit)
    else:
        result.redis_error = "Redis is down"
    if use_database:
        _read_database(app, result)
    else:
        result.database_error = "the database is not usable"
    return result


def _read_redis(app: Flask, result: JobsReport, *, repair: bool, crashed_limit: int) -> None:
    client = queue.get_redis(app)
    try:
        if repair:
            for name in queue.QUEUES:
                _started(name, client).cleanup()
        # rq stamps heartbeats with the wall clock, whatever clock the app runs on.
        result.workers = workers(client, datetime.now(UTC))
        result.abandoned = abandoned_count(client)
        result.crashed = crashed_jobs(client, limit=crashed_limit)
        result.crashed_total = crashed_count(client)
    except redis.RedisError as exc:
        result.redis_error = f"{type(exc).__name__}: {exc}"


def _read_database(app: Flask, result: JobsReport) -> None:
    pipeline = writeback.get_pipeline(app)
    try:
        result.late = pipeline.late(result.late_after)
        result.dead_letters = sum(states.get("failed", 0) for states in pipeline.counts().values())
    except Exception as exc:  # any driver error: the database check says what is wrong
        result.database_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"


def workers(client: redis.Redis, now: datetime) -> list[WorkerState]:
    """Every registered rq worker, each marked dead when its process is known to be gone."""
    found = []
    for worker in Worker.all(connection=client, serializer=JSONSerializer):
        found.append(WorkerState(worker.name, worker.hostname or "?", worker.pid,
                                 _state(worker), worker.last_heartbeat,
                                 _why_dead(worker, now)))
    return sorted(found, key=lambda w: (w.hostname, w.name))


def _state(worker: Worker) -> str:
    state = worker.get_state()
    return str(getattr(state, "value", state))


def _why_dead(worker: Worker, now: datetime) -> str:
    if worker.hostname == socket.gethostname() and worker.pid and not _pid_alive(worker.pid):
        return f"its process {worker.pid} on this machine is gone"
    # A live worker refreshes its registration at least every WORKER_TTL seconds.
    silent_after = timedelta(seconds=queue.WORKER_TTL + 30)
    if worker.last_heartbeat and now - worker.last_heartbeat > silent_after:
        return f"silent since {worker.last_heartbeat:%Y-%m-%d %H:%M:%S} UTC"
    return ""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def crashed_jobs(client: redis.Redis, *, limit: int = 100) -> list[CrashedJob]:
    """Jobs in rq's failed-job registries, newest first."""
    found: list[CrashedJob] = []
    if limit <= 0:
        return found
    for name in queue.QUEUES:
        registry = FailedJobRegistry(name, connection=client, serializer=JSONSerializer)
        for job_id in registry.get_job_ids(0, limit - 1, desc=True):
            try:
                job = Job.fetch(job_id, connection=client, serializer=JSONSerializer)
            except NoSuchJobError:
                continue
            found.append(_crashed(job, name))
    found.sort(key=lambda j: j.ended_at.timestamp() if j.ended_at else 0.0, reverse=True)
    return found[:limit]


def abandoned_count(client: redis.Redis) -> int:
    """Jobs still marked started whose worker stopped renewing them (it died)."""
    count = 0
    for name in queue.QUEUES:
        for job_id in _started(name, client).get_expired_job_ids():
            status = client.hget(Job.key_for(job_id), "status")
            # Leftover entries of jobs that did end are rq's to tidy, not abandoned work.
            if status == JobStatus.STARTED.value.encode():
                count += 1
    return count


def crashed_count(client: redis.Redis) -> int:
    return sum(FailedJobRegistry(name, connection=client, serializer=JSONSerializer)
               .get_job_count(cleanup=False)
               for name in queue.QUEUES)


def requeue_crashed(client: redis.Redis) -> int:
    """Put every crashed job back on its queue (rq's own requeue); returns how many."""
    count = 0
    for name in queue.QUEUES:
        registry = FailedJobRegistry(name, connection=client, serializer=JSONSerializer)
        for job_id in registry.get_job_ids():
            try:
                registry.requeue(job_id)
            except (NoSuchJobError, InvalidJobOperation):
                continue  # expired or deleted meanwhile
            count += 1
    return count


def forget_crashed(client: redis.Redis, job_ids: set[str] | None = None) -> int:
    """Delete crashed jobs (all, or ``job_ids``) without running them; returns how many."""
    count = 0
    for name in queue.QUEUES:
        registry = FailedJobRegistry(name, connection=client, serializer=JSONSerializer)
        for job_id in registry.get_job_ids():
            if job_ids is not None and job_id not in job_ids:
                continue
            try:
                registry.remove(job_id, delete_job=True)
            except NoSuchJobError:
                registry.remove(job_id)
            count += 1
    return count


def _crashed(job: Job, queue_name: str) -> CrashedJob:
    result = job.latest_result()
    text = (result.exc_string if result is not None else None) or job._exc_info or ""
    crash = job.meta.get(queue.CRASH_META, "")
    if "Work-horse terminated unexpectedly" in text:
        kind, error = "died", crash or _last_line(text)
    elif "AbandonedJobError" in text:
        kind, error = "abandoned", "its worker died while running it"
    else:
        kind, error = "exception", _last_line(text) or crash or "?"
    try:
        func = job.func_name
    except Exception:  # an undecodable job is still listed
        func = "?"
    return CrashedJob(job.id, func, queue_name, job.ended_at, kind, error[:300])


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1].rstrip(";").strip() if lines else ""


def _started(name: str, client: redis.Redis) -> StartedJobRegistry:
    return StartedJobRegistry(name, connection=client, serializer=JSONSerializer)


# -- verdicts (cti doctor) ------------------------------------------------------------------

def verdicts(jobs: JobsReport, scrub: Any = str) -> list[Verdict]:
    """What ``cti doctor`` says about background work; ``scrub`` masks error texts."""
    found = []
    if not jobs.redis_error:
        found.append(_workers_verdict(jobs))
        found.append(_crashes_verdict(jobs, scrub))
    if not jobs.database_error:
        found.extend(_writeback_verdicts(jobs, scrub))
    return found


def _workers_verdict(jobs: JobsReport) -> Verdict:
    dead = [w for w in jobs.workers if w.dead]
    dead_text = "; ".join(f"worker {w.name} on {w.hostname} (pid {w.pid}) died: {w.dead}"
                          for w in dead)
    live = jobs.live_workers
    if not live:
        message = ("no worker is running, so no call log reaches a CRM and lost jobs are not "
                   "repaired: start `cti worker` (`cti serve` starts one unless --no-worker)")
        return Verdict("workers", False, message + (f" — {dead_text}" if dead else ""))
    running = f"{len(live)} worker(s) running: " + ", ".join(
        f"{w.name[:8]} on {w.hostname} ({w.state})" for w in live)
    if dead:
        return Verdict("workers", True, f"{running}; {dead_text} — its registration expires "
                                        "by itself within two minutes", "warning")
    return Verdict("workers", True, running)


def _crashes_verdict(jobs: JobsReport, scrub: Any) -> Verdict:
    if not jobs.crashed_total and not jobs.abandoned:
        return Verdict("background jobs", True, "no crashed jobs")
    parts = []
    if jobs.crashed:
        latest = jobs.crashed[0]
        when = f"{latest.ended_at:%Y-%m-%d %H:%M} UTC" if latest.ended_at else "?"
        parts.append(f"{jobs.crashed_total} job(s) crashed (latest at {when}: {latest.func}: "
                     f"{scrub(latest.error)})")
    if jobs.abandoned:
        parts.append(f"{jobs.abandoned} job(s) were abandoned by a worker that died")
    return Verdict("background jobs", False, "; ".join(parts) + ": see `cti jobs failed`, fix "
                   "the cause, then `cti jobs retry --crashed` (or `cti jobs forget-crashed`)")


def _writeback_verdicts(jobs: JobsReport, scrub: Any) -> list[Verdict]:
    found = [Verdict("write-back", jobs.dead_letters == 0,
                     f"{jobs.dead_letters} call log(s) could not be written: see "
                     "`cti jobs failed`, fix the cause, then `cti jobs retry --all`"
                     if jobs.dead_letters else "no failed write-backs")]
    minutes = int(jobs.late_after.total_seconds() // 60)
    for group in jobs.late_of("unattended"):
        cure = ("start `cti worker`" if not jobs.live_workers else
                "workers are running but do not take them: `cti jobs sweep` re-queues them; "
                "check that a worker serves the writeback queue")
        found.append(Verdict(
            f"write-back to {group.adapter}", False,
            f"{group.count} call log(s) due for more than {minutes} minutes and nobody is "
            f"working on them (oldest call {group.oldest:%Y-%m-%d %H:%M} UTC): {cure}"))
    for group in jobs.late_of("retrying"):
        upcoming = (f" (next try {group.next_attempt_at:%H:%M} UTC)"
                    if group.next_attempt_at else "")
        found.append(Verdict(
            f"write-back to {group.adapter}", True,
            f"{group.count} call log(s) not written after more than {minutes} minutes: waiting "
            f"for a retry{upcoming} after the error \"{scrub(group.last_error)[:200]}\"; they "
            f"are retried by themselves — check crm.{group.adapter} above", "warning"))
    return found


# -- /healthz -------------------------------------------------------------------------------

def health(jobs: JobsReport) -> tuple[dict[str, Any], list[str]]:
    """The background-work part of ``/healthz``: checks and problems, without error texts."""
    checks: dict[str, Any] = {}
    problems = []
    if jobs.redis_error:
        return checks, problems  # the redis check already says it
    live, dead = len(jobs.live_workers), len(jobs.workers) - len(jobs.live_workers)
    checks["workers"] = {"ok": live > 0, "running": live, "dead": dead}
    if not live:
        problems.append("no worker is running: start `cti worker`")
    elif dead:
        problems.append(f"{dead} worker(s) died: see `cti doctor`")
    crashed = jobs.crashed_total + jobs.abandoned
    checks["jobs"] = {"ok": not crashed, "crashed": jobs.crashed_total,
                      "abandoned": jobs.abandoned}
    if crashed:
        problems.append(f"{crashed} background job(s) crashed: "
                        "see `cti jobs failed`")
    if jobs.database_error:
        return checks, problems
    unattended = sum(g.count for g in jobs.late_of("unattended"))
    retrying = sum(g.count for g in jobs.late_of("retrying"))
    checks["writebacks"] = {"ok": not (jobs.dead_letters or unattended or retrying),
                            "failed": jobs.dead_letters, "late_unattended": unattended,
                            "late_retrying": retrying,
                            "late_after_minutes": int(jobs.late_after.total_seconds() // 60)}
    if jobs.dead_letters:
        problems.append(f"{jobs.dead_letters} call log(s) could not be written: see "
                        "`cti jobs failed`")
    if unattended:
        problems.append(f"{unattended} call log(s) late with nobody working on them: start "
                        "`cti worker`")
    if retrying:
        problems.append(f"{retrying} call log(s) late, waiting for a retry after a CRM error: "
                        "see `cti doctor`")
    return checks, problems
