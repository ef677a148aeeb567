"""The CRM write-back pipeline: every final call logged exactly once in every enabled CRM.

The call record is committed first. Then one row per (call, adapter) in ``crm_writebacks``
records what must be written, and one rq job per (adapter, CallSid, revision) is queued — with a
short delay, so calls ending together are written together. A job claims up to the adapter's
batch limit of due rows for its adapter (its own first) and writes them in one request; jobs whose
rows another job already wrote finish without any CRM request.

Exactly-once *effect*: writes are upserts keyed by CallSid (see each adapter), so a retry after a
timeout, a worker killed mid-write or a duplicate job can never create a second log. A wrap-up
after the final write bumps the row's revision, and the log is written again (same CRM record).

Nothing is lost: rows live in the database, not in Redis. The sweeper (``sweep``) re-queues rows
whose job vanished (Redis flushed or restarted) and calls whose hand-off never happened; the lease
reaper (``reclaim_lapsed``) re-queues within seconds the rows of a job whose worker died (its
lease stopped being renewed). When the CRM takes a batch again, logs waiting out a backoff are
due at once (``expedite``). See docs/reliability.md.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import Connection, Engine, and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from . import db
from .crm import CRMLayer
from .schema import calls, crm_writebacks

log = logging.getLogger("cti.writeback")

QUEUE = "writeback"
JOB = "connector.writeback_jobs.write_back"
#: Backoff for temporary errors: base · 2^attempt, capped, with full jitter (AWS architecture
#: blog "Exponential Backoff and Jitter").
BACKOFF_BASE = 10.0
#: Marks that a write-back job of the adapter is queued and has not started
#: (:meth:`Pipeline.enqueue_coalesced`); it expires this many seconds after its job was due, in
#: case the job was lost (the sweeper then queues the work).
NEXT_JOB_KEY = "cti:writeback:next:{adapter}"
NEXT_JOB_TTL = 60
BACKOFF_CAP = 3600.0


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based)."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


class Pipeline:
    """Queues write-back work; one per app (``app.extensions["cti.writeback"]``)."""

    def __init__(self, engine: Engine, queue: Queue, crm: CRMLayer, *, now: Any,
                 delay_seconds: float = 2.0) -> None:
        self.engine = engine
        self.queue = queue
        self.crm = crm
        self.now = now
        self.delay = delay_seconds

    # -- hand-off from the call records ---------------------------------------------------------

    def call_finished(self, call_sid: str) -> None:
        """Create the write-back rows for a final call (idempotent) and queue their jobs."""
        adapters = list(self.crm.server_side)
        if not adapters:
            return
        now = self.now()
        with self.engine.begin() as conn:
            for adapter in adapters:
                _insert_ignore(conn, {"call_sid": call_sid, "adapter": adapter,
                                      "state": "pending", "created_at": now,
                                      "updated_at": now})
            rows = self._pending(conn, call_sid)
        for adapter, revision in rows:
            self.enqueue_coalesced(adapter, call_sid, revision)

    def call_updated(self, call_sid: str) -> None:
        """The call's log changed after it was final (wrap-up): write it again."""
        now = self.now()
        with self.engine.begin() as conn:
            conn.execute(update(crm_writebacks).where(
                crm_writebacks.c.call_sid == call_sid).values(
                revision=crm_writebacks.c.revision + 1, state="pending", attempts=0,
                next_attempt_at=None, last_error="", updated_at=now))
            rows = self._pending(conn, call_sid)
        for adapter, revision in rows:
            self.enqueue_coalesced(adapter, call_sid, revision)

    def _pending(self, conn: Connection, call_sid: str) -> list[tuple[str, int]]:
        return [(r.adapter, r.revision) for r in conn.execute(
            select(crm_writebacks.c.adapter, crm_writebacks.c.revision).where(
                crm_writebacks.c.call_sid == call_sid, crm_writebacks.c.state == "pending"))]

    # -- queueing ------------------------------------------------------------------------------

    def enqueue(self, adapter: str, call_sid: str, revision: int, *,
                delay: float | None = None, tag: str = "") -> None:
        """Queue the job for (adapter, CallSid, revision); a job already queued is kept."""
        # rq job ids allow letters, digits, "_" and "-" only.
        job_id = f"writeback-{adapter}-{call_sid}-{revision}" + (f"-{tag}" if tag else "")
        if _waiting_or_running(job_id, self.queue):
            return
        delay = self.delay if delay is None else delay
        options: dict[str, Any] = {"job_id": job_id, "result_ttl": 600, "failure_ttl": 7 * 86400,
                                   "job_timeout": 300}
        if delay > 0:
            self.queue.enqueue_in(timedelta(seconds=delay), JOB, adapter, call_sid, **options)
        else:
            self.queue.enqueue(JOB, adapter, call_sid, **options)

    def enqueue_coalesced(self, adapter: str, call_sid: str, revision: int, *,
                          delay: float | None = None) -> None:
        """Queue a job for this row unless a job of ``adapter`` is waiting to start.

        That job claims every due row when it starts — this one too, as the row is committed
        before this is called — so calls ending together cost one job, not one each (each
        job costs a process fork; at 15 calls a second, per-call jobs left the workers behind).
        The job clears the mark as it starts (:meth:`job_started`), before it claims.
        """
        delay = self.delay if delay is None else delay
        if not self.queue.connection.set(NEXT_JOB_KEY.format(adapter=adapter), call_sid,
                                         nx=True, ex=int(delay) + NEXT_JOB_TTL):
            return
        self.enqueue(adapter, call_sid, revision, delay=delay)

    def job_started(self, adapter: str) -> None:
        """A write-back job of ``adapter`` starts: rows ending from now need a job of their own."""
        self.queue.connection.delete(NEXT_JOB_KEY.format(adapter=adapter))

    def kick(self, adapter: str) -> bool:
        """Queue a job if due rows of ``adapter`` are left (more than one batch ended
        together); True if there were."""
        now = self.now()
        c = crm_writebacks.c
        with self.engine.connect() as conn:
            row = conn.execute(select(c.call_sid, c.revision).where(
                c.adapter == adapter, c.state == "pending",
                or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
                or_(c.claimed_until.is_(None), c.claimed_until < now)).order_by(c.id)
                .limit(1)).first()
        if row is None:
            return False
        self.enqueue_coalesced(adapter, row.call_sid, row.revision, delay=0)
        return True

    # -- repair ------------------------------------------------------------------------------

    def sweep(self, *, finalized_within: timedelta = timedelta(days=7)) -> dict[str, int]:
        """Re-queue due rows nobody is working on, and hand off calls that never were."""
        now = self.now()
        requeued = handed_off = 0
        with self.engine.connect() as conn:
            due = conn.execute(select(crm_writebacks.c.adapter, crm_writebacks.c.call_sid,
                                      crm_writebacks.c.revision).where(
                crm_writebacks.c.state == "pending",
                or_(crm_writebacks.c.next_attempt_at.is_(None),
                    crm_writebacks.c.next_attempt_at <= now),
                or_(crm_writebacks.c.claimed_until.is_(None),
                    crm_writebacks.c.claimed_until < now)).order_by(crm_writebacks.c.id)).all()
            orphans = self._unhanded_calls(conn, now - finalized_within)
        by_adapter: dict[str, list[tuple[str, int]]] = {}
        for row in due:
            by_adapter.setdefault(row.adapter, []).append((row.call_sid, row.revision))
        bucket = int(now.timestamp() // 60)
        for adapter, rows in by_adapter.items():
            limit = self._batch_limit(adapter)
            # One job per batch-worth of rows is enough: each job claims a whole batch.
            for start in range(0, len(rows), limit):
                call_sid, revision = rows[start]
                self.enqueue(adapter, call_sid, revision, delay=0, tag=f"sweep{bucket}")
                requeued += 1
        for call_sid in orphans:
            self.call_finished(call_sid)
            handed_off += 1
        if requeued or handed_off:
            log.info("sweeper re-queued %d job(s), handed off %d call(s)", requeued, handed_off)
        return {"jobs": requeued, "handed_off": handed_off}

    def expedite(self, adapter: str) -> int:
        """``adapter``'s CRM took a write again: its logs waiting out a backoff are due now.

        Each log's backoff spaces out the tries against a CRM that fails; once one batch got
        through, waiting longer only delays the backlog (after an outage, each log would
        otherwise wait its own 20 s … 40 min). Attempts are kept, so a CRM that fails again
        is backed off from where it was. Returns how many logs were brought forward.
        """
        now = self.now()
        c = crm_writebacks.c
        waiting = and_(c.adapter == adapter, c.state == "pending", c.next_attempt_at > now,
                       c.claim_token.is_(None))
        with self.engine.begin() as conn:
            rows = conn.execute(select(c.id, c.call_sid, c.revision).where(waiting)
                                .order_by(c.id)).all()
            if not rows:
                return 0
            conn.execute(update(crm_writebacks).where(c.id.in_([r.id for r in rows]), waiting)
                         .values(next_attempt_at=None))
        limit, stamp = self._batch_limit(adapter), int(now.timestamp())
        for start in range(0, len(rows), limit):
            self.enqueue(adapter, rows[start].call_sid, rows[start].revision, delay=0,
                         tag=f"up{stamp}")
        log.info("%s answers again: %d waiting write-back(s) due now", adapter, len(rows))
        return len(rows)

    def reclaim_lapsed(self) -> int:
        """Re-queue rows whose claim lapsed: the job holding them stopped renewing its lease
        (its worker was killed). Cheap enough for every few seconds; returns how many rows.

        The claim is cleared as the rows are taken back, so each lapse is re-queued once; a
        job that was only slow finds its claim gone and records nothing, and the new job's
        upsert lands on the same CRM record.
        """
        now = self.now()
        c = crm_writebacks.c
        lapsed = and_(c.state == "pending", c.claim_token.is_not(None), c.claimed_until < now)
        with self.engine.begin() as conn:
            rows = conn.execute(select(c.id, c.adapter, c.call_sid, c.revision).where(lapsed)
                                .order_by(c.id)).all()
            if not rows:
                return 0
            conn.execute(update(crm_writebacks).where(
                c.id.in_([r.id for r in rows]), lapsed).values(claim_token=None,
                                                               claimed_until=None))
        by_adapter: dict[str, list[Any]] = {}
        for row in rows:
            by_adapter.setdefault(row.adapter, []).append(row)
        stamp = int(now.timestamp())
        for adapter, group in by_adapter.items():
            limit = self._batch_limit(adapter)
            for start in range(0, len(group), limit):
                first = group[start]
                self.enqueue(adapter, first.call_sid, first.revision, delay=0,
                             tag=f"lease{stamp}")
        log.warning("re-queued %d write-back(s) whose worker stopped renewing its lease",
                    len(rows))
        return len(rows)

    def _unhanded_calls(self, conn: Connection, since: datetime) -> list[str]:
        adapters = list(self.crm.server_side)
        if not adapters:
            return []
        missing = or_(*[~exists().where(and_(crm_writebacks.c.call_sid == calls.c.call_sid,
                                              crm_writebacks.c.adapter == name))
                        for name in adapters])
        return list(conn.execute(select(calls.c.call_sid).where(
            calls.c.finalized_at.is_not(None), calls.c.finalized_at >= since,
            calls.c.parent_call_sid.is_(None), missing)).scalars())

    def _batch_limit(self, adapter: str) -> int:
        instance = self.crm.adapters.get(adapter)
        return max(1, instance.write_batch_limit if instance else 1)

    # -- dead letters --------------------------------------------------------------------------

    def failed(self, adapter: str | None = None) -> list[dict[str, Any]]:
        query = select(crm_writebacks).where(crm_writebacks.c.state == "failed")
        if adapter:
            query = query.where(crm_writebacks.c.adapter == adapter)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(crm_writebacks.c.id))]

    def retry_failed(self, *, adapter: str | None = None, call_sid: str | None = None) -> int:
        """Re-drive dead letters (after the admin fixed the cause); returns how many."""
        now = self.now()
        conditions = [crm_writebacks.c.state == "failed"]
        if adapter:
            conditions.append(crm_writebacks.c.adapter == adapter)
        if call_sid:
            conditions.append(crm_writebacks.c.call_sid == call_sid)
        with self.engine.begin() as conn:
            rows = conn.execute(select(crm_writebacks.c.adapter, crm_writebacks.c.call_sid,
                                       crm_writebacks.c.revision).where(*conditions)
                                .order_by(crm_writebacks.c.id)).all()
            conn.execute(update(crm_writebacks).where(*conditions).values(
                state="pending", attempts=0, next_attempt_at=None, claim_token=None,
                claimed_until=None, updated_at=now))
        by_adapter: dict[str, list[Any]] = {}
        for row in rows:
            by_adapter.setdefault(row.adapter, []).append(row)
        # One job per batch-worth, as the sweeper does: a job per row would queue thousands
        # of jobs that find their row already written, ahead of the work still to do.
        for name, group in by_adapter.items():
            limit = self._batch_limit(name)
            for start in range(0, len(group), limit):
                self.enqueue(name, group[start].call_sid, group[start].revision, delay=0,
                             tag=f"retry{int(now.timestamp())}")
        return len(rows)

    def late(self, late_after: timedelta) -> list[LateWritebacks]:
        """Pending logs that should be in their CRM by now, per adapter and kind.

        ``retrying``: the row waits for its next attempt after an error, and its call was
        handed off more than ``late_after`` ago. ``unattended``: the row has been due for more
        than ``late_after`` and no job holds it — no worker is taking write-back jobs.
        """
        now = self.now()
        cutoff = now - late_after
        c = crm_writebacks.c
        unclaimed = or_(c.claimed_until.is_(None), c.claimed_until < now)
        kinds = {
            "retrying": and_(c.next_attempt_at > now, c.created_at < cutoff),
            "unattended": and_(unclaimed, or_(
                and_(c.next_attempt_at.is_not(None), c.next_attempt_at < cutoff),
                and_(c.next_attempt_at.is_(None), c.updated_at < cutoff))),
        }
        found = []
        with self.engine.connect() as conn:
            for kind, condition in kinds.items():
                where = and_(c.state == "pending", condition)
                groups = conn.execute(select(c.adapter, func.count(), func.min(c.created_at),
                                             func.min(c.next_attempt_at)).where(where)
                                      .group_by(c.adapter).order_by(c.adapter)).all()
                for adapter, count, oldest, next_attempt in groups:
                    last_error = conn.execute(select(c.last_error).where(
                        where, c.adapter == adapter).order_by(c.updated_at.desc())
                        .limit(1)).scalar() or ""
                    found.append(LateWritebacks(adapter, kind, count, oldest,
                                                next_attempt if kind == "retrying" else None,
                                                last_error))
        return found

    def counts(self) -> dict[str, dict[str, int]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(crm_writebacks.c.adapter, crm_writebacks.c.state,
                                       func.count()).group_by(crm_writebacks.c.adapter,
                                                              crm_writebacks.c.state))
            result: dict[str, dict[str, int]] = {}
            for adapter, state, count in rows:
                result.setdefault(adapter, {})[state] = count
        return result


