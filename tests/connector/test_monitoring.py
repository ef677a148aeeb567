"""Failures show: late write-backs, missing or dead workers and crashed jobs reach `cti doctor`,
`cti jobs status|failed` and /healthz, each with what to do."""

import logging
import subprocess
import sys

import pytest
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.worker.base import BaseWorker

from connector import monitoring, queue, writeback
from tests.connector.crm_fixtures import add_call, registered_worker, run_jobs, sid
from tests.connector.test_integrations_cli import invoke


def finish(app, call_sid):
    with app.app_context():
        writeback.call_finished(call_sid)


def healthz(app):
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json()


def doctor_lines(app):
    result = invoke(app, "doctor")
    return result.exit_code, result.output


# -- late write-backs ------------------------------------------------------------------------

def test_a_write_back_nobody_works_on_is_reported_after_the_threshold(crm_app, clock):
    add_call(crm_app, sid(1), clock=clock)
    finish(crm_app, sid(1))  # queued, but no worker takes it
    with registered_worker(crm_app):
        clock.advance(minutes=9)
        assert monitoring.report(crm_app).late == []
        status, body = healthz(crm_app)
        assert status == 200 and body["status"] == "ok", body
        clock.advance(minutes=2)
        status, body = healthz(crm_app)
        code, output = doctor_lines(crm_app)
    assert status == 200 and body["status"] == "degraded"  # webhooks keep being answered
    assert body["checks"]["writebacks"]["late_unattended"] == 1
    assert "1 call log(s) late with nobody working on them: start `cti worker`" in (
        body["problems"])
    assert code == 1
    assert ("NG  write-back to example: 1 call log(s) due for more than 10 minutes and nobody "
            "is working on them") in output
    assert "`cti jobs sweep` re-queues them" in output  # a worker runs, yet nobody takes them
    assert "example: 1 late (not written after 10 min; nobody is working on them)" in (
        invoke(crm_app, "jobs", "status").output)


def test_a_write_back_waiting_for_a_retry_is_told_apart(crm_app, fake_crm, clock):
    add_call(crm_app, sid(1), clock=clock)
    fake_crm.fail_next("500", times=2)
    finish(crm_app, sid(1))
    run_jobs(crm_app)  # attempt 1 fails at 09:00
    clock.advance(minutes=11)
    with crm_app.app_context():
        writeback.get_pipeline(crm_app).sweep()
    run_jobs(crm_app)  # attempt 2 fails at 09:11; the next one waits 20–40 s
    with registered_worker(crm_app):
        (late,) = monitoring.report(crm_app).late
        status, body = healthz(crm_app)
        code, output = doctor_lines(crm_app)
    assert (late.kind, late.count, late.adapter) == ("retrying", 1, "example")
    assert late.next_attempt_at > clock()
    assert status == 200 and body["checks"]["writebacks"]["late_retrying"] == 1
    assert body["status"] == "degraded"
    assert code == 0  # a warning: the connector retries by itself
    assert ("!   write-back to example: 1 call log(s) not written after more than 10 minutes: "
            "waiting for a retry (next try 09:11 UTC) after the error \"") in output
    assert "HTTP 500" in output and "check crm.example above" in output


def test_the_threshold_is_a_setting(make_app, fake_crm, redis_url, clock):
    from tests.connector.crm_fixtures import crm_section

    app = make_app(redis_url=redis_url, crm=crm_section(fake_crm, writeback_late_minutes=2))
    add_call(app, sid(1), clock=clock)
    finish(app, sid(1))
    clock.advance(minutes=3)
    (late,) = monitoring.report(app).late
    assert late.kind == "unattended"


# -- workers ---------------------------------------------------------------------------------

def test_no_worker_at_all(crm_app):
    status, body = healthz(crm_app)
    code, output = doctor_lines(crm_app)
    assert status == 200 and body["status"] == "degraded"
    assert body["checks"]["workers"] == {"ok": False, "running": 0, "dead": 0}
    assert "no worker is running: start `cti worker`" in body["problems"]
    assert code == 1
    assert "NG  workers: no worker is running" in output and "start `cti worker`" in output
    assert "workers: 0 running — start `cti worker`" in invoke(crm_app, "jobs", "status").output


def test_a_worker_whose_process_is_gone(crm_app):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    worker = queue.make_worker(crm_app, fork=False)
    worker.pid = dead_pid  # registered by a process that has exited since
    worker.register_birth()
    try:
        (state,) = monitoring.report(crm_app).workers
        code, output = doctor_lines(crm_app)
        status, body = healthz(crm_app)
        with registered_worker(crm_app):
            _, with_another = doctor_lines(crm_app)
    finally:
        worker.register_death()
    assert state.dead == f"its process {dead_pid} on this machine is gone"
    assert code == 1 and "NG  workers: no worker is running" in output
    assert f"(pid {dead_pid}) died: its process {dead_pid} on this machine is gone" in output
    assert body["checks"]["workers"] == {"ok": False, "running": 0, "dead": 1}
    assert "!   workers: 1 worker(s) running" in with_another  # the other one still works


# -- crashed jobs ----------------------------------------------------------------------------

