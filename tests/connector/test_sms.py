"""SMS (SM-1) through the Twilio simulator: templates, sender IDs, the segment rule, replies
on the customer's history, in the built-in CRM's log and notified."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from connector import create_app, crm, db, sync
from connector.builtin_crm import store
from connector.builtin_crm.model import parse_customer
from connector.schema import customer_call_logs, sms_messages
from connector.voice import attach_simulator, numbers, webhook_auth_token
from connector.voice.numbers import NumberChanges, Route
from connector.voice.runtime import SIMULATOR_ACCOUNT_SID
from tests.conftest import app_config
from tests.connector.crm_fixtures import run_jobs
from tests.fakes.server import LiveServer
from voice import sms_segments
from voice.simulator import Simulator, WSGITransport

BASE = "https://cti.example.com"
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
OURS = "+815012345678"
CUSTOMER = "+819012345678"
PASSWORD = "Correct-horse-42"


class Hooks:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.bodies.append(json.loads(Request(environ).get_data() or b"{}"))
        return Response("{}", content_type="application/json")(environ, start_response)


@pytest.fixture
def hooks():
    fake = Hooks()
    with LiveServer(fake) as live:
        fake.url = live.url
        yield fake


class Env:
    def __init__(self, tmp_path, database_url, redis_url, hooks, **sms) -> None:
        holder: dict[str, Simulator] = {}

        def sim_clock() -> datetime:
            sim = holder.get("sim")
            return sim.wall_time(sim.now()) if sim else START

        self.app = create_app(app_config(
            tmp_path, database_url, redis_url, crm={"adapters": ["builtin"],
                                                    "writeback_delay_seconds": 0},
            sms={"sender_ids": {OURS: "ACME"}, **sms},
            notify={"channels": {"chat": {"url": f"json://{hooks.url[7:]}/chat"}},
                    "events": {"sms_received": {"channels": ["chat"]}}}), clock=sim_clock)
        self.sim = Simulator(SIMULATOR_ACCOUNT_SID, webhook_auth_token(self.app),
                             WSGITransport(self.app, BASE), start_time=START)
        holder["sim"] = self.sim
        attach_simulator(self.app, self.sim)
        engine = db.get_engine(self.app)
        with engine.begin() as conn:
            numbers.save_number(conn, OURS, NumberChanges(
                label="サポート窓口", route=Route.parse("none"), fallback=Route.parse("none")),
                now=START)
            self.customer_id = store.create_customer(conn, parse_customer(
                {"name": "山田 太郎", "company": "山田商事", "phones": ["090-1234-5678"]}), START)
        self.sim.add_number(OURS, f"{BASE}/twilio/voice/inbound")
        self.sim.messaging.set_sms_url(OURS, f"{BASE}/twilio/sms/inbound")
        with self.app.app_context():
            sync.sync_adapter(engine, crm.get_layer().adapters["builtin"],
                              now=lambda: START, full=True)
        self.client = self.app.test_client()
        self.headers = self._login("agent1", "agent")
        self.admin = self._login("admin1", "admin")

    def _login(self, username: str, role: str) -> dict[str, str]:
        from connector.auth import accounts

        with db.get_engine(self.app).begin() as conn:
            accounts.create_agent(conn, username=username, display_name=f"{username} 担当",
                                  password=PASSWORD, policy=self.app.config["CTI_SETTINGS"].auth,
                                  now=START, role=role)
        token = self.client.post("/api/auth/login", json={
            "username": username, "password": PASSWORD}).get_json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def messages(self) -> list[dict]:
        with db.get_engine(self.app).connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(sms_messages).order_by(sms_messages.c.id))]

    def crm_log(self, sid: str) -> dict:
        with db.get_engine(self.app).connect() as conn:
            row = conn.execute(select(customer_call_logs).where(
                customer_call_logs.c.call_sid == sid)).first()
        return dict(row._mapping) if row else {}


@pytest.fixture
def env(tmp_path, database_url, redis_url, hooks):
    return Env(tmp_path, database_url, redis_url, hooks)


def test_send_with_a_template_then_receive_the_reply(env, hooks):
    created = env.client.post("/api/admin/sms/templates", headers=env.admin, json={
        "name": "callback", "body": "{name}様 {company} お問い合わせありがとうございます。"
                                   "{agent}よりご連絡します。{our_number}"})
    assert created.status_code == 201, created.get_json()
    sent = env.client.post("/api/sms", headers=env.headers, json={
        "to": "090-1234-5678", "template": "callback"})
    assert sent.status_code == 201, sent.get_json()
    message = sent.get_json()["message"]
    assert message["body"] == ("山田 太郎様 山田商事 お問い合わせありがとうございます。"
                               "agent1 担当よりご連絡します。050-1234-5678")
    assert message["sender_id"] == "ACME" and message["status"] == "queued"
    assert sent.get_json()["segments"]["encoding"] == "UCS-2"
    # Twilio got it from the sender ID and calls back as it is sent and delivered.
    (twilio_message,) = env.sim.messaging.messages.values()
    assert (twilio_message.from_, twilio_message.to) == ("ACME", CUSTOMER)
    env.sim.run_until_idle()
    assert twilio_message.history == ["queued", "sent", "delivered"]
    assert [m["status"] for m in env.messages()] == ["delivered"]
    assert all(status == 200 for _url, _params, status in env.sim.messaging.sent_webhooks)
    # The customer replies.
    reply = env.sim.messaging.receive(CUSTOMER, OURS, "明日の午後にお願いします")
    history = env.client.get("/api/sms?number=09012345678", headers=env.headers).get_json()
    assert [(m["direction"], m["body"]) for m in history["messages"]] == [
        ("inbound", "明日の午後にお願いします"), ("outbound", message["body"])]
    run_jobs(env.app)  # the workers: CRM logs, the notification
    log = env.crm_log(reply.sid)
    assert log["disposition"] == "SMS受信" and log["notes"] == "明日の午後にお願いします"
    assert log["customer_id"] == env.customer_id and log["direction"] == "inbound"
    assert env.crm_log(message["message_sid"])["disposition"] == "SMS送信"
    (notice,) = hooks.bodies
    assert "SMS 受信" in notice["message"] and "明日の午後にお願いします" in notice["message"]
    assert "山田 太郎" in notice["message"]


def test_a_replayed_reply_is_stored_once(env, hooks):
    reply = env.sim.messaging.receive(CUSTOMER, OURS, "はい")
    url, params, _status = env.sim.messaging.sent_webhooks[-1]
    from voice.signature import SIGNATURE_HEADER, compute_signature

    again = env.client.post("/twilio/sms/inbound", data=dict(params), headers={
        SIGNATURE_HEADER: compute_signature(url, params, webhook_auth_token(env.app))},
        base_url=BASE)
    assert again.status_code == 200
    assert [m["message_sid"] for m in env.messages()] == [reply.sid]
    run_jobs(env.app)
    assert len(hooks.bodies) == 1


def test_unsigned_messaging_webhooks_are_refused(env):
    forged = env.client.post("/twilio/sms/inbound", data={
        "MessageSid": "SM" + "0" * 32, "From": CUSTOMER, "To": OURS, "Body": "x"},
        base_url=BASE)
    assert forged.status_code == 403
    assert env.messages() == []


def test_undelivered_status_is_recorded(env):
    env.sim.messaging.unreachable.add(CUSTOMER)
    env.client.post("/api/sms", headers=env.headers, json={"to": CUSTOMER, "body": "hello"})
    env.sim.run_until_idle()
    (row,) = env.messages()
    assert (row["status"], row["error_code"]) == ("undelivered", "30003")


@pytest.mark.parametrize("body,problem", [
    ({"to": "12", "body": "x"}, ("invalid_number", "to")),
    ({"to": CUSTOMER, "body": "  "}, ("empty_body", "body")),
    ({"to": CUSTOMER, "template": "nope"}, ("unknown_template", "template")),
    ({"to": CUSTOMER, "body": "x", "from": "+81311112222"}, ("invalid_from", "from")),
    ({"to": CUSTOMER, "body": "あ" * (67 * 5 + 1)}, ("too_long", "body")),
])
def test_refusals_name_the_field(env, body, problem):
    answer = env.client.post("/api/sms", headers=env.headers, json=body)
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert (error["code"], error["details"]["field"]) == problem
    assert env.sim.messaging.messages == {}


def test_preview_shows_the_japanese_segment_rule(env):
    preview = env.client.post("/api/sms/preview", headers=env.headers,
                              json={"body": "あ" * 71}).get_json()
    assert preview["segments"] == {"encoding": "UCS-2", "characters": 71, "segments": 2,
                                   "per_segment": 67, "remaining": 63}
    ascii_only = env.client.post("/api/sms/preview", headers=env.headers,
                                 json={"body": "a" * 160}).get_json()
    assert ascii_only["segments"]["segments"] == 1 and not ascii_only["too_long"]


def test_template_errors_name_the_field(env):
    bad = env.client.post("/api/admin/sms/templates", headers=env.admin,
                          json={"name": "x", "body": "{名前}様"})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["field"] == "body"
    assert "{名前}" in bad.get_json()["error"]["message"]
    forbidden = env.client.post("/api/admin/sms/templates", headers=env.headers,
                                json={"name": "x", "body": "hi"})
    assert forbidden.status_code == 403


def test_a_flow_node_queues_an_sms_to_the_caller(env):
    from sqlalchemy import insert

    from connector import sms
    from connector.schema import calls

    with db.get_engine(env.app).begin() as conn:
        conn.execute(insert(calls).values(
            call_sid="CA" + "7" * 32, direction="inbound", status="in-progress",
            from_number=CUSTOMER, to_number=OURS, customer_number=CUSTOMER, our_number=OURS,
            started_at=START, created_at=START, updated_at=START))
    with env.app.app_context():
        assert sms.send_from_flow("CA" + "7" * 32, body="ご用件を承りました。")
    assert env.sim.messaging.messages == {}  # nothing sent on the webhook's path
    run_jobs(env.app)
    (sent,) = env.sim.messaging.messages.values()
    assert (sent.to, sent.from_, sent.body) == (CUSTOMER, "ACME", "ご用件を承りました。")
    assert env.messages()[0]["call_sid"] == "CA" + "7" * 32


@pytest.mark.parametrize("text,expected", [
    ("", (1, 160)), ("a" * 160, (1, 0)), ("a" * 161, (2, 145)), ("{" * 80, (1, 0)),
    ("あ" * 70, (1, 0)), ("あ" * 71, (2, 63)), ("😀" * 35, (1, 0)), ("é" * 160, (1, 0)),
])
def test_segment_counts(text, expected):
    segments = sms_segments.count(text)
    assert (segments.count, segments.remaining) == expected


def test_preview_renders_a_template_with_or_without_a_recipient(env):
    env.client.post("/api/admin/sms/templates", headers=env.admin,
                    json={"name": "thanks", "body": "{name}様 {agent}です。{our_number}"})
    known = env.client.post("/api/sms/preview", headers=env.headers, json={
        "template": "thanks", "to": "090-1234-5678"}).get_json()
    assert known["body"] == "山田 太郎様 agent1 担当です。050-1234-5678"
    assert known["segments"]["encoding"] == "UCS-2"
    blank = env.client.post("/api/sms/preview", headers=env.headers,
                            json={"template": "thanks"}).get_json()
    assert blank["body"] == "様 agent1 担当です。050-1234-5678"
    missing = env.client.post("/api/sms/preview", headers=env.headers,
                              json={"template": "nope"})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["details"]["field"] == "template"


SMS_FLOW = """
[flow]
name = "after-hours"
entry = "text"

