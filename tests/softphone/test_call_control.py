"""Hold, resume and transfer (SPEC SP-4, SP-5) through the simulator's REST API and webhooks.

The simulator (virtual clock) plays Twilio; the browsers are scripted endpoints for the agents'
client identities. Every step goes through the real call-control API and the real webhooks.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connector import clock, db
from connector.auth import accounts
from connector.schema import agent_presence, call_controls
from connector.softphone import simulated
from connector.voice import calls as call_records
from connector.voice import groups, numbers
from connector.voice.numbers import NumberChanges, Route
from voice.simulator import CallerScript, ScriptedEndpoint, VirtualClock
from voice.simulator.transcript import QueueEvent

OUR_NUMBER = "+81312345678"
PASSWORD = "Correct-horse-42"
CUSTOMER = "+819012345678"


class PhoneNet:
    """The app's simulated account on a virtual clock, with the voice core's real webhooks;
    agents' browsers are scripted endpoints for their client identities."""

    def __init__(self, app, sign_in) -> None:
        self.service = simulated.SimulatedTwilio(app, clock=VirtualClock())
        app.extensions["cti.simulated_mode"] = self.service
        self.sim = self.service.simulator
        self.app = app
        self.agent1 = sign_in(app, "agent1", display_name="佐藤 花子")
        self.agent2 = sign_in(app, "agent2", display_name="田中 一郎")
        with db.get_engine(app).begin() as conn:
            numbers.save_number(conn, OUR_NUMBER, NumberChanges(
                label="代表", route=Route.parse("agent:agent1")), now=clock.now(app))
            for username in ("agent1", "agent2"):
                numbers.grant_caller_id(conn, username, OUR_NUMBER, default=True)
        self.service.sync_numbers()
        self.browser1 = self.sim.on_client("agent1", answer_after=1)
        self.browser2 = self.sim.on_client("agent2", answer_after=2)
        for agent in (self.agent1, self.agent2):
            agent.put("/api/agents/me/status", json={"status": "available"})

    def customer_calls(self, caller=None):
        transcript = self.sim.place_inbound_call(CUSTOMER, OUR_NUMBER,
                                                 caller=caller or CallerScript())
        self.sim.run(until=self.sim.now() + 5)
        return transcript

    def run(self, seconds: float = 5) -> None:
        self.sim.run(until=self.sim.now() + seconds)

    def control(self, call_sid):
        with db.get_engine(self.app).connect() as conn:
            return conn.execute(select(call_controls).where(
                call_controls.c.call_sid == call_sid)).first()

    def record(self, call_sid):
        with db.get_engine(self.app).connect() as conn:
            return call_records.get_row(conn, call_sid)

    def legs_of(self, call_sid):
        with db.get_engine(self.app).connect() as conn:
            return call_records.child_rows(conn, call_sid)

    def status_of(self, agent):
        with db.get_engine(self.app).connect() as conn:
            return conn.execute(select(agent_presence.c.status).where(
                agent_presence.c.agent_id == agent.agent.id)).scalar()

    def leg(self, sid):
        return self.sim.legs[sid]


@pytest.fixture
def net(app, sign_in):
    return PhoneNet(app, sign_in)


def queue_events(transcript, kind):
    return [e for e in transcript.of(QueueEvent) if e.action == kind]


def test_hold_puts_the_caller_in_a_queue_with_music_and_ends_the_agents_leg(net):
    call = net.customer_calls()
    agent_leg = net.browser1.rung[0]
    assert net.leg(agent_leg.call_sid).alive
    response = net.agent1.post(f"/api/calls/{call.call_sid}/hold")
    assert response.status_code == 200 and response.get_json()["state"] == "held"
    net.run()
    assert not net.leg(agent_leg.call_sid).alive
    assert net.leg(call.call_sid).alive
    assert [e.queue for e in queue_events(call, "enqueued")] == ["hold-" + call.call_sid]
    music = call.requests_to("/twilio/voice/softphone/hold-music")
    assert music and music[0].status == 200
    assert "ただいま保留中です" in call.heard[-1]
    row = net.control(call.call_sid)
    assert (row.state, row.customer_call_sid, row.our_number) == ("held", call.call_sid,
                                                                   OUR_NUMBER)
    assert net.status_of(net.agent1) == "hold"


def test_agent_is_holding_before_the_redirect_ends_their_leg(net, monkeypatch):
    """The redirect ends the agent's leg, and that leg's "completed" callback may come before
    the hold request returns: the agent must already be 保留 then, not still 通話中 (which
    would start after-call work under the hold)."""
    from connector.softphone import legs

    call = net.customer_calls()
    seen = []
    real = legs.redirect

    def redirect(client, sid, twiml):
        seen.append(net.status_of(net.agent1))
        real(client, sid, twiml)

    monkeypatch.setattr(legs, "redirect", redirect)
    assert net.agent1.post(f"/api/calls/{call.call_sid}/hold").status_code == 200
    assert seen == ["hold"]