def test_a_job_that_raises_is_logged_counted_and_listed(crm_app, caplog):
    job_queue = queue.get_queue("default", crm_app)
    job_queue.enqueue("tests.connector.job_faults.explode", "+819012345678", job_id="boom-1")
    with caplog.at_level(logging.ERROR):
        run_jobs(crm_app)
    logged = [r for r in caplog.records if r.name == "rq.worker" and "boom-1" in r.getMessage()]
    assert logged and "ValueError: cannot handle" in logged[0].getMessage()  # with traceback

    failed = invoke(crm_app, "jobs", "failed")
    assert "no failed write-backs" in failed.output
    assert ("boom-1  tests.connector.job_faults.explode  exception: ValueError: cannot handle "
            "+819*******78") in failed.output  # the number is masked
    assert "crashed jobs: 1 — see `cti jobs failed`" in invoke(crm_app, "jobs", "status").output
    with registered_worker(crm_app):
        code, output = doctor_lines(crm_app)
        status, body = healthz(crm_app)
    assert code == 1 and "NG  background jobs: 1 job(s) crashed" in output
    assert "tests.connector.job_faults.explode: ValueError: cannot handle +819*******78" in output
    assert status == 200 and body["checks"]["jobs"] == {"ok": False, "crashed": 1,
                                                        "abandoned": 0}
    assert "+819" not in str(body)  # /healthz is public: counts only

    retried = invoke(crm_app, "jobs", "retry", "--crashed")
    assert "re-queued 1 crashed job(s)" in retried.output
    assert job_queue.job_ids == ["boom-1"]
    run_jobs(crm_app)  # crashes again
    assert "forgot 1 crashed job(s)" in invoke(crm_app, "jobs", "forget-crashed").output
    assert "no crashed jobs" in invoke(crm_app, "jobs", "failed").output


def test_failed_json_lists_both_kinds(crm_app, fake_crm, clock):
    import json

    add_call(crm_app, sid(3), clock=clock)
    fake_crm.fail_next("401")
    finish(crm_app, sid(3))
    queue.get_queue("default", crm_app).enqueue("tests.connector.job_faults.explode", "x",
                                                job_id="boom-2")
    run_jobs(crm_app)
    body = json.loads(invoke(crm_app, "jobs", "failed", "--json").output)
    assert [r["call_sid"] for r in body["writebacks"]] == [sid(3)]
    (crashed,) = body["crashed_jobs"]
    assert (crashed["job_id"], crashed["kind"], crashed["error"]) == (
        "boom-2", "exception", "ValueError: cannot handle x")
    assert crashed["ended_at"].startswith("20")


def test_a_crash_in_rq_itself_is_logged_and_kept_with_the_job(crm_app, monkeypatch, caplog):
    """rq's work horse exits silently when its own code raises; the reason must show."""
    def broken(self, job, queue, execution):
        raise TypeError("perform_job() takes 3 positional arguments but 4 were given")

    monkeypatch.setattr(BaseWorker, "perform_job", broken)
    job = queue.get_queue("default", crm_app).enqueue("connector.jobs.selftest", "t",
                                                      job_id="horse-1")
    worker = queue.make_worker(crm_app, fork=False)
    with caplog.at_level(logging.ERROR), pytest.raises(TypeError):
        worker.perform_job(job, job.origin, None)
    (record,) = [r for r in caplog.records if r.name == "cti.jobs"]
    assert "crashed in the worker" in record.getMessage() and record.exc_info
    stored = Job.fetch("horse-1", connection=queue.get_redis(crm_app),
                       serializer=JSONSerializer)
    stored._exc_info = "Work-horse terminated unexpectedly; waitpid returned 256 (signal 0); "
    crashed = monitoring._crashed(stored, "default")
    assert (crashed.kind, crashed.error) == (
        "died", "TypeError: perform_job() takes 3 positional arguments but 4 were given")


def test_healthz_answers_503_only_for_what_stops_this_instance(make_app):
    down = make_app(redis_url="redis://127.0.0.1:1/0")
    status, body = healthz(down)
    assert status == 503 and body["status"] == "unavailable"
    assert "workers" not in body["checks"]  # not asked of a Redis that is down


def test_a_job_abandoned_by_a_dead_worker_is_reported(crm_app):
    from rq.job import JobStatus
    from rq.registry import StartedJobRegistry

    job = queue.get_queue("default", crm_app).enqueue("connector.jobs.selftest", "t",
                                                      job_id="orphan-1")
    job.set_status(JobStatus.STARTED)  # a worker took it, then died: its lease ran out
    registry = StartedJobRegistry("default", connection=queue.get_redis(crm_app),
                                  serializer=JSONSerializer)
    registry.connection.zadd(registry.key, {f"{job.id}:exec-1": 1})
    assert monitoring.report(crm_app).abandoned == 1  # /healthz reads only …
    status, body = healthz(crm_app)
    assert body["checks"]["jobs"]["abandoned"] == 1
    (crashed,) = monitoring.report(crm_app, repair=True).crashed  # … doctor lets rq repair
    assert (crashed.job_id, crashed.kind) == ("orphan-1", "abandoned")
    assert "orphan-1  connector.jobs.selftest  abandoned: its worker died while running it" in (
        invoke(crm_app, "jobs", "failed").output)
