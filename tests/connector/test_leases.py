"""Write-back leases: renewed while a job runs, lapsing soon after its worker dies."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from connector import create_app, db, maintenance, writeback
from connector import writeback_jobs as jobs
from connector.schema import crm_writebacks
from tests.conftest import app_config
from tests.connector.crm_fixtures import TOKEN, add_call, crm_section, run_jobs, sid
from tests.fakes.example_crm import FakeExampleCRM
from tests.fakes.server import LiveServer


def finish(app, call_sid):
    with app.app_context():
        writeback.call_finished(call_sid)


def claimed_until(app, call_sid):
    with db.get_engine(app).connect() as conn:
        return conn.execute(select(crm_writebacks.c.claimed_until).where(
            crm_writebacks.c.call_sid == call_sid)).scalar()


def test_a_lease_is_short_and_renewed_while_the_block_runs(crm_app, clock):
    add_call(crm_app, sid(1), clock=clock)
    finish(crm_app, sid(1))
    engine = db.get_engine(crm_app)
    token, claimed = jobs.claim(engine, "example", sid(1), 10, clock())
    assert len(claimed) == 1
    first = claimed_until(crm_app, sid(1))
    assert first == clock() + jobs.LEASE and jobs.LEASE <= timedelta(seconds=20)
    clock.advance(seconds=60)
    with jobs.keep_lease(engine, token, clock, every=0.05):
        deadline = time.monotonic() + 5
        while claimed_until(crm_app, sid(1)) == first and time.monotonic() < deadline:
            time.sleep(0.02)
    renewed = claimed_until(crm_app, sid(1))
    assert renewed == clock() + jobs.LEASE  # renewed from the clock of the renewal
    clock.advance(seconds=60)
    time.sleep(0.2)
    assert claimed_until(crm_app, sid(1)) == renewed  # no renewals once the block ended


def test_a_slow_crm_write_keeps_its_lease(crm_app, fake_crm, clock, monkeypatch):
    """While the CRM takes longer than the lease, the rows stay claimed by the job."""
    monkeypatch.setattr(jobs, "LEASE_RENEW_SECONDS", 0.05)
    add_call(crm_app, sid(1), clock=clock)
    adapter = crm_app.extensions["cti.crm"].adapters["example"]
    original = adapter.write_call_logs
    seen = {}

    def slow_write(logs):
        clock.advance(seconds=jobs.LEASE.total_seconds() * 3)  # far past the first lease
        time.sleep(0.3)
        seen["until"] = claimed_until(crm_app, sid(1))
        with crm_app.app_context():  # a sweeper now must not take the rows
            seen["reclaimed"] = writeback.get_pipeline(crm_app).reclaim_lapsed()
        return original(logs)

    monkeypatch.setattr(adapter, "write_call_logs", slow_write)
    finish(crm_app, sid(1))
    run_jobs(crm_app)
    assert seen["until"] > clock()
    assert seen["reclaimed"] == 0
    assert len(fake_crm.logs_for(sid(1))) == 1 and fake_crm.writes[sid(1)] == 1


def test_lapsed_claims_are_queued_again_once(crm_app, fake_crm, clock):
    for n in range(3):
        add_call(crm_app, sid(n), clock=clock)
        finish(crm_app, sid(n))
    # A worker claimed the rows and died before writing anything.
    jobs.claim(db.get_engine(crm_app), "example", sid(0), 10, clock())
    pipeline = writeback.get_pipeline(crm_app)
    with crm_app.app_context():
        assert pipeline.reclaim_lapsed() == 0  # the lease still holds
        clock.advance(seconds=jobs.LEASE.total_seconds() + 1)
        assert pipeline.reclaim_lapsed() == 3
        assert pipeline.reclaim_lapsed() == 0  # taken back once
    run_jobs(crm_app)
    for n in range(3):
        assert len(fake_crm.logs_for(sid(n))) == 1
    assert fake_crm.count("PUT", "/api/call-logs") == 1  # one batch


def test_the_maintenance_tick_reclaims_and_only_one_worker_does(crm_app, clock):
    add_call(crm_app, sid(1), clock=clock)
    finish(crm_app, sid(1))
    jobs.claim(db.get_engine(crm_app), "example", sid(1), 10, clock())
    clock.advance(seconds=jobs.LEASE.total_seconds() + 1)
    assert maintenance.run_tick(crm_app)["reclaimed"] == 1
    assert "another worker" in maintenance.run_tick(crm_app)["skipped"]


def _all_processes_of(pid):
    """``pid`` and its descendants (rq's work horse leaves the worker's process group)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        found.append(parent)
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == parent:
                    todo.append(int(entry))
    return found