def test_a_hold_twilio_refuses_leaves_the_agent_talking(net, monkeypatch):
    from connector.softphone import legs

    call = net.customer_calls()

    def refuse(client, sid, twiml):
        raise legs.LegError(502, "twilio_error", "Twilio が応答しません。", "Twilio failed.")

    monkeypatch.setattr(legs, "redirect", refuse)
    response = net.agent1.post(f"/api/calls/{call.call_sid}/hold")
    assert response.status_code == 502
    assert net.status_of(net.agent1) == "on_call"
    assert net.control(call.call_sid) is None
    net.run()
    assert net.leg(call.call_sid).alive


def test_hold_twice_changes_nothing(net):
    call = net.customer_calls()
    net.agent1.post(f"/api/calls/{call.call_sid}/hold")
    net.run()
    again = net.agent1.post(f"/api/calls/{call.call_sid}/hold")
    assert again.status_code == 200 and again.get_json()["state"] == "held"
    net.run()
    assert len(queue_events(call, "enqueued")) == 1


def test_resume_bridges_the_agent_back_to_the_held_caller(net):
    call = net.customer_calls()
    net.agent1.post(f"/api/calls/{call.call_sid}/hold")
    net.run()
    resume = net.agent1.post(f"/api/calls/{call.call_sid}/unhold").get_json()
    assert resume["connect_params"] == {"cti_action": "resume", "cti_call": call.call_sid}
    browser_call = net.sim.place_client_call("agent1", resume["connect_params"])
    net.run()
    assert [e.queue for e in queue_events(call, "dequeued")] == ["hold-" + call.call_sid]
    assert browser_call.requests_to("/twilio/voice/outbound")[0].body.endswith(
        "<Dial><Queue>hold-" + call.call_sid + "</Queue></Dial></Response>")
    assert net.control(call.call_sid).state == "active"
    net.sim.party_hangup(net.leg(browser_call.call_sid))
    net.run()
    assert call.final_status == "completed"
    assert net.control(call.call_sid).state == "ended"
    # The resumed leg is a leg of the same call record, which is final once, at the end.
    legs = {row["call_sid"]: row for row in net.legs_of(call.call_sid)}
    assert legs[browser_call.call_sid]["leg"] == "agent"
    assert legs[browser_call.call_sid]["agent_id"] == net.agent1.agent.id
    assert legs[browser_call.call_sid]["status"] == "completed"
    assert net.record(call.call_sid)["finalized_at"] is not None
    assert net.record(browser_call.call_sid)["finalized_at"] is None


def test_only_the_holding_agent_may_resume(net):
    call = net.customer_calls()
    net.agent1.post(f"/api/calls/{call.call_sid}/hold")
    net.run()
    refused = net.agent2.post(f"/api/calls/{call.call_sid}/unhold")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["details"]["message_ja"] == (
        "この通話を操作する権限がありません。")
    sneaky = net.sim.place_client_call("agent2", {"cti_action": "resume",
                                                  "cti_call": call.call_sid})
    net.run()
    assert sneaky.requests_to("/twilio/voice/outbound")[0].body.endswith(
        "<Hangup /></Response>")
    assert net.leg(call.call_sid).alive and not queue_events(call, "dequeued")


def test_another_agents_live_call_cannot_be_held(net):
    call = net.customer_calls()
    refused = net.agent2.post(f"/api/calls/{call.call_sid}/hold")
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "not_your_call"


def test_holding_an_ended_call_says_so_in_japanese(net):
    call = net.customer_calls(CallerScript(hangup_after=3))
    net.run(10)
    response = net.agent1.post(f"/api/calls/{call.call_sid}/hold")
    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["message_ja"] == "通話はすでに終了しています。"


def test_caller_hanging_up_on_hold_ends_the_control(net):
    call = net.customer_calls(CallerScript(hangup_after=20))
    net.agent1.post(f"/api/calls/{call.call_sid}/hold")
    net.run(30)
    assert call.final_status == "completed"
    row = net.control(call.call_sid)
    assert (row.state, row.last_error) == ("ended", "caller_hung_up")
    assert net.agent1.get("/api/calls/control").get_json()["calls"] == []


