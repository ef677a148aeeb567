"""Taking over rq's scheduler lock from a scheduler that is gone.

rq runs one scheduler per queue across all workers: whoever holds ``rq:scheduler-lock:<queue>``
moves due delayed jobs (every write-back is queued with a short delay, every retry with a long
one) onto the queue. The lock lives ``interval + 60`` s after its owner's last renewal, and a
worker without the lock tries again only at its maintenance round (every 10 minutes). So a
worker restarted after a ``kill -9`` ran for up to a minute — and, with no other worker, up to
ten — with nobody moving delayed jobs.

Here a lock whose owner is gone is released at start-up and on every maintenance tick, and the
worker's scheduler started: the owner is gone when its registration (rq's scheduler hash) has
expired, when it has not renewed it for :data:`STALE_AFTER`, or when it ran on this host and its
process no longer exists. Only rq's public scheduler API is used, plus its token-checked
``release_lock`` so that a lock another scheduler took meanwhile is never deleted.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import redis
from rq import Worker
from rq.exceptions import SchedulerNotFound
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock
from rq.utils import utcparse

log = logging.getLogger("cti.jobs")

#: rq's scheduler renews its registration every second; this many seconds of silence mean its
#: process is stopped or gone (a busy machine may delay a renewal by a few seconds).
STALE_AFTER = timedelta(seconds=10)


def stale_owner(connection: redis.Redis, queue_name: str, *,
                now: datetime | None = None) -> str | None:
    """The name of the scheduler holding ``queue_name``'s lock if it is gone, else ``None``
    (no lock, or a live owner)."""
    owner = connection.get(RQScheduler.get_locking_key(queue_name))
    if owner is None:
        return None
    name = owner.decode() if isinstance(owner, bytes) else str(owner)
    now = now or datetime.now(UTC)
    try:
        scheduler = RQScheduler.fetch(name, connection)
    except SchedulerNotFound:
        return name
    except (KeyError, ValueError):
        # A registration without its other fields: after a FLUSHALL the owner's heartbeat
        # writes back only ``last_heartbeat``. Its age alone says whether the owner lives.
        return name if _heartbeat_age(connection, name, now) > STALE_AFTER else None
    if scheduler.last_heartbeat is None or now - scheduler.last_heartbeat > STALE_AFTER:
        return name
    if scheduler.hostname == socket.gethostname() and not _alive(scheduler.pid):
        return name
    return None


def _heartbeat_age(connection: redis.Redis, name: str, now: datetime) -> timedelta:
    raw = connection.hget(SCHEDULER_KEY_TEMPLATE % name, "last_heartbeat")
    try:
        return now - utcparse(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (AttributeError, ValueError):
        return timedelta.max


def release_stale(connection: redis.Redis, queue_names: Iterable[str], *,
                  now: datetime | None = None) -> list[str]:
    """Release the scheduler locks of ``queue_names`` whose owner is gone; returns the queues.

    Redis being down releases nothing (the worker's own retry loop waits for it).
    """
    released = []
    for queue_name in queue_names:
        try:
            owner = stale_owner(connection, queue_name, now=now)
            taken = bool(owner) and release_lock(
                connection, RQScheduler.get_locking_key(queue_name), owner)
        except redis.RedisError as exc:
            log.warning("could not check the job scheduler's lock: %s", exc)
            return released
        if taken:
            log.warning("took over the job scheduler of queue %r from a scheduler that is gone "
                        "(%s)", queue_name, owner)
            released.append(queue_name)
    return released


def ensure_scheduler(worker: Worker) -> bool:
    """Start ``worker``'s scheduler if no live scheduler serves its queues; True if started.

    For a worker started with ``with_scheduler=True`` whose scheduler process is not running —
    it did not get the lock at start-up, or it died.
    """
    scheduler = worker.scheduler
    if scheduler is None or (scheduler._process is not None and scheduler._process.is_alive()):
        return False
    release_stale(worker.connection, worker.queue_names())
    scheduler.acquire_locks(auto_start=True)
    return bool(scheduler._process is not None and scheduler._process.is_alive())


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True  # unknown: let the heartbeat decide
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
