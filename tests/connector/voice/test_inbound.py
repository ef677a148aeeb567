"""Incoming calls end to end: the simulator calls the real webhooks of the app."""

import json
from datetime import timedelta

from crm_adapters.base import Customer
from voice.simulator import CallerScript, RecordInput, answers, no_answer
from voice.twiml import MESSAGES

from .conftest import CALLER, NUMBER, START


def test_inbound_to_an_agent_answered(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato", label="サポート窓口")
    env.crm.known[CALLER] = [Customer("builtin", "42", "山田 太郎", "customer", "山田商事",
                                      url="https://crm.example.jp/c/42")]
    browser = env.sim.on_client("sato", answers(after=4, hangup_after=60))

    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()

    assert call.answered_by == "client:sato" and call.final_status == "completed"
    assert browser.rung[0].parameters == {
        "cti_parent_call_sid": call.call_sid, "cti_caller_number": "090-1234-5678",
        "cti_caller_e164": CALLER, "cti_caller_name": "山田 太郎",
        "cti_caller_company": "山田商事",
        "cti_matches": '[{"adapter":"builtin","id":"42","type":"customer","name":"山田 太郎",'
                       '"url":"https://crm.example.jp/c/42"}]',
        "cti_number_label": "サポート窓口"}
    record = env.record(call.call_sid)
    agent_leg = env.legs(call.call_sid)
    assert (record["direction"], record["status"], record["outcome"]) == (
        "inbound", "completed", "answered")
    assert record["customer_number"] == CALLER and record["our_number"] == NUMBER
    assert record["agent_id"] == agent_leg[0]["agent_id"] is not None
    assert record["started_at"] == START
    assert record["answered_at"] == START + timedelta(seconds=5)  # 1 s to ring, 4 to answer
    assert record["talk_seconds"] == 60 and record["duration_seconds"] == 65
    assert record["customer"]["matches"][0]["id"] == "42"
    assert [leg["leg"] for leg in agent_leg] == ["agent"]
    assert env.handoffs.calls == [call.call_sid]
    assert env.crm.budgets == [0.3]


def test_no_answer_goes_to_voicemail(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato", "voicemail")
    env.sim.on_client("sato", no_answer())

    call = env.sim.place_inbound_call(
        CALLER, NUMBER, caller=CallerScript(message=RecordInput(seconds=12, end="#")))
    env.sim.run_until_idle()

    assert call.heard == [MESSAGES["voicemail_greeting"], "beep", MESSAGES["voicemail_thanks"]]
    assert call.answered_by is None and call.error_codes == []
    record = env.record(call.call_sid)
    assert record["outcome"] == "voicemail" and record["detail"] == "fallback:voicemail"
    assert record["recording_sid"].startswith("RE") and record["recording_duration"] == 12
    assert record["answered_at"] is None and record["agent_id"] is None
    assert [leg["status"] for leg in env.legs(call.call_sid)] == ["no-answer"]
    assert env.handoffs.calls == [call.call_sid]


def test_voicemail_ended_by_hanging_up_hands_the_recording_over_again(env):
    env.add_number(NUMBER, "voicemail")
    call = env.sim.place_inbound_call(
        CALLER, NUMBER, caller=CallerScript(message=RecordInput(seconds=8, end="hangup")))
    env.sim.run_until_idle()

    record = env.record(call.call_sid)
    assert record["outcome"] == "voicemail" and record["recording_duration"] == 8
    # Final at hang-up, then the recording arrived: a second revision for the write-back.
    assert env.handoffs.calls == [call.call_sid]
    assert env.handoffs.updates == [call.call_sid]


def test_group_rings_only_available_agents_with_the_group_parameter(env):
    for name in ("ito", "kato", "sato"):
        env.add_agent(name)
    env.set_presence("kato", "away")
    from connector import db
    from connector.voice import groups
    with db.get_engine(env.app).begin() as conn:
        groups.save_group(conn, "support", display_name="サポート",
                          members=["sato", "kato", "ito"], now=env.now)
    env.add_number(NUMBER, "group:support")
    sato = env.sim.on_client("sato", no_answer())
    env.sim.on_client("ito", answers(after=3, hangup_after=20))
    kato = env.sim.on_client("kato", answers(after=1))

    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()

    assert call.answered_by == "client:ito" and kato.rung == []
    assert sato.rung[0].parameters["cti_group"] == "サポート"  # shown to the agent
    record = env.record(call.call_sid)
    legs = {leg["to_number"]: leg for leg in env.legs(call.call_sid)}
    assert record["outcome"] == "answered" and record["agent_id"] == legs["client:ito"]["agent_id"]
    assert record["group_id"] is not None and record["talk_seconds"] == 20
    assert legs["client:sato"]["status"] == "canceled"
    assert env.handoffs.calls == [call.call_sid]


def test_nobody_available_and_no_fallback_apologises(env):
    env.add_agent("sato", available=False)
    env.add_number(NUMBER, "agent:sato")
    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()
    assert call.heard == [MESSAGES["no_agent"]]
    assert env.record(call.call_sid)["outcome"] == "missed"
    assert env.handoffs.calls == [call.call_sid]


def test_caller_hangs_up_while_ringing_is_a_missed_call(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato", "voicemail")
    env.sim.on_client("sato", no_answer())
    call = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=8))
    env.sim.run_until_idle()
    record = env.record(call.call_sid)
    assert call.heard == [] and record["outcome"] == "missed"
    assert record["status"] == "canceled"
    assert env.handoffs.calls == [call.call_sid]


def test_external_route_uses_the_called_number_as_caller_id(env):
    env.add_number(NUMBER, "external:03-9876-5432")
    outside = env.sim.on_number("+81398765432", answers(after=2, hangup_after=30))
    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()
    assert call.answered_by == "+81398765432"
    assert outside.rung[0].from_ == NUMBER  # CF-8 "use the called number"
    record = env.record(call.call_sid)
    assert record["outcome"] == "forwarded" and record["talk_seconds"] == 30
    assert [leg["leg"] for leg in env.legs(call.call_sid)] == ["external"]


def test_blocked_caller_is_rejected(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato")
    browser = env.sim.on_client("sato", answers())
    client = env.app.test_client()
    admin = env.add_agent("boss", role="admin")
    assert admin.role == "admin"
    added = client.post("/api/admin/number-lists/block", headers=env.login("boss"),
                        json={"pattern": "090-1234-5678", "note": "いたずら電話"})
    assert added.status_code == 201

    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()

    assert browser.rung == [] and call.heard == []
    assert call.end_reason == "rejected (rejected)"
    record = env.record(call.call_sid)
    assert (record["outcome"], record["detail"]) == ("rejected", "block_list")
    assert env.handoffs.calls == [call.call_sid]


def test_withheld_numbers_blocked_by_the_anonymous_rule(env):
    env.add_number(NUMBER, "voicemail")
    from connector import db
    from connector.voice import number_lists
    with db.get_engine(env.app).begin() as conn:
        number_lists.add_rule(conn, "block", "非通知", "", now=env.now)
    call = env.sim.place_inbound_call("anonymous", NUMBER)
    env.sim.run_until_idle()
    assert env.record(call.call_sid)["outcome"] == "rejected"
    other = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()
    assert env.record(other.call_sid)["outcome"] == "voicemail"


def test_unconfigured_number_announces_politely_and_hangs_up(env):
    env.add_number(NUMBER)  # route "none"
    env.sim.add_number("+815000000001", "https://cti.example.com/twilio/voice/inbound",
                       status_callback="https://cti.example.com/twilio/voice/status")
    for number in (NUMBER, "+815000000001"):  # configured as "none", and not in our database
        call = env.sim.place_inbound_call(CALLER, number)
        env.sim.run_until_idle()
        assert call.heard == [MESSAGES["unconfigured"]] and call.error_codes == []
        assert env.record(call.call_sid)["outcome"] == "unconfigured"
        webhook = call.requests_to("/twilio/voice/inbound")[0]
        assert webhook.status == 200 and 'language="ja-JP"' in webhook.body


def test_crm_failure_never_delays_the_call(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato")

    class Broken:
        def caller_lookup(self, e164, *, budget):
            raise TimeoutError("CRM down")

    env.app.extensions["cti.crm"] = Broken()
    browser = env.sim.on_client("sato", answers(after=1, hangup_after=5))
    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()
    assert call.answered_by == "client:sato"
    assert browser.rung[0].parameters["cti_caller_name"] == ""
    assert json.loads(browser.rung[0].parameters["cti_matches"]) == []


def test_recorded_number_records_the_conversation(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato", recording=True)
    env.sim.on_client("sato", answers(after=2, hangup_after=40))
    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()
    record = env.record(call.call_sid)
    assert record["recording_sid"].startswith("RE") and record["recording_duration"] == 40
    dial = call.requests_to("/twilio/voice/inbound")[0].body
    assert 'record="record-from-answer-dual"' in dial
