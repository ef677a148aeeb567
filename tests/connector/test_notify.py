"""Notifications (NT-1): real messages on a local SMTP server and a local webhook server.

The webhook server stands in for Slack / Microsoft Teams / LINE (apprise's generic ``json://``
posts there) and for Chatwork's API (our own sender).
"""

from __future__ import annotations

import json
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from rq.registry import FailedJobRegistry
from werkzeug.wrappers import Request, Response

from connector import notify, queue, writeback
from connector.cli import CliContext, cli
from connector.config import ConfigError, settings_from_mapping
from tests.conftest import app_config
from tests.connector.crm_fixtures import add_call, run_jobs, sid
from tests.fakes.server import LiveServer

CHATWORK_TOKEN = "cw-token-0123456789abcdef"
SMTP_PASSWORD = "smtp-pass-Zq9"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.port = port
    yield box
    controller.stop()


class Webhooks:
    """Records every request; ``/down`` always answers 503."""

    def __init__(self) -> None:
        self.hits: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            self.hits.append({"path": request.path, "headers": dict(request.headers),
                              "body": request.get_data(), "form": request.form.to_dict()})
        status = 503 if request.path == "/down" else 200
        return Response("{}", status=status, content_type="application/json")(
            environ, start_response)


@pytest.fixture
def hooks():
    fake = Webhooks()
    with LiveServer(fake) as live:
        fake.url = live.url
        yield fake


def notify_section(smtp, hooks, **events):
    return {
        "channels": {
            "office": {"url": f"mailto://127.0.0.1:{smtp.port}?from=cti@example.jp"
                              "&to=desk@example.jp&mode=insecure"},
            "slack": {"url": f"json://{hooks.url.removeprefix('http://')}/slack"},
            "chatwork": {"url": f"chatwork://{CHATWORK_TOKEN}@123456"},
            "broken": {"url": f"json://{hooks.url.removeprefix('http://')}/down"},
        },
        "events": events or {
            "voicemail": {"channels": ["office", "slack"]},
            "missed": {"channels": ["chatwork"], "template": "{caller} {name} 様 不在 {time}"},
            "writeback_failed": {"channels": ["slack"]},
            "abandoned": {"channels": ["slack"]},
            "ivr_handled": {"channels": ["slack"]},
        },
        "chatwork_api": f"{hooks.url}/v2",
        "timeout_seconds": 3,
    }


@pytest.fixture
def app(make_app, smtp, hooks, redis_url):
    return make_app(redis_url=redis_url, notify=notify_section(smtp, hooks))


def final(app, call_sid):
    with app.app_context():
        notify.call_final(call_sid)


def test_voicemail_is_mailed_and_posted_with_its_link(app, smtp, hooks, clock):
    add_call(app, sid(1), clock=clock, outcome="voicemail", recording_sid="RE" + "1" * 32,
             recording_duration=42, customer={"name": "山田 太郎", "company": "山田商事"},
             our_number="+815012345678")
    final(app, sid(1))
    assert smtp.messages == [] and hooks.hits == []  # queued, not sent on the webhook's path
    run_jobs(app)
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["desk@example.jp"]
    text = mail.original_content.decode()
    assert "cti-connector" in _subject(mail)
    body = _mail_text(mail)
    assert "留守番電話" in body and "03-1234-5678" in body and "山田 太郎" in body
    assert f"https://cti.example.com/crm/recordings/{sid(1)}" in body and "42 秒" in body
    (post,) = [h for h in hooks.hits if h["path"] == "/slack"]
    assert "留守番電話" in json.loads(post["body"])["message"]
    assert "text/plain" in text or "text/html" in text


def test_missed_call_to_chatwork(app, hooks, clock):
    add_call(app, sid(2), clock=clock, outcome="missed", customer={"name": "鈴木 一郎"})
    final(app, sid(2))
    final(app, sid(2))  # a replayed status callback
    run_jobs(app)
    (post,) = [h for h in hooks.hits if h["path"] == "/v2/rooms/123456/messages"]
    assert post["headers"]["X-Chatworktoken"] == CHATWORK_TOKEN
    assert post["form"]["body"].startswith("[info][title]cti-connector[/title]03-1234-5678 "
                                           "鈴木 一郎 様 不在 ")


def test_answered_calls_notify_nobody(app, smtp, hooks, clock):
    add_call(app, sid(3), clock=clock, outcome="answered")
    final(app, sid(3))
    run_jobs(app)
    assert smtp.messages == [] and hooks.hits == []


