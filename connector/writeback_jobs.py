"""The write-back job the worker runs: claim a batch, write it, record each outcome.

Outcomes per batch, by the adapter's typed errors:

- success → each row ``done`` (or still ``pending`` if a wrap-up bumped its revision meanwhile,
  in which case a follow-up job is queued); per-record rejections → ``failed`` (dead letter);
- :class:`AdapterRateLimited` → deferred until the CRM says, without using up a retry;
- :class:`AdapterTemporaryError` (timeouts, 429, 5xx, locks) → retried with exponential backoff
  and jitter, dead-lettered after ``[crm] writeback_max_attempts``;
- auth / configuration / permanent errors → dead-lettered at once for an admin
  (``cti jobs failed``, then ``cti jobs retry`` after fixing the cause);
- anything else (a bug) → retried like a temporary error, and re-raised so rq records it too.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Engine, and_, case, or_, select, update

from crm_adapters.base import CallLog, WriteResult
from crm_adapters.errors import (
    AdapterAuthError,
    AdapterConfigError,
    AdapterPermanentError,
    AdapterRateLimited,
    AdapterTemporaryError,
)

from . import call_logs, clock, crm, db, notify, writeback
from .schema import crm_writebacks

log = logging.getLogger("cti.writeback")

#: How long a claim lasts unless its job renews it. A running job renews it every
#: ``LEASE_RENEW_SECONDS`` (:func:`keep_lease`), however long the CRM takes; a worker that dies
#: stops renewing, and its rows are due again this soon (the lease reaper re-queues them,
#: ``Pipeline.reclaim_lapsed``). Two renewals may be missed (a database blip) before it lapses.
LEASE = timedelta(seconds=15)
LEASE_RENEW_SECONDS = 5.0
#: How long to wait for an adapter that is enabled but could not be loaded.
UNAVAILABLE_RETRY = 3600.0


def write_back(adapter_name: str, call_sid: str) -> dict[str, Any]:
    """Write the due logs of ``adapter_name``, the call ``call_sid`` first."""
    app = current_app
    now = clock.now()
    engine = db.get_engine()
    pipeline = writeback.get_pipeline()
    adapter = crm.get_layer().adapters.get(adapter_name)
    max_attempts = app.config["CTI_SETTINGS"].crm.writeback_max_attempts
    limit = adapter.write_batch_limit if adapter else 1
    pipeline.job_started(adapter_name)  # before claiming: see Pipeline.enqueue_coalesced
    token, rows = claim(engine, adapter_name, call_sid, limit, now)
    if not rows:
        pipeline.kick(adapter_name)
        return {"adapter": adapter_name, "claimed": 0}
    batch = Batch(engine, token, rows, now,
                  base_url=app.config["CTI_SETTINGS"].server.public_base_url)
    with keep_lease(engine, token, app.extensions["cti.clock"]):
        summary = _write(batch, pipeline, adapter, adapter_name, max_attempts)
    pipeline.kick(adapter_name)  # more calls ended together than one batch holds
    return summary


def _write(batch: Batch, pipeline: writeback.Pipeline, adapter: Any, adapter_name: str,
           max_attempts: int) -> dict[str, Any]:
    """Write the claimed batch and record its outcome (while :func:`keep_lease` renews it)."""
    rows = batch.rows
    if adapter is None or not adapter.server_side:
        batch.defer(UNAVAILABLE_RETRY, f"adapter {adapter_name!r} is not available")
        return {"adapter": adapter_name, "claimed": len(rows), "deferred": len(rows)}
    logs = batch.build_logs()
    try:
        results = adapter.write_call_logs(logs) if logs else []
    except AdapterRateLimited as exc:
        batch.defer(exc.retry_after or 60.0, str(exc))
    except AdapterTemporaryError as exc:
        batch.retry_later(str(exc), max_attempts)
    except (AdapterAuthError, AdapterConfigError, AdapterPermanentError) as exc:
        batch.dead_letter(str(exc))
    except Exception as exc:
        batch.retry_later(f"{type(exc).__name__}: {exc}", max_attempts)
        batch.schedule(pipeline, adapter_name)
        raise
    else:
        batch.complete(logs, results)
        if batch.outcome.get("written"):
            pipeline.expedite(adapter_name)
    batch.schedule(pipeline, adapter_name)
    return batch.summary(adapter_name)


@contextmanager
def keep_lease(engine: Engine, token: str, now: Callable[[], datetime], *,
               every: float | None = None) -> Iterator[None]:
    """Renew the claim ``token`` every ``every`` seconds while the block runs.

    A thread of the job's own process does it, so the renewals stop exactly when the job does —
    finished, raised, or its process killed — and only then can the lease lapse.
    """
    stopped = threading.Event()
    every = LEASE_RENEW_SECONDS if every is None else every

    def renew() -> None:
        while not stopped.wait(every):
            try:
                renew_lease(engine, token, now())
            except Exception:  # the database blinked; the next renewal tries again
                log.warning("could not renew a write-back lease", exc_info=True)

    thread = threading.Thread(target=renew, name="cti-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stopped.set()
        thread.join(timeout=every)


def renew_lease(engine: Engine, token: str, now: datetime) -> int:
    """Extend the rows still claimed with ``token`` to ``now + LEASE``; returns how many."""
    with engine.begin() as conn:
        return conn.execute(update(crm_writebacks).where(
            crm_writebacks.c.claim_token == token).values(claimed_until=now + LEASE)).rowcount


def claim(engine: Engine, adapter: str, first_call_sid: str, limit: int,
          now: datetime) -> tuple[str, list[Any]]:
    """Claim up to ``limit`` due rows of ``adapter`` (``first_call_sid`` first) for a lease.

    Nothing is claimed unless ``first_call_sid`` itself still waits: the jobs of calls that an
    earlier batch already took end at once, so calls ending together are written together
    instead of trickling out in one-row batches behind a big one.
    """
    token = secrets.token_hex(16)
    due = and_(crm_writebacks.c.adapter == adapter, crm_writebacks.c.state == "pending",
               or_(crm_writebacks.c.next_attempt_at.is_(None),
                   crm_writebacks.c.next_attempt_at <= now),
               or_(crm_writebacks.c.claimed_until.is_(None),
                   crm_writebacks.c.claimed_until < now))
    first = case((crm_writebacks.c.call_sid == first_call_sid, 0), else_=1)
    with engine.begin() as conn:
        own = conn.execute(select(crm_writebacks.c.id).where(
            due, crm_writebacks.c.call_sid == first_call_sid)).first()
        if own is None:
            return token, []
        ids = list(conn.execute(select(crm_writebacks.c.id).where(due).order_by(
            first, crm_writebacks.c.id).limit(limit)).scalars())
        if not ids:
            return token, []
        # `due` again: another worker may have claimed some of these since the SELECT.
        conn.execute(update(crm_writebacks).where(crm_writebacks.c.id.in_(ids), due).values(
            claim_token=token, claimed_until=now + LEASE))
        rows = conn.execute(select(crm_writebacks).where(
            crm_writebacks.c.claim_token == token).order_by(first, crm_writebacks.c.id)).all()
    return token, rows


class Batch:
    """The claimed rows of one job and the bookkeeping of their outcome."""

    def __init__(self, engine: Engine, token: str, rows: list[Any], now: datetime, *,
                 base_url: str = "") -> None:
        self.engine = engine
        self.base_url = base_url
        self.token = token
        self.rows = rows
        self.now = now
        self.outcome: dict[str, int] = {}
        self.next_try: float | None = None

    def build_logs(self) -> list[CallLog]:
        logs = []
        with self.engine.connect() as conn:
            for row in list(self.rows):
                try:
                    logs.append(call_logs.build(conn, row.call_sid, row.adapter,
                                                base_url=self.base_url))
                except call_logs.CallMissing as exc:
                    self._finish(row, state="failed", last_error=str(exc))
                    self.rows.remove(row)
        return logs

    def complete(self, logs: list[CallLog], results: list[WriteResult]) -> None:
        if len(results) != len(logs):
            self.retry_later(f"adapter returned {len(results)} results for {len(logs)} logs", 1)
            return
        for row, result in zip(self.rows, results, strict=True):
            if result.ok:
                self._finish(row, written_revision=row.revision, record_id=result.record_id[:64],
                             last_error="", attempts=0,
                             state=case((crm_writebacks.c.revision == row.revision, "done"),
                                        else_="pending"))
                self._count("written")
            else:
                where = f" (field {result.field})" if result.field else ""
                self._finish(row, state="failed", last_error=f"{result.error}{where}")
                self._count("failed")

    def defer(self, seconds: float, reason: str) -> None:
        for row in self.rows:
            self._finish(row, next_attempt_at=self.now + timedelta(seconds=seconds),
                         last_error=reason[:2000])
        self._count("deferred", len(self.rows))
        self._plan(seconds)

    def retry_later(self, reason: str, max_attempts: int) -> None:
        for row in self.rows:
            attempts = row.attempts + 1
            if attempts >= max_attempts:
                self._finish(row, state="failed", attempts=attempts,
                             last_error=f"gave up after {attempts} attempts: {reason}"[:2000])
                self._count("failed")
            else:
                delay = writeback.backoff(attempts)
                self._finish(row, attempts=attempts, last_error=reason[:2000],
                             next_attempt_at=self.now + timedelta(seconds=delay))
                self._count("retrying")
                self._plan(delay)

    def dead_letter(self, reason: str) -> None:
        for row in self.rows:
            self._finish(row, state="failed", last_error=reason[:2000])
        self._count("failed", len(self.rows))

    def schedule(self, pipeline: writeback.Pipeline, adapter: str) -> None:
        """Queue whatever this batch left to do: a retry, or rows a wrap-up changed meanwhile."""
        with self.engine.connect() as conn:
            left = conn.execute(select(crm_writebacks.c.call_sid, crm_writebacks.c.revision,
                                       crm_writebacks.c.attempts).where(
                crm_writebacks.c.id.in_([r.id for r in self.rows]),
                crm_writebacks.c.state == "pending")).all()
        if not left:
            return
        first = left[0]
        delay = self.next_try if self.next_try is not None else 0.0
        pipeline.enqueue(adapter, first.call_sid, first.revision, delay=delay,
                         tag=f"try{first.attempts}-{int(self.now.timestamp())}")

    def summary(self, adapter: str) -> dict[str, Any]:
        return {"adapter": adapter, "claimed": len(self.rows), **self.outcome}

    def _plan(self, seconds: float) -> None:
        self.next_try = seconds if self.next_try is None else min(self.next_try, seconds)

    def _count(self, key: str, n: int = 1) -> None:
        self.outcome[key] = self.outcome.get(key, 0) + n

    def _finish(self, row: Any, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(crm_writebacks).where(
                crm_writebacks.c.id == row.id, crm_writebacks.c.claim_token == self.token).values(
                claim_token=None, claimed_until=None, updated_at=self.now, **values))
        if values.get("state") == "failed":
            log.warning("write-back dead-lettered", extra={
                "call_sid": row.call_sid, "adapter": row.adapter,
                "error": str(values.get("last_error", ""))[:300]})
            notify.writeback_failed(row.adapter, row.call_sid,
                                    str(values.get("last_error", "")),
                                    time=f"{self.now:%Y-%m-%d %H:%M} UTC")
