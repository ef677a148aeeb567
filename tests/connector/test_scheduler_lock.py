"""rq's scheduler lock is taken over from a scheduler that is gone, never from a live one."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from rq.scheduler import RQScheduler

from connector import queue, scheduler_lock


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def holder(redis_client, *, pid, heartbeat_age=0.0, name="old-scheduler"):
    """A scheduler registration holding the ``writeback`` lock, as a worker leaves it."""
    scheduler = RQScheduler(["writeback"], connection=redis_client, name=name)
    assert scheduler.acquire_locks() == {"writeback"}
    scheduler.register_birth()
    redis_client.hset(scheduler.key, mapping={"pid": str(pid)})
    if heartbeat_age:
        old = datetime.now(UTC) - timedelta(seconds=heartbeat_age)
        redis_client.hset(scheduler.key, "last_heartbeat", old.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    return scheduler


def lock_owner(redis_client):
    value = redis_client.get(RQScheduler.get_locking_key("writeback"))
    return value.decode() if value else None


def test_a_live_schedulers_lock_is_kept(redis_client):
    holder(redis_client, pid=os.getpid())
    assert scheduler_lock.stale_owner(redis_client, "writeback") is None
    assert scheduler_lock.release_stale(redis_client, ["writeback"]) == []
    assert lock_owner(redis_client) == "old-scheduler"


def test_the_lock_of_a_process_that_died_on_this_host_is_released(redis_client):
    holder(redis_client, pid=dead_pid())  # its heartbeat is fresh: killed a moment ago
    assert scheduler_lock.stale_owner(redis_client, "writeback") == "old-scheduler"
    assert scheduler_lock.release_stale(redis_client, ["writeback"]) == ["writeback"]
    assert lock_owner(redis_client) is None


def test_a_silent_scheduler_elsewhere_is_gone(redis_client):
    scheduler = holder(redis_client, pid=os.getpid(), heartbeat_age=30)
    redis_client.hset(scheduler.key, "hostname", "another-host")
    assert scheduler_lock.stale_owner(redis_client, "writeback") == "old-scheduler"
    redis_client.hset(scheduler.key, "last_heartbeat",
                      datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    assert scheduler_lock.stale_owner(redis_client, "writeback") is None


def test_a_lock_without_registration_is_gone(redis_client):
    scheduler = holder(redis_client, pid=os.getpid())
    redis_client.delete(scheduler.key)
    assert scheduler_lock.stale_owner(redis_client, "writeback") == "old-scheduler"


def test_no_lock_no_owner(redis_client):
    assert scheduler_lock.stale_owner(redis_client, "writeback") is None


@pytest.mark.slow
def test_a_worker_starts_its_scheduler_in_place_of_a_dead_one(make_app, redis_url,
                                                               redis_client):
    app = make_app(redis_url=redis_url)
    worker = queue.make_worker(app)
    # A worker killed with its scheduler: both queues' locks held by a process that is gone.
    holder(redis_client, pid=dead_pid(), name="dead-one")
    RQScheduler(["default"], connection=redis_client, name="dead-one").acquire_locks()
    worker.scheduler = RQScheduler(worker.queues, connection=worker.connection,
                                   serializer=worker.serializer)
    worker.scheduler.acquire_locks()
    assert not worker.scheduler.acquired_locks  # what rq's start-up found: taken
    try:
        assert scheduler_lock.ensure_scheduler(worker) is True
        assert lock_owner(redis_client) == worker.scheduler.name
        deadline = time.monotonic() + 10
        while not redis_client.exists(worker.scheduler.key) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert redis_client.exists(worker.scheduler.key)  # the scheduler process runs
        assert scheduler_lock.ensure_scheduler(worker) is False  # already running
    finally:
        worker.stop_scheduler()


def test_a_registration_rebuilt_by_a_heartbeat_after_a_flush(redis_client):
    """After FLUSHALL a live scheduler's heartbeat writes back only ``last_heartbeat``."""
    scheduler = holder(redis_client, pid=os.getpid())
    redis_client.delete(scheduler.key)
    redis_client.hset(scheduler.key, "last_heartbeat",
                      datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    assert scheduler_lock.stale_owner(redis_client, "writeback") is None
    old = datetime.now(UTC) - timedelta(seconds=30)
    redis_client.hset(scheduler.key, "last_heartbeat", old.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    assert scheduler_lock.stale_owner(redis_client, "writeback") == "old-scheduler"
