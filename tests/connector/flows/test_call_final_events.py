"""Which notification a call nobody answered gives, through the simulator (NT-1, CF-1..3).

Each unanswered inbound call ends as exactly one of: ``ivr_handled`` (the caller hung up in a
menu, or a flow's announcement ended the call), ``abandoned`` (the caller hung up while a
group rang), ``missed`` (nobody available, a single agent who did not answer) or ``voicemail``.
The messages arrive at a local webhook server standing in for Slack.
"""

from __future__ import annotations

import json

import pytest

from connector import db
from tests.connector.crm_fixtures import run_jobs
from tests.connector.test_notify import Webhooks
from tests.fakes.server import LiveServer
from voice.simulator import CallerScript, RecordInput, no_answer

from ..voice.conftest import CALLER, NUMBER, make_env
from .conftest import FlowEnv

FLOW = """
[flow]
name = "desk"
entry = "welcome"

[nodes.welcome]
kind = "menu"
label = "受付メニュー"
say = "サポートは1を、営業時間のご案内は2を押してください。"
keys = { 1 = "support", 2 = "hours" }
timeout = 5
retries = 0
default = "hours"

[nodes.support]
kind = "group"
group = "support"
next = "sorry"

[nodes.hours]
kind = "announcement"
label = "営業時間のご案内"
say = "営業時間は平日9時から18時です。"

[nodes.sorry]
kind = "voicemail"
say = "ただいま電話が混み合っております。発信音のあとにお話しください。"
"""

EVENTS = ("missed", "voicemail", "ivr_handled", "abandoned")


@pytest.fixture
def hooks():
    fake = Webhooks()
    with LiveServer(fake) as live:
        fake.url = live.url
        yield fake


@pytest.fixture
def env(tmp_path, sqlite_url, redis_url, hooks):
    slack = {"url": f"json://{hooks.url.removeprefix('http://')}/slack"}
    voice_env = make_env(tmp_path, sqlite_url, queue={"redis_url": redis_url}, notify={
        "channels": {"slack": slack},
        "events": {event: {"channels": ["slack"], "template": f"{event}: {{caller}} "
                           + {"ivr_handled": "{summary}", "abandoned": "{queue} {wait_seconds}"
                              }.get(event, "{number_label}")} for event in EVENTS}})
    voice_env.__class__ = FlowEnv
    voice_env.add_agent("ito")
    voice_env.add_group("support", ["ito"])
    yield voice_env
    db.get_engine(voice_env.app).dispose()


def place(env, route: str, **script):
    env.add_number(NUMBER, route)
    call = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(**script))
    env.sim.run_until_idle()
    run_jobs(env.app)
    return call


def messages(hooks) -> list[str]:
    return [json.loads(hit["body"])["message"] for hit in hooks.hits if hit["path"] == "/slack"]


def test_an_announcement_that_ends_the_call_is_ivr_handled(env, hooks):
    env.import_flow(FLOW)
    call = place(env, "flow:desk", digits=["2"])
    assert call.heard[-1] == "営業時間は平日9時から18時です。"
    record = env.record(call.call_sid)
    assert (record["outcome"], record["detail"]) == ("ivr", "flow:desk:hours")
    assert messages(hooks) == [
        "ivr_handled: 090-1234-5678 "
        "フロー「desk」の「営業時間のご案内」（アナウンス）で終了しました。"]


def test_hanging_up_in_the_menu_is_ivr_handled_not_missed(env, hooks):
    env.import_flow(FLOW)
    call = place(env, "flow:desk", hangup_after=2)
    record = env.record(call.call_sid)
    assert (record["outcome"], record["detail"]) == ("ivr", "flow:desk:welcome")
    assert messages(hooks) == [
        "ivr_handled: 090-1234-5678 フロー「desk」の「受付メニュー」（メニュー）で終了しました。"]


def test_hanging_up_while_the_flows_group_rings_is_abandoned(env, hooks):
    env.import_flow(FLOW)
    env.sim.on_client("ito", no_answer())
    call = place(env, "flow:desk", digits=["1"], hangup_after=25)
    record = env.record(call.call_sid)
    assert record["outcome"] == "abandoned" and record["group_id"] is not None
    (leg,) = env.legs(call.call_sid)
    waited = round((record["ended_at"] - leg["started_at"]).total_seconds())
    assert 0 < waited < 25  # from the first ring, not from the menu
    assert messages(hooks) == [f"abandoned: 090-1234-5678 support {waited}"]


def test_hanging_up_while_a_numbers_group_rings_is_abandoned(env, hooks):
    env.sim.on_client("ito", no_answer())
    call = place(env, "group:support", hangup_after=7)
    record = env.record(call.call_sid)
    assert record["outcome"] == "abandoned"
    (message,) = messages(hooks)
    assert message.startswith("abandoned: 090-1234-5678 support ")
    assert 5 <= int(message.rsplit(" ", 1)[1]) <= 7


def test_nobody_available_in_the_group_is_missed(env, hooks):
    env.set_presence("ito", "offline")
    call = place(env, "group:support")
    assert env.record(call.call_sid)["outcome"] == "missed"
    assert messages(hooks) == ["missed: 090-1234-5678 代表"]


def test_a_single_agent_not_answering_is_missed(env, hooks):
    env.sim.on_client("ito", no_answer())
    call = place(env, "agent:ito", hangup_after=6)
    assert env.record(call.call_sid)["outcome"] == "missed"
    assert messages(hooks) == ["missed: 090-1234-5678 代表"]


def test_a_voicemail_after_the_group_is_a_voicemail_only(env, hooks):
    env.import_flow(FLOW)
    env.set_presence("ito", "offline")
    call = place(env, "flow:desk", digits=["1"], message=RecordInput(seconds=5, end="#"))
    assert env.record(call.call_sid)["outcome"] == "voicemail"
    assert [m.split(":")[0] for m in messages(hooks)] == ["voicemail"]


def test_a_replayed_final_callback_notifies_once(env, hooks):
    from connector import notify

    env.import_flow(FLOW)
    call = place(env, "flow:desk", digits=["2"])
    with env.app.app_context():
        notify.call_final(call.call_sid)
    run_jobs(env.app)
    assert len(messages(hooks)) == 1
