"""Voicemail boxes: the e-mail notice at a local SMTP server, its link, the history API."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller

from connector import db
from connector.flows import voicemail
from tests.connector.crm_fixtures import run_jobs
from tests.softphone.browser.conftest import free_port
from voice.simulator import CallerScript, RecordInput

from ..voice.conftest import CALLER, NUMBER, make_env
from .conftest import FlowEnv

FLOW = """
[flow]
name = "vm"
entry = "box"

[nodes.box]
kind = "voicemail"
box = "サポート"
say = "サポート窓口です。発信音のあとにお話しください。"
notify = ["support@example.co.jp", "lead@example.co.jp"]
"""


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def env(tmp_path, sqlite_url, redis_url, smtp):
    _, port = smtp
    voice_env = make_env(tmp_path, sqlite_url, queue={"redis_url": redis_url},
                         mail={"host": "127.0.0.1", "port": port, "starttls": False,
                               "from_address": "cti@example.co.jp", "link_hours": 2})
    voice_env.__class__ = FlowEnv
    yield voice_env
    db.get_engine(voice_env.app).dispose()


def leave_message(env, seconds=75, end="#"):
    env.import_flow(FLOW)
    env.add_number(NUMBER, "flow:vm")
    call = env.sim.place_inbound_call(
        CALLER, NUMBER, caller=CallerScript(message=RecordInput(seconds=seconds, end=end)))
    env.sim.run_until_idle()
    return call


def test_notice_arrives_with_a_link_that_plays_only_while_valid(env, smtp):
    inbox, _ = smtp
    call = leave_message(env)
    assert call.heard == ["サポート窓口です。発信音のあとにお話しください。", "beep",
                          "ありがとうございました。"]
    run_jobs(env.app)
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["support@example.co.jp", "lead@example.co.jp"]
    body = message.get_content()
    assert message["Subject"] == f"[留守番電話] サポート: {CALLER}"
    assert "長さ: 1分15秒" in body and "日時: 2026-11-20 09:00" in body
    link = re.search(r"https://cti\.example\.com(/recordings/\S+)", body)[1]
    client = env.app.test_client()
    assert client.get(link).status_code == 200
    env.sim.start_time += timedelta(hours=3)  # the app's clock moves past link_hours = 2
    expired = client.get(link)
    assert expired.status_code == 403 and expired.get_json()["error"]["code"] == "link_expired"
    run_jobs(env.app)
    assert len(inbox.messages) == 1  # noticed once


def test_hang_up_instead_of_hash_is_filed_and_noticed_too(env, smtp):
    inbox, _ = smtp
    leave_message(env, seconds=9, end="hangup")
    run_jobs(env.app)
    assert len(inbox.messages) == 1 and "長さ: 0分09秒" in inbox.messages[0][1].get_content()


def test_history_marks_and_bulk_delete(env, smtp):
    call = leave_message(env)
    env.add_agent("lead", role="supervisor")
    env.add_agent("sato")
    client, auth = env.app.test_client(), env.login("lead")
    listed = client.get("/api/voicemail", headers=auth).get_json()["voicemail"]
    assert [(m["call_sid"], m["box"], m["seconds"], m["handled"]) for m in listed] == [
        (call.call_sid, "サポート", 75, False)]
    assert client.get(listed[0]["recording_url"].removeprefix("https://cti.example.com")
                      ).status_code == 200
    assert client.post("/api/voicemail/handled", headers=auth,
                       json={"call_sids": [call.call_sid]}).get_json() == {"changed": 1}
    assert client.get("/api/voicemail?handled=false", headers=auth).get_json()[
        "voicemail"] == []
    assert client.post("/api/voicemail/delete", headers=auth,
                       json={"call_sids": [call.call_sid, "CAnone"]}).get_json() == {
        "deleted": 1}
    assert client.get("/api/voicemail", headers=auth).get_json()["voicemail"] == []
    assert client.get("/api/voicemail", headers=env.login("sato")).status_code == 403
    assert client.post("/api/voicemail/delete", headers=auth,
                       json={"call_sids": []}).status_code == 422


def test_smtp_down_records_the_error_and_retries(tmp_path, sqlite_url, redis_url):
    env = make_env(tmp_path, sqlite_url, queue={"redis_url": redis_url},
                   mail={"host": "127.0.0.1", "port": free_port(), "starttls": False,
                         "from_address": "cti@example.co.jp"})
    env.__class__ = FlowEnv
    call = leave_message(env)
    run_jobs(env.app)
    with env.app.app_context(), db.get_engine(env.app).connect() as conn:
        [row] = voicemail.history(conn)
    assert row["call_sid"] == call.call_sid and not row["notified"]
    assert "ConnectionRefusedError" in row["notice_error"]
    db.get_engine(env.app).dispose()
