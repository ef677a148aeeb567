"""Write-back: every final call logged exactly once in every enabled CRM, under faults.

The CRM is a local fake of the example adapter's API that upserts by CallSid like a real CRM,
counts every request and every applied write, and fails on demand.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import EntryPoint

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from connector import create_app, db, writeback
from connector.schema import crm_writebacks
from connector.writeback_jobs import LEASE, claim
from crm_adapters.example import ExampleAdapter
from tests.conftest import app_config
from tests.connector.crm_fixtures import TOKEN, add_call, crm_section, run_jobs, sid
from tests.fakes.example_crm import FakeExampleCRM
from tests.fakes.server import LiveServer


def finish(app, call_sid):
    with app.app_context():
        writeback.call_finished(call_sid)


def rows(app):
    with db.get_engine(app).connect() as conn:
        return {(r.call_sid, r.adapter): r for r in conn.execute(select(crm_writebacks))}


def states(app):
    return sorted(r.state for r in rows(app).values())


def sweep(app):
    with app.app_context():
        return writeback.get_pipeline(app).sweep()


def assert_logged_once(fake, call_sids):
    for call_sid in call_sids:
        assert len(fake.logs_for(call_sid)) == 1, call_sid


# -- the normal path -----------------------------------------------------------------------------

def test_final_calls_are_logged_once_in_one_batch(crm_app, fake_crm, clock):
    calls = [sid(i) for i in range(3)]
    for call_sid in calls:
        add_call(crm_app, call_sid, clock=clock)
        finish(crm_app, call_sid)
        finish(crm_app, call_sid)  # a duplicate hand-off changes nothing
    run_jobs(crm_app)
    assert_logged_once(fake_crm, calls)
    assert fake_crm.count("PUT", "/api/call-logs") == 1  # batched
    assert all(fake_crm.writes[c] == 1 for c in calls)
    assert states(crm_app) == ["done"] * 3
    log = fake_crm.logs_for(calls[0])[0]
    assert log["customer_number"] == "+81312345678" and log["talk_seconds"] == 120
    assert log["started_at"].endswith("Z")


def test_a_burst_costs_few_requests(crm_app, fake_crm, clock):
    calls = [sid(i) for i in range(250)]
    for call_sid in calls:
        add_call(crm_app, call_sid, clock=clock)
        finish(crm_app, call_sid)
    run_jobs(crm_app)
    assert_logged_once(fake_crm, calls)
    assert fake_crm.count("PUT", "/api/call-logs") == 3  # 100 + 100 + 50


# -- faults during write-back --------------------------------------------------------------------

@pytest.mark.parametrize("failure", ["500", "503", "timeout", "after_write"])
def test_temporary_failures_are_retried_without_duplicates(crm_app, fake_crm, clock, failure):
    add_call(crm_app, sid(1), clock=clock)
    fake_crm.fail_next(failure)
    finish(crm_app, sid(1))
    run_jobs(crm_app)
    (row,) = rows(crm_app).values()
    assert row.state == "pending" and row.attempts == 1 and row.next_attempt_at > clock()
    assert sweep(crm_app)["jobs"] == 0  # not due yet: backoff
    clock.advance(seconds=11)
    assert sweep(crm_app)["jobs"] == 1
    run_jobs(crm_app)
    assert_logged_once(fake_crm, [sid(1)])
    assert states(crm_app) == ["done"]


def test_rate_limit_defers_without_using_a_retry(crm_app, fake_crm, clock):
    add_call(crm_app, sid(1), clock=clock)
    fake_crm.fail_next("429")
    finish(crm_app, sid(1))
    run_jobs(crm_app)
    (row,) = rows(crm_app).values()
    assert row.state == "pending" and row.attempts == 0
    assert row.next_attempt_at == clock() + timedelta(seconds=1)  # the CRM's Retry-After
    clock.advance(seconds=2)
    sweep(crm_app)
    run_jobs(crm_app)
    assert_logged_once(fake_crm, [sid(1)])


def test_backoff_grows_with_jitter_and_gives_up_into_the_dead_letters(make_app, fake_crm,
                                                                      redis_url, clock):
    app = make_app(redis_url=redis_url,
                   crm=crm_section(fake_crm, writeback_max_attempts=3))
    add_call(app, sid(1), clock=clock)
    fake_crm.fail_next("500", times=3)
    finish(app, sid(1))
    waits = []
    for _ in range(3):
        run_jobs(app)
        row = rows(app)[(sid(1), "example")]
        if row.state == "failed":
            break
        waits.append((row.next_attempt_at - clock()).total_seconds())
        clock.advance(seconds=waits[-1] + 1)
        sweep(app)
    assert rows(app)[(sid(1), "example")].state == "failed"
    assert "gave up after 3 attempts" in rows(app)[(sid(1), "example")].last_error
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20
    assert fake_crm.logs_for(sid(1)) == []


def test_auth_failure_goes_to_dead_letters_and_retry_redrives(crm_app, fake_crm, clock):
    add_call(crm_app, sid(1), clock=clock)
    fake_crm.fail_next("401")
    finish(crm_app, sid(1))
    run_jobs(crm_app)
    with crm_app.app_context():
        pipeline = writeback.get_pipeline(crm_app)
        (failed,) = pipeline.failed()
        assert failed["call_sid"] == sid(1) and "HTTP 401" in failed["last_error"]
        assert pipeline.retry_failed(adapter="example") == 1
    run_jobs(crm_app)
    assert_logged_once(fake_crm, [sid(1)])
    assert states(crm_app) == ["done"]


def test_a_rejected_record_does_not_block_the_others(crm_app, fake_crm, clock):
    add_call(crm_app, sid(1), clock=clock, notes="INVALID content")
    add_call(crm_app, sid(2), clock=clock)
    finish(crm_app, sid(1))
    finish(crm_app, sid(2))
    run_jobs(crm_app)
    assert rows(crm_app)[(sid(1), "example")].state == "failed"
    assert "field notes" in rows(crm_app)[(sid(1), "example")].last_error
    assert rows(crm_app)[(sid(2), "example")].state == "done"
    assert_logged_once(fake_crm, [sid(2)])


# -- lost jobs, lost hand-offs, killed workers ----------------------------------------------------

def test_redis_flushed_before_the_job_ran(crm_app, fake_crm, clock, redis_client):
    add_call(crm_app, sid(1), clock=clock)
    finish(crm_app, sid(1))
    redis_client.flushdb()
    run_jobs(crm_app)
    assert fake_crm.logs_for(sid(1)) == []
    assert sweep(crm_app)["jobs"] == 1
    run_jobs(crm_app)
    assert_logged_once(fake_crm, [sid(1)])


def test_redis_down_at_hand_off_and_a_lost_hand_off(tmp_path, sqlite_url, fake_crm, redis_url,
                                                    clock):
    down = create_app(app_config(tmp_path, sqlite_url, "redis://127.0.0.1:1/0",
                                 crm=crm_section(fake_crm)), clock=clock)
    add_call(down, sid(1), clock=clock)
    finish(down, sid(1))  # rows committed, enqueue failed — the webhook still answered
    add_call(down, sid(2), clock=clock)  # final, but the hand-off never happened
    up = create_app(app_config(tmp_path, sqlite_url, redis_url, crm=crm_section(fake_crm)),
                    clock=clock)
    result = sweep(up)
    assert result["handed_off"] == 1 and result["jobs"] >= 1
    run_jobs(up)
    assert_logged_once(fake_crm, [sid(1), sid(2)])


def test_claim_of_a_dead_worker_expires(crm_app, fake_crm, clock):
    add_call(crm_app, sid(1), clock=clock)
    finish(crm_app, sid(1))
    # A worker claimed the row and died before writing anything.
    _token, claimed = claim(db.get_engine(crm_app), "example", sid(1), 10, clock())
    assert len(claimed) == 1
    run_jobs(crm_app)  # the queued job finds the row taken and leaves it alone
    assert fake_crm.logs_for(sid(1)) == []
    assert sweep(crm_app)["jobs"] == 0
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert sweep(crm_app)["jobs"] == 1
    run_jobs(crm_app)
    assert_logged_once(fake_crm, [sid(1)])


@pytest.mark.slow
def test_worker_killed_mid_write(tmp_path, sqlite_url, redis_url, clock):
    """A real `cti worker` is killed while its write is in flight; the log still lands once."""
    fake = FakeExampleCRM(token=TOKEN, hang_seconds=20)
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
        clock.current = datetime.now(UTC)
        app = create_app(app_config(tmp_path, sqlite_url, redis_url, crm=crm_section(fake)),
                         clock=clock)
        add_call(app, sid(1), clock=clock)
        fake.fail_next("timeout")  # the CRM hangs: the write is in flight when we kill
        finish(app, sid(1))
        worker = subprocess.Popen([sys.executable, "-m", "connector.cli", "--config",
                                   str(config), "worker"], start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while fake.count("PUT", "/api/call-logs") == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert fake.count("PUT", "/api/call-logs") == 1, "the worker never wrote"
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        assert rows(app)[(sid(1), "example")].claim_token is not None  # claimed, unfinished
        clock.current = datetime.now(UTC) + LEASE + timedelta(seconds=1)
        sweep(app)
        run_jobs(app)
        assert_logged_once(fake, [sid(1)])


# -- several CRMs --------------------------------------------------------------------------------

class SecondExampleAdapter(ExampleAdapter):
    name = "example2"


def test_one_call_logged_once_in_every_enabled_crm(make_app, fake_crm, redis_url, clock,
                                                   monkeypatch):
    second = FakeExampleCRM(token="second-token-xyz")
    real = __import__("importlib.metadata", fromlist=["entry_points"]).entry_points
    monkeypatch.setattr("crm_adapters.registry.entry_points", lambda group: [
        *real(group=group),
        EntryPoint("example2", "tests.connector.test_writeback:SecondExampleAdapter", group)])
    with LiveServer(second) as live:
        app = make_app(redis_url=redis_url, crm={
            **crm_section(fake_crm), "adapters": ["example", "example2"],
            "example2": {"base_url": live.url, "api_token": "second-token-xyz"}})
        add_call(app, sid(1), clock=clock)
        fake_crm.fail_next("503")  # one CRM failing must not hold up the other
        finish(app, sid(1))
        run_jobs(app)
        assert_logged_once(second, [sid(1)])
        assert fake_crm.logs_for(sid(1)) == []
        clock.advance(seconds=11)
        sweep(app)
        run_jobs(app)
        assert_logged_once(fake_crm, [sid(1)])
        assert_logged_once(second, [sid(1)])


# -- wrap-up ---------------------------------------------------------------------------------------

def test_log_change_during_write_is_written_again(crm_app, fake_crm, clock):
    add_call(crm_app, sid(1), clock=clock)
    finish(crm_app, sid(1))
    engine = db.get_engine(crm_app)
    token, claimed = claim(engine, "example", sid(1), 10, clock())
    with crm_app.app_context():
        writeback.call_updated(sid(1))  # wrap-up arrives while the first write is in flight
    from connector.writeback_jobs import Batch

    batch = Batch(engine, token, claimed, clock())
    logs = batch.build_logs()
    with crm_app.app_context():
        batch.complete(logs, crm_app.extensions["cti.crm"].adapters["example"].write_call_logs(
            logs))
        batch.schedule(writeback.get_pipeline(crm_app), "example")
    row = rows(crm_app)[(sid(1), "example")]
    assert row.state == "pending" and row.written_revision == 1 and row.revision == 2
    run_jobs(crm_app)
    row = rows(crm_app)[(sid(1), "example")]
    assert row.state == "done" and row.written_revision == 2
    assert_logged_once(fake_crm, [sid(1)])
    assert fake_crm.writes[sid(1)] == 2


def test_jobs_cli_shows_and_redrives_dead_letters(crm_app, fake_crm, clock, monkeypatch):
    from connector.cli import CliContext, cli

    add_call(crm_app, sid(7), clock=clock)
    fake_crm.fail_next("401")
    finish(crm_app, sid(7))
    run_jobs(crm_app)
    context = CliContext(None)
    context._settings = crm_app.config["CTI_SETTINGS"]
    context._app = crm_app
    runner = CliRunner()
    shown = runner.invoke(cli, ["jobs", "failed"], obj=context)
    assert sid(7) in shown.output and "HTTP 401" in shown.output
    refused = runner.invoke(cli, ["jobs", "retry"], obj=context)
    assert refused.exit_code == 2
    retried = runner.invoke(cli, ["jobs", "retry", "--all"], obj=context)
    assert "re-queued 1" in retried.output
    run_jobs(crm_app)
    assert_logged_once(fake_crm, [sid(7)])
    assert "no failed write-backs" in runner.invoke(cli, ["jobs", "failed"], obj=context).output
