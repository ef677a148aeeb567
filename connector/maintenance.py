"""Periodic upkeep run by every ``cti worker``: finalizing calls whose last callbacks never
came, the write-back sweeper, scheduled syncs, and taking agents whose softphone went away
offline.

It runs in a thread of the worker process rather than as jobs scheduled in Redis, because its job
is to repair what a Redis restart or flush lost. A Redis lock makes one worker do each round.

Between rounds, a short *tick* (every :data:`TICK_SECONDS`) does what cannot wait half a
minute: re-queue write-backs whose worker died (their lease lapsed, see
``connector.writeback_jobs.LEASE``) and, in each worker, take over rq's scheduler from one that
is gone (:mod:`.scheduler_lock`).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import redis
from flask import Flask
from rq import Worker

from . import clock, crm, db, queue, scheduler_lock, sync, writeback

log = logging.getLogger("cti.maintenance")

SYNC_JOB = "connector.maintenance.run_sync"
#: Seconds between ticks; with the lease, a dead worker's write-backs are queued again within
#: ``LEASE + TICK_SECONDS`` (20 s).
TICK_SECONDS = 5.0


class Maintenance(threading.Thread):
    def __init__(self, app: Flask, *, interval: float = 30.0, tick: float = TICK_SECONDS,
                 worker: Worker | None = None) -> None:
        super().__init__(name="cti-maintenance", daemon=True)
        self.app = app
        self.interval = interval
        self.tick = min(tick, interval)
        self.worker = worker
        self.stopped = threading.Event()

    def run(self) -> None:
        next_round = time.monotonic() + self.interval
        while not self.stopped.wait(self.tick):
            try:
                run_tick(self.app, self.worker, lock_seconds=max(1, int(self.tick) - 1))
            except Exception:  # keep the thread alive; the next tick tries again
                log.exception("maintenance tick failed")
            if time.monotonic() < next_round:
                continue
            next_round = time.monotonic() + self.interval
            try:
                run_once(self.app, lock_seconds=max(1, int(self.interval) - 1))
            except Exception:  # keep the thread alive; the next round tries again
                log.exception("maintenance round failed")

    def stop(self) -> None:
        self.stopped.set()


def run_once(app: Flask, *, lock_seconds: int = 29) -> dict[str, object]:
    """One round: sweep write-backs, queue the syncs that are due. Returns what it did."""
    client = queue.get_redis(app)
    try:
        if not client.set("cti:maintenance:lock", "1", nx=True, ex=lock_seconds):
            return {"skipped": "another worker holds the maintenance lock"}
    except redis.RedisError as exc:
        return {"skipped": f"redis unavailable: {exc}"}
    from .console import retention
    from .voice import charges
    from .voice import jobs as voice_jobs

    with app.app_context():
        offline = sweep_devices(app)
        overdue = voice_jobs.finalize_overdue_calls()
        swept = writeback.get_pipeline(app).sweep()
        synced = schedule_syncs(app)
        kept = retention.run_if_due(app)
        priced = charges.sweep(app)
    return {"offline": offline, "finalized": overdue, "sweep": swept, "syncs": synced,
            "retention": kept, "charges": priced}


def run_tick(app: Flask, worker: Worker | None = None, *,
             lock_seconds: int = 4) -> dict[str, object]:
    """The frequent part: this worker's scheduler, then (one worker per tick) lapsed leases."""
    done: dict[str, object] = {}
    client = queue.get_redis(app)
    if worker is not None:
        try:
            done["scheduler_started"] = scheduler_lock.ensure_scheduler(worker)
        except Exception:  # the leases below must not wait for this
            log.exception("could not check the job scheduler")
    try:
        if not client.set("cti:maintenance:leases", "1", nx=True, ex=lock_seconds):
            return {**done, "skipped": "another worker holds the lease lock"}
    except redis.RedisError as exc:
        return {**done, "skipped": f"redis unavailable: {exc}"}
    with app.app_context():
        done["reclaimed"] = writeback.get_pipeline(app).reclaim_lapsed()
        # Work that must follow within seconds (campaign pacing: app.extensions["cti.tick_hooks"]),
        # once per tick under the same lock.
        for hook in app.extensions.get("cti.tick_hooks", ()):
            try:
                done[hook.__module__] = hook(app)
            except Exception:  # one hook's failure must not stop the others
                log.exception("tick hook failed", extra={"hook": hook.__module__})
    return done


def sweep_devices(app: Flask) -> int:
    """Set agents whose softphone stopped reporting offline, so routing stops offering them
    calls even when nobody opens the agent list (a closed laptop does not sign out)."""
    from . import acd
    from .acd import presence_ops as acd_presence
    from .softphone import devices

    stale = timedelta(seconds=app.config["CTI_SETTINGS"].softphone.device_stale_seconds)
    board = acd.get_acd(app).board
    now = clock.now(app)
    with db.get_engine(app).begin() as conn:
        return devices.sweep_stale(conn, now=now, stale_after=stale, on_offline=lambda agent_id:
                                   acd_presence.went_offline(board, agent_id, now))


def schedule_syncs(app: Flask) -> list[str]:
    """Queue an incremental sync for each adapter whose interval has passed."""
    settings = app.config["CTI_SETTINGS"].crm
    if not settings.sync_interval_minutes:
        return []
    layer = crm.get_layer(app)
    states = sync.state(layer.engine)
    now = clock.now(app)
    due = []
    for name, adapter in layer.server_side.items():
        if not adapter.supports_sync:
            continue
        last = states.get(name, {}).get("last_sync_at")
        if last is None or now - last >= timedelta(minutes=settings.sync_interval_minutes):
            job_id = f"sync-{name}-{int(now.timestamp() // 60)}"
            queue.get_queue("default", app).enqueue(SYNC_JOB, name, job_id=job_id,
                                                    job_timeout=3600, result_ttl=3600)
            due.append(name)
    return due


def run_sync(adapter_name: str, full: bool = False) -> dict[str, object]:
    """Job: sync one adapter into the phone index."""
    from flask import current_app

    layer = crm.get_layer(current_app)
    report = sync.sync_adapter(layer.engine, layer.adapters[adapter_name],
                               now=current_app.extensions["cti.clock"], full=full)
    return {"adapter": adapter_name, "records": report.stats.records, "removed": report.removed}