def test_direct_transfer_to_an_agent_rings_them_with_the_callers_context(net):
    call = net.customer_calls()
    response = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "cold", "target": {"kind": "agent", "value": "agent2"},
        "context": {"cti_caller_name": "山田 太郎", "cti_caller_number": "090-1234-5678",
                    "unknown": "dropped"}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["state"] == "transferring"
    net.run(10)
    rung = net.browser2.rung[0]
    assert rung.parameters == {"cti_caller_name": "山田 太郎",
                               "cti_caller_number": "090-1234-5678",
                               "cti_parent_call_sid": call.call_sid,
                               "cti_transfer_from": "佐藤 花子", "cti_transfer_mode": "cold"}
    assert not net.leg(net.browser1.rung[0].call_sid).alive
    assert net.leg(rung.call_sid).answered_at is not None
    assert net.status_of(net.agent1) == "acw"
    net.sim.party_hangup(net.leg(rung.call_sid))
    net.run()
    assert net.control(call.call_sid).state == "transferred"
    target_leg = {row["call_sid"]: row for row in net.legs_of(call.call_sid)}[rung.call_sid]
    assert (target_leg["leg"], target_leg["agent_id"]) == ("agent", net.agent2.agent.id)
    assert net.record(call.call_sid)["finalized_at"] is not None


def test_direct_transfer_nobody_answers_comes_back_on_hold(net):
    net.sim.on_client("agent2", ScriptedEndpoint(answer_after=None))
    call = net.customer_calls()
    net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "cold", "target": {"kind": "agent", "value": "agent2"}})
    net.run(40)
    row = net.control(call.call_sid)
    assert (row.state, row.last_error) == ("held", "transfer_no-answer")
    assert "担当者につながりませんでした。そのままお待ちください。" in call.heard
    assert len(queue_events(call, "enqueued")) == 2  # on hold for the transfer, then again
    rows = net.agent1.get("/api/calls/control").get_json()["calls"]
    assert [(r["call_sid"], r["state"], r["last_error"]) for r in rows] == [
        (call.call_sid, "held", "transfer_no-answer")]


def test_direct_transfer_to_an_outside_number_uses_our_number(net):
    outside = net.sim.on_number("+819099998888", answer_after=1)
    call = net.customer_calls()
    response = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "cold", "target": {"kind": "number", "value": "０９０－９９９９－８８８８"}})
    assert response.get_json()["target"] == {"kind": "number", "label": "090-9999-8888"}
    net.run(10)
    assert outside.rung[0].from_ == OUR_NUMBER


@pytest.mark.parametrize("number,code,message", [
    ("110", "forbidden_emergency", "緊急通報（110番）はできません"),
    ("0990-123-456", "forbidden_0ab0", "0990で始まる番号には発信できません"),
    ("1234", "too_short", "桁数が足りません"),
])
def test_transfer_to_a_forbidden_number_is_refused_in_japanese(net, number, code, message):
    call = net.customer_calls()
    response = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "cold", "target": {"kind": "number", "value": number}})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code and message in error["details"]["message_ja"]
    net.run()
    assert net.leg(net.browser1.rung[0].call_sid).alive  # still talking to the agent
    assert net.control(call.call_sid) is None


def test_transfer_to_an_offline_agent_is_refused(net):
    net.agent2.put("/api/agents/me/status", json={"status": "offline"})
    call = net.customer_calls()
    response = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "cold", "target": {"kind": "agent", "value": "agent2"}})
    assert response.status_code == 409
    message = response.get_json()["error"]["details"]["message_ja"]
    assert message == "田中 一郎 さんはオフラインです。"


def test_hold_transfer_consults_then_bridges_target_and_caller(net):
    call = net.customer_calls()
    response = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "warm", "target": {"kind": "agent", "value": "agent2"},
        "context": {"cti_caller_name": "山田 太郎"}})
    body = response.get_json()
    assert body["connect_params"] == {"cti_action": "consult", "cti_call": call.call_sid}
    net.run()
    assert queue_events(call, "enqueued")  # the caller waits on hold during the consult
    consult = net.sim.place_client_call("agent1", body["connect_params"])
    net.run(5)
    target_leg = net.browser2.rung[0]
    assert target_leg.parameters["cti_transfer_mode"] == "warm"
    assert net.control(call.call_sid).state == "consulting"
    done = net.agent1.post(f"/api/calls/{call.call_sid}/transfer/complete")
    assert done.status_code == 200 and done.get_json()["state"] == "transferred"
    net.run(5)
    assert [e.queue for e in queue_events(call, "dequeued")] == ["hold-" + call.call_sid]
    assert consult.final_status == "completed"  # the agent's consult leg has ended
    assert net.leg(target_leg.call_sid).alive and net.leg(call.call_sid).alive


def test_cancelled_hold_transfer_leaves_the_caller_on_hold(net):
    call = net.customer_calls()
    body = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "warm", "target": {"kind": "agent", "value": "agent2"}}).get_json()
    net.run()
    consult = net.sim.place_client_call("agent1", body["connect_params"])
    net.run(5)
    cancelled = net.agent1.post(f"/api/calls/{call.call_sid}/transfer/cancel")
    assert cancelled.get_json()["state"] == "held"
    net.run()
    assert consult.final_status == "completed"
    assert net.leg(call.call_sid).alive and not queue_events(call, "dequeued")