@dataclass(frozen=True)
class LateWritebacks:
    """Call logs of one adapter that are late, and why (see :meth:`Pipeline.late`)."""

    adapter: str
    kind: str  # "retrying" | "unattended"
    count: int
    oldest: datetime
    next_attempt_at: datetime | None
    last_error: str


def _waiting_or_running(job_id: str, queue: Queue) -> bool:
    """A finished or failed job of the same id may be replaced; a live one is kept."""
    try:
        job = Job.fetch(job_id, connection=queue.connection, serializer=queue.serializer)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.SCHEDULED,
                                             JobStatus.STARTED, JobStatus.DEFERRED)


def _insert_ignore(conn: Connection, values: dict[str, Any]) -> None:
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)
    conn.execute(insert(crm_writebacks).values(**values).on_conflict_do_nothing(
        index_elements=["call_sid", "adapter"]))


def init_app(app: Flask) -> None:
    from . import crm, db, queue

    settings = app.config["CTI_SETTINGS"]
    app.extensions["cti.writeback"] = Pipeline(
        db.get_engine(app), queue.get_queue(QUEUE, app), crm.get_layer(app),
        now=app.extensions["cti.clock"], delay_seconds=settings.crm.writeback_delay_seconds)


def get_pipeline(app: Flask | None = None) -> Pipeline:
    return (app or current_app).extensions["cti.writeback"]


def call_finished(call_sid: str, *, app: Flask | None = None) -> None:
    """Queue the CRM write-back of a final call. Idempotent; never raises.

    Call it after the transaction that recorded the final state has committed.
    """
    _hand_off("call_finished", call_sid, app)


def call_updated(call_sid: str, *, app: Flask | None = None) -> None:
    """The log of an already final call changed (wrap-up): write it again. Never raises."""
    _hand_off("call_updated", call_sid, app)


def _hand_off(method: str, call_sid: str, app: Flask | None) -> None:
    app = app or current_app
    pipeline = app.extensions.get("cti.writeback")
    if pipeline is None:
        return
    try:
        try:
            getattr(pipeline, method)(call_sid)
        except Exception as exc:
            if not db.disconnected(exc):
                raise
            getattr(pipeline, method)(call_sid)  # idempotent; the pool has reconnected
    except Exception:  # a lost hand-off is repaired by the sweeper; the webhook must answer
        log.exception("write-back hand-off failed", extra={"call_sid": call_sid})
