"""Simulated mode's browser side: /api/sim (the softphone's simulated device talks to this)."""

from __future__ import annotations

import threading
import time

from connector.softphone.simulated import EventLog
from tests.softphone.test_call_control import OUR_NUMBER, PhoneNet


def events(agent, after=0):
    return agent.get(f"/api/sim/events?after={after}").get_json()


def test_a_call_rings_the_registered_browser_which_answers_and_hangs_up(app, sign_in):
    net = PhoneNet(app, sign_in)
    registered = net.agent1.post("/api/sim/register").get_json()
    assert registered == {"identity": "agent1", "cursor": 0}
    call = net.customer_calls()
    first = events(net.agent1)
    incoming = first["events"][0]
    assert incoming["type"] == "incoming" and incoming["from"] == "+819012345678"
    assert incoming["parameters"]["cti_parent_call_sid"] == call.call_sid
    assert incoming["parameters"]["cti_caller_number"] == "090-1234-5678"
    leg_sid = incoming["call_sid"]
    assert net.agent1.post(f"/api/sim/calls/{leg_sid}/answer").get_json() == {"done": True}
    net.run()
    assert net.leg(leg_sid).answered_at is not None
    net.agent1.post(f"/api/sim/calls/{leg_sid}/hangup")
    net.run()
    later = events(net.agent1, after=first["cursor"])["events"]
    assert [(e["type"], e["call_sid"], e["status"]) for e in later] == [
        ("ended", leg_sid, "completed")]
    assert call.final_status == "completed"


def test_declined_call_and_unknown_calls(app, sign_in):
    net = PhoneNet(app, sign_in)
    net.agent1.post("/api/sim/register")
    net.customer_calls()
    leg_sid = events(net.agent1)["events"][0]["call_sid"]
    assert net.agent2.post(f"/api/sim/calls/{leg_sid}/answer").status_code == 404
    net.agent1.post(f"/api/sim/calls/{leg_sid}/decline")
    net.run()
    assert not net.leg(leg_sid).alive and net.leg(leg_sid).answered_at is None
    assert net.agent1.post(f"/api/sim/calls/{leg_sid}/fly").status_code == 404


def test_browser_connect_goes_through_the_twiml_app(app, sign_in):
    net = PhoneNet(app, sign_in)
    outside = net.sim.on_number("+819011112222", answer_after=1)
    net.agent1.post("/api/sim/register")
    sid = net.agent1.post("/api/sim/connect",
                          json={"params": {"To": "+819011112222"}}).get_json()["call_sid"]
    net.run()
    assert outside.rung[0].from_ == OUR_NUMBER
    net.agent1.post(f"/api/sim/calls/{sid}/hangup")
    net.run()
    assert [e["type"] for e in events(net.agent1)["events"]] == ["ended"]


def test_unregistered_browser_is_not_rung(app, sign_in):
    net = PhoneNet(app, sign_in)
    net.agent1.post("/api/sim/register")
    net.agent1.post("/api/sim/unregister")
    net.customer_calls()
    assert events(net.agent1)["events"] == []


def test_demo_control_needs_a_configured_number(app, sign_in):
    agent = sign_in(app, "agent1")
    response = agent.post("/api/sim/incoming")
    assert response.status_code == 409
    assert "電話番号が登録されていません" in response.get_json()["error"]["message"]


def test_demo_control_has_a_made_up_customer_call_our_number(app, sign_in):
    net = PhoneNet(app, sign_in)
    net.agent1.post("/api/sim/register")
    placed = net.agent1.post("/api/sim/incoming").get_json()
    assert (placed["from"], placed["to"]) == ("+819012345678", OUR_NUMBER)
    net.run()
    assert [e["type"] for e in events(net.agent1)["events"]] == ["incoming"]
    assert net.agent1.post(f"/api/sim/calls/{placed['call_sid']}/caller-hangup").get_json() == {
        "done": True}


def test_sim_routes_are_off_with_a_twilio_account(make_app, sign_in):
    app = make_app(twilio={
        "account_sid": "AC" + "1" * 32, "auth_token": "t" * 32, "api_key_sid": "SK" + "1" * 32,
        "api_key_secret": "s" * 32, "twiml_app_sid": "AP" + "1" * 32})
    agent = sign_in(app, "agent1")
    response = agent.post("/api/sim/register")
    assert response.status_code == 404 and "simulated mode is off" in response.get_json()[
        "error"]["message"]


def test_event_log_wakes_a_waiting_poller():
    log = EventLog()
    found: list = []
    waiter = threading.Thread(target=lambda: found.extend(log.after(0, wait=5)))
    waiter.start()
    time.sleep(0.05)
    log.publish({"type": "incoming"})
    waiter.join(timeout=5)
    assert [e["seq"] for e in found] == [1]
    assert log.after(1, wait=0) == []