def _start_worker(config):
    return subprocess.Popen([sys.executable, "-m", "connector.cli", "--config", str(config),
                             "worker"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_a_killed_workers_writes_land_within_30_s(tmp_path, sqlite_url, redis_url):
    """Real workers: the first is SIGKILLed (with its work horse) while its write hangs; the
    second writes the log within 30 s of the kill — not after a six-minute lease."""
    fake = FakeExampleCRM(token=TOKEN, hang_seconds=25)
    with LiveServer(fake) as live:
        fake.url = live.url
        config = tmp_path / "cti.toml"
        config.write_text(f"""
[server]
data_dir = "{tmp_path / 'var'}"
secret_key = "{'k' * 40}"
[storage]
database_url = "{sqlite_url}"
[queue]
redis_url = "{redis_url}"
[crm]
adapters = ["example"]
writeback_delay_seconds = 0
[crm.example]
base_url = "{live.url}"
api_token = "{TOKEN}"
""")
        app = create_app(app_config(tmp_path, sqlite_url, redis_url, crm=crm_section(fake)))
        add_call(app, sid(1), clock=lambda: datetime.now(UTC))
        fake.fail_next("timeout")  # the CRM hangs: the write is in flight when we kill
        first = _start_worker(config)
        second = None
        try:
            finish(app, sid(1))
            deadline = time.monotonic() + 30
            while fake.count("PUT", "/api/call-logs") == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert fake.count("PUT", "/api/call-logs") == 1, "the worker never wrote"
            for pid in _all_processes_of(first.pid):
                os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            first.wait(timeout=10)
            second = _start_worker(config)
            while not fake.logs_for(sid(1)) and time.monotonic() < killed + 60:
                time.sleep(0.1)
            took = time.monotonic() - killed
            assert fake.logs_for(sid(1)), "the log never landed"
            assert took <= 30, f"the log landed {took:.0f} s after the kill"
            assert fake.writes[sid(1)] == 1
        finally:
            for process in (first, second):
                if process is not None and process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=30)
            fake.hang_seconds = 0  # let a hanging request thread end


def test_keep_lease_survives_database_errors(crm_app, clock, monkeypatch):
    calls = []

    def flaky(engine, token, now):
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("connection dropped")
        return 1

    monkeypatch.setattr(jobs, "renew_lease", flaky)
    done = threading.Event()
    with jobs.keep_lease(db.get_engine(crm_app), "t" * 32, clock, every=0.02):
        done.wait(0.3)
    assert len(calls) >= 2  # the renewal after the failed one still ran


def test_a_crm_that_answers_again_gets_the_backlog_at_once(crm_app, fake_crm, clock):
    """Logs backed off during an outage are written with the first batch that gets through,
    not each after its own backoff."""
    for n in range(3):
        add_call(crm_app, sid(n), clock=clock)
    fake_crm.fail_next("503", times=3)
    for n in range(3):  # three batches, three failures: backoffs of up to 40 s
        finish(crm_app, sid(n))
        run_jobs(crm_app)
    with db.get_engine(crm_app).connect() as conn:
        waiting = conn.execute(select(crm_writebacks.c.next_attempt_at)).scalars().all()
    assert all(at > clock() for at in waiting) and not fake_crm.logs_for(sid(0))
    add_call(crm_app, sid(9), clock=clock)  # a new call's log goes through: the CRM is back
    finish(crm_app, sid(9))
    run_jobs(crm_app)  # the clock has not moved
    for n in (0, 1, 2, 9):
        assert len(fake_crm.logs_for(sid(n))) == 1, n


def test_redriving_dead_letters_queues_one_job_per_batch(crm_app, fake_crm, clock):
    for n in range(150):
        add_call(crm_app, sid(n), clock=clock)
    fake_crm.fail_next("401", times=2)
    for n in range(150):
        finish(crm_app, sid(n))
    run_jobs(crm_app)  # two batches (100 + 50), both refused: 150 dead letters
    pipeline = writeback.get_pipeline(crm_app)
    assert len(pipeline.failed()) == 150
    queue = pipeline.queue
    queue.empty()
    with crm_app.app_context():
        assert pipeline.retry_failed(adapter="example") == 150
    assert queue.count == 2  # not 150 jobs that would find their row already written
    run_jobs(crm_app)
    assert all(len(fake_crm.logs_for(sid(n))) == 1 for n in range(150))
    assert fake_crm.count("PUT", "/api/call-logs") == 4


def test_calls_ending_together_share_one_job(crm_app, fake_crm, clock):
    pipeline = writeback.get_pipeline(crm_app)
    for n in range(5):
        add_call(crm_app, sid(n), clock=clock)
        finish(crm_app, sid(n))
    assert pipeline.queue.count == 1  # not one fork per call
    run_jobs(crm_app)
    assert all(len(fake_crm.logs_for(sid(n))) == 1 for n in range(5))
    assert fake_crm.count("PUT", "/api/call-logs") == 1
    add_call(crm_app, sid(7), clock=clock)  # the job started: later calls get a job again
    finish(crm_app, sid(7))
    assert pipeline.queue.count == 1
    run_jobs(crm_app)
    assert len(fake_crm.logs_for(sid(7))) == 1


def test_a_job_that_leaves_due_rows_queues_the_next(crm_app, fake_crm, clock):
    for n in range(130):
        add_call(crm_app, sid(n), clock=clock)
        finish(crm_app, sid(n))
    run_jobs(crm_app)  # one job queued; it writes 100 and queues one for the other 30
    assert all(len(fake_crm.logs_for(sid(n))) == 1 for n in range(130))
    assert fake_crm.count("PUT", "/api/call-logs") == 2


def test_a_failing_scheduler_check_does_not_stop_the_reaper(crm_app, clock, monkeypatch):
    def broken(worker):
        raise KeyError("name")

    monkeypatch.setattr(maintenance.scheduler_lock, "ensure_scheduler", broken)
    add_call(crm_app, sid(1), clock=clock)
    finish(crm_app, sid(1))
    jobs.claim(db.get_engine(crm_app), "example", sid(1), 10, clock())
    clock.advance(seconds=jobs.LEASE.total_seconds() + 1)
    assert maintenance.run_tick(crm_app, worker=object())["reclaimed"] == 1
