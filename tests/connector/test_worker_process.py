"""A real `cti worker` process on real Redis: it writes call logs, and its failures show."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from connector import create_app, db, monitoring, queue, writeback
from connector.cli import cli
from connector.config import load_settings
from connector.schema import crm_writebacks
from tests.connector.crm_fixtures import TOKEN, add_call, sid
from tests.fakes.example_crm import FakeExampleCRM
from tests.fakes.server import LiveServer

CTI = [sys.executable, "-m", "connector.cli"]
HANG_GUARD = 60  # seconds; only reached when something is broken

pytestmark = pytest.mark.slow


def write_config(tmp_path, sqlite_url, redis_url, crm_url=""):
    path = tmp_path / "cti.toml"
    example = (f'adapters = ["example"]\n[crm.example]\nbase_url = "{crm_url}"\n'
               f'api_token = "{TOKEN}"\n' if crm_url else "adapters = []\n")
    path.write_text(f"""
[server]
data_dir = "{tmp_path / 'var'}"
secret_key = "{'k' * 40}"
public_base_url = "https://cti.example.com"
[storage]
database_url = "{sqlite_url}"
[queue]
redis_url = "{redis_url}"
[logging]
format = "json"
[crm]
writeback_delay_seconds = 0
{example}""", encoding="utf-8")
    return path


def app_for(config, **kwargs):
    """The app a process started with ``config`` builds, in this test process."""
    return create_app(load_settings(config), **kwargs)


def cti(config, *args, **kwargs):
    return subprocess.run([*CTI, "--config", str(config), *args], capture_output=True,
                          text=True, timeout=HANG_GUARD, **kwargs)


def test_a_worker_process_writes_the_call_log(tmp_path, sqlite_url, redis_url, clock):
    fake = FakeExampleCRM(token=TOKEN)
    with LiveServer(fake) as live:
        fake.url = live.url
        config = write_config(tmp_path, sqlite_url, redis_url, live.url)
        clock.current = datetime.now(UTC)
        app = app_for(config, clock=clock)
        add_call(app, sid(1), clock=clock)
        with app.app_context():
            writeback.call_finished(sid(1))  # the call became final: its job is queued
        done = cti(config, "worker", "--burst")
        assert done.returncode == 0, done.stderr
        with db.get_engine(app).connect() as conn:
            (row,) = conn.execute(select(crm_writebacks)).all()
        assert (row.state, row.written_revision) == ("done", 1), row
        (logged,) = fake.logs_for(sid(1))
        assert logged["talk_seconds"] == 120
        assert "Job OK" in done.stdout + done.stderr


def test_crashing_jobs_show_in_jobs_failed_and_doctor(tmp_path, sqlite_url, redis_url):
    config = write_config(tmp_path, sqlite_url, redis_url)
    app = app_for(config)
    jobs = queue.get_queue("default", app)
    jobs.enqueue("tests.connector.job_faults.explode", "+819012345678", job_id="explode-1")
    jobs.enqueue("tests.connector.job_faults.die", job_id="die-1")
    ran = cti(config, "worker", "--burst")
    log = ran.stdout + ran.stderr
    assert "ValueError: cannot handle +819*******78" in log  # logged, traceback, masked
    assert "+819012345678" not in log
    assert "a background job's process died (killed by signal 9)" in log

    failed = cti(config, "jobs", "failed")
    assert failed.returncode == 0, failed.stderr
    assert ("explode-1  tests.connector.job_faults.explode  exception: ValueError: cannot "
            "handle +819*******78") in failed.stdout
    assert ("die-1  tests.connector.job_faults.die  died: Work-horse terminated unexpectedly; "
            "waitpid returned 9 (signal 9)") in failed.stdout
    doctor = cti(config, "doctor")
    assert doctor.returncode == 1
    assert "NG  background jobs: 2 job(s) crashed (latest at " in doctor.stdout
    assert "see `cti jobs failed`, fix the cause" in doctor.stdout
    status = cti(config, "jobs", "status")
    assert "crashed jobs: 2 — see `cti jobs failed`" in status.stdout


def test_a_killed_worker_is_reported_dead(tmp_path, sqlite_url, redis_url):
    config = write_config(tmp_path, sqlite_url, redis_url)
    app = app_for(config)
    worker = subprocess.Popen([*CTI, "--config", str(config), "worker"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + HANG_GUARD
        while not monitoring.report(app).workers and time.monotonic() < deadline:
            time.sleep(0.1)
        runner = CliRunner()
        alive = runner.invoke(cli, ["--config", str(config), "doctor"])
        assert "OK  workers: 1 worker(s) running" in alive.output, alive.output
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=HANG_GUARD)
    dead = runner.invoke(cli, ["--config", str(config), "doctor"])
    assert dead.exit_code == 1
    assert "NG  workers: no worker is running" in dead.output
    assert f"(pid {worker.pid}) died: its process {worker.pid} on this machine is gone" in (
        dead.output)


def test_the_worker_outlives_a_redis_restart(tmp_path, sqlite_url):
    """rq's loop ends on a Redis error; `cti worker` starts it again and keeps taking jobs."""
    import shutil
    import socket

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server to restart it")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def start_redis():
        process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1",
                                    "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return process
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    server = start_redis()
    redis_url = f"redis://127.0.0.1:{port}/0"
    config = write_config(tmp_path, sqlite_url, redis_url)
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen([*CTI, "--config", str(config), "worker"], stdout=log,
                              stderr=log, start_new_session=True)
    try:
        app = app_for(config)
        client = queue.get_redis(app)
        # Kill Redis only once the worker is serving: a slow start under load would otherwise
        # meet a dead Redis on its first connection, which rightly fails loudly.
        queue.get_queue("default", app).enqueue("connector.jobs.selftest", "before-restart")
        deadline = time.monotonic() + HANG_GUARD
        while not client.get("cti:selftest:before-restart") and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
        assert client.get("cti:selftest:before-restart"), (tmp_path / "worker.log").read_text()
        server.kill()
        server.wait()
        time.sleep(4)  # long enough for rq's loop to give up
        server = start_redis()
        app = app_for(config)  # fresh connections: the old ones died with the server
        client = queue.get_redis(app)
        queue.get_queue("default", app).enqueue("connector.jobs.selftest", "after-restart")
        deadline = time.monotonic() + HANG_GUARD
        while not client.get("cti:selftest:after-restart") and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
        assert client.get("cti:selftest:after-restart"), (tmp_path / "worker.log").read_text()
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
        server.kill()
        server.wait()
        log.close()
