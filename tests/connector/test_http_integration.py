"""HTTP integrations inside the connector: configuration, the write-back queue, call events.

The CRM is a local fake (tests/fakes/http_template_crm.py) that records each request as it
arrived. The hang-up template must reach it exactly once per call, whatever the workers do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from rq.registry import ScheduledJobRegistry
from sqlalchemy import update

from connector import create_app, db, integrations, queue, writeback
from connector.cli import cli
from connector.config import ConfigError, settings_from_mapping
from connector.crm import resolve_adapters
from connector.schema import calls, http_template_sent
from connector.writeback_jobs import LEASE
from crm_adapters.httptemplate import HTTPTemplateAdapter
from crm_adapters.httptemplate.ledger import CLAIM_SECONDS
from crm_adapters.httptemplate.ledger import http_template_sent as ledger_table
from tests.conftest import app_config
from tests.connector.crm_fixtures import add_call, run_jobs, sid
from tests.fakes.http_template_crm import PASSWORD, USER, FakeTemplateCRM
from tests.fakes.server import LiveServer


@pytest.fixture
def fake():
    crm = FakeTemplateCRM(hang_seconds=20)
    with LiveServer(crm) as live:
        crm.url = live.url
        yield crm


def http_section(url: str, **extra):
    inhouse = {
        "secrets": {"user": USER, "password": PASSWORD},
        "auth": {"url": f"{url}/login.php?userid={{SECRET:user}}&password={{SECRET:password}}"},
        "search": {"url": f"{url}/search.php?tel={{TEL}}&sid={{SID}}",
                   "format": "{ID},{NAME},{COMPANY}{CRLF}"},
        "incoming": {"url": f"{url}/hook/incoming?callsid={{CALLSID}}&tel={{TEL}}"},
        "answered": {"url": f"{url}/hook/answered?callsid={{CALLSID}}&aid={{AID}}"},
        "hangup": {"url": f"{url}/hook/hangup?callsid={{CALLSID}}&tel={{TEL}}"
                          "&duration={DURATION}&name={NAME}"},
        "wrapup": {"url": f"{url}/hook/wrapup", "method": "POST",
                   "body": "callsid={CALLSID}&result={RESULT}&note={NOTE}"},
        "timeout_seconds": 0.5,
    }
    inhouse.update(extra)
    return {"adapters": ["http"], "writeback_delay_seconds": 0, "http": {"inhouse": inhouse}}


@pytest.fixture
def http_app(make_app, fake, redis_url, database_url):
    return make_app(database_url=database_url, redis_url=redis_url, crm=http_section(fake.url))


def finish(app, call_sid):
    with app.app_context():
        writeback.call_finished(call_sid)


def wrap_up(app, call_sid, clock, **values):
    with db.get_engine(app).begin() as conn:
        conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(
            updated_at=clock(), **values))
    with app.app_context():
        writeback.call_updated(call_sid)


# -- configuration -------------------------------------------------------------------------------

def test_each_table_is_an_adapter_of_its_own(tmp_path, fake):
    section = http_section(fake.url)
    section["http"]["zoho"] = {"hangup": {"url": "https://zoho.example.jp/h?c={CALLSID}"}}
    resolved = resolve_adapters(settings_from_mapping(app_config(tmp_path, "sqlite://",
                                                                 crm=section)))
    assert sorted(resolved.adapters) == ["http_inhouse", "http_zoho"]
    cls, settings = resolved.adapters["http_zoho"]
    assert issubclass(cls, HTTPTemplateAdapter) and cls.name == "http_zoho"
    assert settings.hangup.url == "https://zoho.example.jp/h?c={CALLSID}"


def test_enabled_by_writing_its_table(tmp_path, fake):
    section = http_section(fake.url)
    del section["adapters"]
    config = app_config(tmp_path, "sqlite://")
    config["crm"] = section
    settings = settings_from_mapping(config)
    assert settings.crm.adapters == ["builtin", "http"]
    assert "http_inhouse" in resolve_adapters(settings).adapters


@pytest.mark.parametrize("table,problem", [
    ({"Bad-Name": {}}, "crm.http.Bad-Name: expected a table named with lower-case letters"),
    ({"x": {"hangup": {"url": "https://x/?{TELL}"}}},
     "crm.http.x: hangup.url: unknown placeholder {TELL}"),
    ({"x": {"secrets": {"pw": {"env": "NOT_SET_ANYWHERE_42"}}}},
     "crm.http.x.secrets.pw: secret: environment variable NOT_SET_ANYWHERE_42 is not set"),
    ({}, "crm.http: add one [crm.http.<name>] table per integration"),
])
def test_configuration_errors_name_the_key(tmp_path, table, problem):
    settings = settings_from_mapping(app_config(tmp_path, "sqlite://",
                                                crm={"adapters": ["http"], "http": table}))
    with pytest.raises(ConfigError) as excinfo:
        resolve_adapters(settings, environ={})
    assert problem in str(excinfo.value)


def test_config_check_masks_template_secrets(tmp_path, fake):
    config = tmp_path / "cti.toml"
    config.write_text(f"""