def test_the_flows_and_queues_hand_over_their_events(app, hooks, clock):
    add_call(app, sid(4), clock=clock, customer={"name": "田中 次郎"}, final=False)
    with app.app_context():
        assert notify.ivr_handled(sid(4), summary="営業時間外のご案内を再生") == 1
        assert notify.abandoned_in_queue(sid(4), queue_name="サポート", wait_seconds=95) == 1
        assert notify.abandoned_in_queue(sid(4), queue_name="サポート", wait_seconds=95) == 0
    run_jobs(app)
    messages = [json.loads(h["body"])["message"] for h in hooks.hits]
    assert any("自動応答" in m and "営業時間外のご案内を再生" in m and "田中 次郎" in m
               for m in messages)
    assert any("放棄呼" in m and "「サポート」で 95 秒" in m for m in messages)


def test_a_dead_lettered_call_log_is_notified(make_app, smtp, hooks, redis_url, clock):
    from tests.fakes.example_crm import FakeExampleCRM

    fake = FakeExampleCRM(token="t-example-1")
    with LiveServer(fake) as live:
        fake.url = live.url
        app = make_app(redis_url=redis_url, notify=notify_section(smtp, hooks), crm={
            "adapters": ["example"], "writeback_delay_seconds": 0,
            "example": {"base_url": live.url, "api_token": "wrong-token"}})
        add_call(app, sid(5), clock=clock)
        with app.app_context():
            writeback.call_finished(sid(5))
        run_jobs(app)
    (post,) = [h for h in hooks.hits if h["path"] == "/slack"]
    message = json.loads(post["body"])["message"]
    assert "CRM 記録の失敗" in message and sid(5) in message and "example" in message


def test_failures_are_retried_then_listed_with_secrets_masked(make_app, smtp, hooks, redis_url,
                                                             clock):
    section = notify_section(smtp, hooks, missed={"channels": ["broken"]})
    section["channels"]["broken"]["url"] += f"?token={SMTP_PASSWORD}"
    app = make_app(redis_url=redis_url, notify=section)
    add_call(app, sid(6), clock=clock, outcome="missed")
    final(app, sid(6))
    run_jobs(app)
    job = queue.get_queue("default", app).fetch_job(f"notify-missed-{sid(6)}-broken")
    assert job.get_status() == "scheduled" and job.retries_left == 3  # 4 retries, 1 used
    # The last attempt fails for good: rq's failed registry, which `cti jobs failed` shows.
    job.retries_left = 0
    job.save()
    queue.get_queue("default", app).enqueue_job(job)
    run_jobs(app)
    registry = FailedJobRegistry("default", connection=queue.get_redis(app))
    assert job.id in registry.get_job_ids()
    ctx = CliContext(None)
    ctx._app = app
    result = CliRunner().invoke(cli, ["jobs", "failed"], obj=ctx)
    assert job.id in result.output and "not delivered" in result.output
    assert SMTP_PASSWORD not in result.output


def test_config_check_masks_channel_urls(tmp_path):
    config = tmp_path / "cti.toml"
    config.write_text(f"""
[server]
data_dir = "{tmp_path / 'var'}"
[notify.channels.chat]
url = "chatwork://{CHATWORK_TOKEN}@99"
[notify.events.missed]
channels = ["chat"]
""")
    result = CliRunner().invoke(cli, ["--config", str(config), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "[notify.channels.chat]" in result.output
    assert CHATWORK_TOKEN not in result.output


@pytest.mark.parametrize("section,problem", [
    ({"events": {"lunch": {}}}, "notify: events.lunch: unknown event"),
    ({"events": {"missed": {"channels": ["nowhere"]}}},
     "notify: events.missed.channels: no channel 'nowhere'"),
    ({"channels": {"a": {"url": "x"}}, "events": {"missed": {"channels": ["a"],
                                                             "template": "{caller} {body}"}}},
     "notify.channels.a: url: not a notification URL"),
    ({"events": {"missed": {"template": "{caller} {body}"}}},
     "notify: events.missed.template: unknown placeholder {body}"),
    ({"events": {"voicemail": {"template": "{recording_url"}}},
     "notify: events.voicemail.template: "),
    ({"max_attempts": 0}, "notify: max_attempts: must be between 1 and 20"),
])
def test_settings_errors_name_the_key(tmp_path, section, problem):
    with pytest.raises(ConfigError) as excinfo:
        settings_from_mapping(app_config(tmp_path, "sqlite://", notify=section))
    assert problem in str(excinfo.value)


def _subject(mail) -> str:
    import email
    from email.header import decode_header, make_header

    message = email.message_from_bytes(mail.original_content)
    return str(make_header(decode_header(message["Subject"])))


def _mail_text(mail) -> str:
    import email

    message = email.message_from_bytes(mail.original_content)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return ""