def test_complete_before_the_target_answered_is_refused(net):
    net.sim.on_client("agent2", ScriptedEndpoint(answer_after=None))
    call = net.customer_calls()
    body = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "warm", "target": {"kind": "agent", "value": "agent2"}}).get_json()
    net.run()
    net.sim.place_client_call("agent1", body["connect_params"])
    net.run(3)
    early = net.agent1.post(f"/api/calls/{call.call_sid}/transfer/complete")
    assert early.status_code == 409
    assert early.get_json()["error"]["code"] == "target_not_connected"


def test_transfer_targets_list_other_agents_with_status_and_groups(net):
    with db.get_engine(net.app).begin() as conn:
        groups.save_group(conn, "support", display_name="サポート", members=["agent1", "agent2"],
                          now=clock.now(net.app))
    body = net.agent1.get("/api/calls/transfer-targets").get_json()
    assert body["agents"] == [{"value": "agent2", "label": "田中 一郎", "status": "available",
                               "status_label": "待機"}]
    assert body["groups"] == [{"value": "support", "label": "サポート", "available": 2}]


def test_direct_transfer_to_a_group_rings_its_available_members(net):
    third = net.sim.on_client("agent3", answer_after=1)
    with db.get_engine(net.app).begin() as conn:
        accounts.create_agent(conn, username="agent3", display_name="鈴木", password=PASSWORD,
                              policy=net.app.config["CTI_SETTINGS"].auth, now=clock.now(net.app))
        groups.save_group(conn, "billing", display_name="請求窓口",
                          members=["agent2", "agent3"], now=clock.now(net.app))
    call = net.customer_calls()  # agent3 never signed in: offline, not rung
    response = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "cold", "target": {"kind": "group", "value": "billing"}})
    assert response.status_code == 200, response.get_json()
    net.run(10)
    assert net.browser2.rung[0].parameters["cti_group"] == "請求窓口"
    assert third.rung == []
    warm = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "warm", "target": {"kind": "group", "value": "billing"}})
    assert warm.status_code in (409, 422)


def test_transfer_to_a_group_nobody_can_take_is_refused(net):
    with db.get_engine(net.app).begin() as conn:
        groups.save_group(conn, "night", members=["agent1"], now=clock.now(net.app))
    call = net.customer_calls()
    net.agent1.put("/api/agents/me/status", json={"status": "away"})
    response = net.agent1.post(f"/api/calls/{call.call_sid}/transfer", json={
        "mode": "cold", "target": {"kind": "group", "value": "night"}})
    assert response.status_code == 409
    assert "待機中のオペレーターがいません" in response.get_json()["error"]["details"]["message_ja"]


def test_webhooks_refuse_unsigned_requests(app):
    client = app.test_client()
    response = client.post("/twilio/voice/softphone/hold-music", data={"CallSid": "CA1"})
    assert response.status_code == 403


def test_outgoing_call_holds_the_dialed_customer_leg(net):
    outside = net.sim.on_number("+819055556666", answer_after=1)
    browser_call = net.sim.place_client_call("agent1", {"To": "+819055556666"})
    net.run(5)
    customer_leg = outside.rung[0]
    response = net.agent1.post(f"/api/calls/{browser_call.call_sid}/hold")
    assert response.status_code == 200, response.get_json()
    net.run()
    row = net.control(browser_call.call_sid)
    assert (row.customer_call_sid, row.our_number) == (customer_leg.call_sid, OUR_NUMBER)
    assert browser_call.final_status == "completed"  # the agent's leg ended
    assert net.leg(customer_leg.call_sid).alive
    assert [e.queue for e in queue_events(browser_call, "enqueued")] == [
        "hold-" + browser_call.call_sid]


def test_another_agents_outgoing_call_cannot_be_held(net):
    net.sim.on_number("+819055556666", answer_after=1)
    browser_call = net.sim.place_client_call("agent1", {"To": "+819055556666"})
    net.run(5)
    refused = net.agent2.post(f"/api/calls/{browser_call.call_sid}/hold")
    assert refused.status_code == 403


def test_agent_can_end_a_call_whose_caller_is_on_hold(net):
    call = net.customer_calls()
    net.agent1.post(f"/api/calls/{call.call_sid}/hold")
    net.run()
    ended = net.agent1.post(f"/api/calls/{call.call_sid}/hangup")
    assert ended.status_code == 200 and ended.get_json()["state"] == "ended"
    net.run()
    assert call.final_status == "completed"
    again = net.agent1.post(f"/api/calls/{call.call_sid}/hangup")
    assert again.status_code == 409