[server]
data_dir = "{tmp_path / 'var'}"
[crm.http.inhouse]
search = {{ url = "{fake.url}/search.php?tel={{TEL}}" }}
[crm.http.inhouse.secrets]
password = "{PASSWORD}"
""")
    result = CliRunner().invoke(cli, ["--config", str(config), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "[crm.http.inhouse.secrets]" in result.output
    assert PASSWORD not in result.output


def test_ledger_declared_like_the_schema():
    ours = {c.name: (type(c.type).__name__, c.nullable, c.primary_key)
            for c in ledger_table.columns}
    theirs = {c.name: (type(c.type).__name__, c.nullable, c.primary_key)
              for c in http_template_sent.columns}
    assert ours == theirs


# -- hang-up and wrap-up through the write-back queue --------------------------------------------

def test_hangup_once_then_wrapup_through_the_write_back(http_app, fake, clock):
    add_call(http_app, sid(1), clock=clock, disposition="", notes="")
    finish(http_app, sid(1))
    finish(http_app, sid(1))  # a duplicate hand-off
    run_jobs(http_app)
    (hangup,) = fake.hits_for("/hook/hangup")
    assert "tel=0312345678" in hangup["query"] and "duration=180" in hangup["query"]
    assert fake.hits_for("/hook/wrapup") == []
    wrap_up(http_app, sid(1), clock, disposition="対応完了", notes="請求書を再送")
    run_jobs(http_app)
    wrap_up(http_app, sid(1), clock, disposition="対応完了", notes="請求書を再送（訂正）")
    run_jobs(http_app)
    with http_app.app_context():
        writeback.get_pipeline().sweep()
    run_jobs(http_app)
    assert len(fake.hits_for("/hook/hangup")) == 1
    assert len(fake.hits_for("/hook/wrapup")) == 2
    assert fake.logs_for(sid(1))[0]["note"] == "請求書を再送（訂正）"


def test_a_failing_wrapup_is_retried_without_repeating_the_hangup(http_app, fake, clock):
    add_call(http_app, sid(2), clock=clock, disposition="折り返し予定", notes="明日")
    fake.fail_path("/hook/wrapup", "503")
    finish(http_app, sid(2))
    run_jobs(http_app)
    assert len(fake.hits_for("/hook/hangup")) == 1
    clock.advance(seconds=11)
    with http_app.app_context():
        assert writeback.get_pipeline().sweep()["jobs"] == 1
    run_jobs(http_app)
    assert len(fake.hits_for("/hook/hangup")) == 1
    assert len(fake.hits_for("/hook/wrapup")) == 2  # the 503, then the one that landed
    assert fake.logs_for(sid(2))[0]["result"] == "折り返し予定"


def test_a_refused_template_is_dead_lettered(make_app, fake, redis_url, clock):
    app = make_app(redis_url=redis_url, crm=http_section(
        fake.url, hangup={"url": f"{fake.url}/gone?c={{CALLSID}}"}))
    add_call(app, sid(3), clock=clock)
    finish(app, sid(3))
    run_jobs(app)
    with app.app_context():
        (failed,) = writeback.get_pipeline().failed()
    assert failed["adapter"] == "http_inhouse" and "HTTP 404 from GET /gone" in \
        failed["last_error"]
    result = CliRunner().invoke(cli, ["jobs", "failed"], obj=_cli_context(app))
    assert "http_inhouse" in result.output and "HTTP 404" in result.output


@pytest.mark.slow
def test_hangup_fires_once_through_a_killed_worker(tmp_path, sqlite_url, redis_url, clock, fake):
    """A real `cti worker` sends the hang-up, then is killed during the wrap-up request; the
    worker that takes over sends the wrap-up and not the hang-up again."""
    section = http_section(fake.url)
    inhouse = section["http"]["inhouse"]
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
adapters = ["http"]
writeback_delay_seconds = 0
[crm.http.inhouse]
timeout_seconds = 30
hangup = {{ url = "{inhouse['hangup']['url']}" }}
[crm.http.inhouse.wrapup]
url = "{inhouse['wrapup']['url']}"
method = "POST"
body = "{inhouse['wrapup']['body']}"
""")
    clock.current = datetime.now(UTC)
    app = create_app(app_config(tmp_path, sqlite_url, redis_url, crm=section), clock=clock)
    add_call(app, sid(4), clock=clock, disposition="対応完了", notes="メモ")
    fake.fail_path("/hook/wrapup", "timeout")  # hangs 20 s: in flight when the worker dies
    finish(app, sid(4))
    worker = subprocess.Popen([sys.executable, "-m", "connector.cli", "--config", str(config),
                               "worker"], start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not fake.hits_for("/hook/wrapup") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.hits_for("/hook/wrapup"), "the worker never sent the wrap-up"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    assert len(fake.hits_for("/hook/hangup")) == 1
    # The next worker, once the dead one's claims expire.
    # The write-back lease (15 s) lapses long before the template ledger's claim of the request
    # that was in flight (CLAIM_SECONDS): the wrap-up is sent again only after the latter.
    clock.current = datetime.now(UTC) + max(LEASE, timedelta(seconds=CLAIM_SECONDS)) + timedelta(
        seconds=1)
    with app.app_context():  # what the maintenance tick does for a dead worker's claims
        assert writeback.get_pipeline().reclaim_lapsed() >= 1
    run_jobs(app)
    assert len(fake.hits_for("/hook/hangup")) == 1
    assert fake.logs_for(sid(4))[0]["note"] == "メモ"
    with app.app_context():
        assert writeback.get_pipeline().counts() == {"http_inhouse": {"done": 1}}


# -- events from the voice webhooks ----------------------------------------------------------------

def test_incoming_and_answered_are_queued_and_sent_once(http_app, fake, clock):
    add_call(http_app, sid(5), clock=clock, final=False)
    with http_app.app_context():
        assert integrations.call_event("incoming", sid(5)) == 1
        assert integrations.call_event("incoming", sid(5)) == 1  # the job already waits
        integrations.call_event("answered", sid(5))
    run_jobs(http_app)
    with http_app.app_context():
        integrations.call_event("incoming", sid(5))  # a replayed webhook
    run_jobs(http_app)
    (incoming,) = fake.hits_for("/hook/incoming")
    assert f"callsid={sid(5)}" in incoming["query"] and "tel=0312345678" in incoming["query"]
    assert len(fake.hits_for("/hook/answered")) == 1


def test_answered_waits_for_its_delay(make_app, fake, redis_url, clock):
    app = make_app(redis_url=redis_url, crm=http_section(
        fake.url, answered={"url": f"{fake.url}/hook/answered", "delay_seconds": 30}))
    add_call(app, sid(6), clock=clock, final=False)
    with app.app_context():
        integrations.call_event("answered", sid(6))
        registry = ScheduledJobRegistry("writeback", connection=queue.get_redis())
        assert f"http-http_inhouse-{sid(6)}-answered" in registry.get_job_ids()
    run_jobs(app)
    assert fake.hits_for("/hook/answered") == []


def test_no_integration_no_job(make_app, clock):
    app = make_app()
    with app.app_context():
        assert integrations.call_event("incoming", sid(7)) == 0


def test_the_softphone_gets_the_browser_pops(make_app, fake, redis_url, clock):
    app = make_app(redis_url=redis_url, crm=http_section(
        fake.url, incoming={"url": "https://crm.example.jp/pop?tel={TEL}", "run": "browser"},
        ring_popups={"+815012345678": "https://sfa.example.jp/?q=@@@@"}))
    add_call(app, sid(8), clock=clock, final=False)
    headers = _agent_headers(app)
    client = app.test_client()
    answer = client.get(f"/api/integrations/pops?event=incoming&call_sid={sid(8)}",
                        headers=headers).get_json()
    assert [p["url"] for p in answer["pops"]] == ["https://crm.example.jp/pop?tel=0312345678",
                                                 "https://sfa.example.jp/?q=0312345678"]
    with app.app_context():
        assert integrations.call_event("incoming", sid(8)) == 0  # browser-only: no job
    bad = client.get("/api/integrations/pops?event=ring&call_sid=x", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["field"] == "event"
    assert client.get(f"/api/integrations/pops?event=incoming&call_sid={sid(8)}"
                      ).status_code == 401


def test_doctor_tests_each_template(make_app, fake, redis_url, clock):
    app = make_app(redis_url=redis_url, crm=http_section(
        fake.url, answered={"url": f"{fake.url}/nothing-here?c={{CALLSID}}"}))
    from connector import doctor

    with app.app_context():
        verdicts = {v.name: v for v in doctor.run(app)}
    assert verdicts["crm.http_inhouse: search"].ok
    assert verdicts["crm.http_inhouse: hangup"].ok
    assert not verdicts["crm.http_inhouse: answered"].ok
    assert "HTTP 404" in verdicts["crm.http_inhouse: answered"].message


# -- helpers ---------------------------------------------------------------------------------------

def _cli_context(app):
    from connector.cli import CliContext

    ctx = CliContext(None)
    ctx._app = app
    return ctx


def _agent_headers(app):
    from connector.auth import accounts

    with db.get_engine(app).begin() as conn:
        accounts.create_agent(conn, username="agent1", display_name="佐藤 花子",
                              password="Correct-horse-42",
                              policy=app.config["CTI_SETTINGS"].auth,
                              now=app.extensions["cti.clock"]())
    token = app.test_client().post("/api/auth/login", json={
        "username": "agent1", "password": "Correct-horse-42"}).get_json()["access_token"]
    return {"Authorization": f"Bearer {token}"}