[nodes.text]
kind = "sms"
template = "hours"
next = "bye"

[nodes.bye]
kind = "hangup"
say = "営業時間のご案内をSMSでお送りしました。"
"""


def test_a_call_through_a_flow_sms_node_texts_the_caller_after_the_webhook(env):
    """SM-1 from a flow: the caller hears the announcement at once; the worker sends the
    template, rendered for the caller (a customer of the built-in CRM), from the number they
    called, with its sender ID."""
    from connector.flows import store as flow_store
    from voice.simulator import CallerScript
    from voice.simulator.transcript import Heard

    env.client.post("/api/admin/sms/templates", headers=env.admin, json={
        "name": "hours", "body": "{name}様 営業時間は平日9時〜18時です。{our_number}"})
    with db.get_engine(env.app).begin() as conn:
        flow_store.import_flow(conn, SMS_FLOW, now=START)
        numbers.save_number(conn, OURS, NumberChanges(route=Route.parse("flow:after-hours")),
                            now=START)
    call = env.sim.place_inbound_call(CUSTOMER, OURS, caller=CallerScript())
    env.sim.run_until_idle()
    assert "営業時間のご案内をSMSでお送りしました。" in [h.content for h in call.of(Heard)]
    assert env.sim.messaging.messages == {}  # nothing sent while the caller was on the line
    run_jobs(env.app)
    (sent,) = env.sim.messaging.messages.values()
    assert (sent.to, sent.from_) == (CUSTOMER, "ACME")
    assert sent.body == "山田 太郎様 営業時間は平日9時〜18時です。050-1234-5678"
    assert env.messages()[0]["call_sid"] == call.call_sid


def test_a_flow_sms_node_must_name_a_template_that_exists_or_give_a_text(env):
    from connector.flows import store as flow_store
    from voice.flows.model import FlowError

    with db.get_engine(env.app).connect() as conn:
        with pytest.raises(FlowError) as missing:
            flow_store.check_text(conn, SMS_FLOW)
        both = SMS_FLOW.replace('template = "hours"', 'template = "hours"\nbody = "x"')
        with pytest.raises(FlowError) as two:
            flow_store.check_text(conn, both)
    assert [(p.node, p.field) for p in missing.value.problems] == [("text", "template")]
    assert "no SMS template named 'hours'" in str(missing.value.problems[0])
    assert "one of them" in str(two.value.problems[0])
