"""twilio.rest.Client against the simulator: hold and back, outbound calls, errors."""

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from voice.simulator import CallerScript
from voice.simulator.transcript import Redirected

from .conftest import ACCOUNT, BASE, CALLER, NUMBER, TOKEN, twiml


@pytest.fixture
def client(sim):
    return Client(ACCOUNT, TOKEN, http_client=sim.http_client())


def test_hold_redirects_the_caller_to_music_and_back_to_the_agent(sim, server, client):
    sim.add_number(NUMBER, BASE + "/voice")
    server.routes["/voice"] = twiml('<Dial><Client>agent_1</Client></Dial>')
    server.routes["/hold"] = twiml('<Play loop="0">https://cdn.example.jp/hold.mp3</Play>')
    endpoint = sim.on_client("agent_1", answer_after=2)
    t = sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=120))
    sim.run(until=30)
    call = client.calls(t.call_sid).update(url=BASE + "/hold", method="POST")
    assert call.status == "in-progress"
    sim.run(until=60)
    assert t.heard == ["https://cdn.example.jp/hold.mp3"] * len(t.heard) and t.heard
    first_agent_leg = endpoint.rung[0].call_sid
    assert client.calls(first_agent_leg).fetch().status == "completed"
    client.calls(t.call_sid).update(twiml='<Response><Dial><Client>agent_1</Client></Dial>'
                                          '</Response>')
    sim.run_until_idle()
    assert [r.url for r in t.of(Redirected)] == [BASE + "/hold", "(inline TwiML)"]
    assert len(endpoint.rung) == 2
    assert t.final_status == "completed" and t.duration == 120
    assert client.calls(t.call_sid).fetch().duration == "120"


def test_hang_up_a_live_call(sim, server, client):
    sim.add_number(NUMBER, BASE + "/voice")
    server.routes["/voice"] = twiml('<Play loop="0">https://cdn.example.jp/m.mp3</Play>')
    t = sim.place_inbound_call(CALLER, NUMBER)
    sim.run(until=10)
    client.calls(t.call_sid).update(status="completed")
    sim.run_until_idle()
    assert (t.final_status, t.end_reason, t.duration) == ("completed", "rest-api", 10)


def test_create_an_outbound_call_runs_twiml_on_the_answered_leg(sim, server, client):
    server.routes["/outbound"] = twiml('<Gather numDigits="1" action="/survey"><Say>Rate us'
                                       '</Say></Gather>')
    sim.on_number("+819012345678", answer_after=4,
                  script=CallerScript(digits=["5"], hangup_after=30))
    call = client.calls.create(to="+819012345678", from_=NUMBER, url=BASE + "/outbound",
                               status_callback=BASE + "/status",
                               status_callback_event=["initiated", "ringing", "answered",
                                                      "completed"])
    assert call.status == "queued" and call.sid.startswith("CA")
    sim.run_until_idle()
    t = next(tr for tr in sim.transcripts if tr.call_sid == call.sid)
    survey = t.requests_to("/survey")[0].param_dict
    assert survey["Digits"] == "5" and survey["Direction"] == "outbound-api"
    assert [r.param_dict["CallStatus"] for r in t.requests_to("/status")] == [
        "initiated", "ringing", "in-progress", "completed"]
    assert client.calls(call.sid).fetch().status == "completed"


def test_outbound_call_nobody_answers(sim, client):
    sim.on_number("+819012345678", answer_after=None)
    call = client.calls.create(to="+819012345678", from_=NUMBER, url=BASE + "/x", timeout=15)
    sim.run_until_idle()
    fetched = client.calls(call.sid).fetch()
    assert fetched.status == "no-answer" and fetched.duration == "0"


def test_errors_use_twilio_codes_and_format(sim, client):
    with pytest.raises(TwilioRestException) as missing:
        client.calls("CA" + "0" * 32).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)
    with pytest.raises(TwilioRestException) as no_url:
        client.calls.create(to="+819012345678", from_=NUMBER)
    assert no_url.value.code == 21205
    bad = Client(ACCOUNT, "wrong-token", http_client=sim.http_client())
    with pytest.raises(TwilioRestException) as auth:
        bad.calls("CA" + "0" * 32).fetch()
    assert (auth.value.status, auth.value.code) == (401, 20003)


def test_redirecting_a_finished_call_is_refused(sim, server, client):
    sim.add_number(NUMBER, BASE + "/voice")
    server.routes["/voice"] = twiml("<Hangup/>")
    t = sim.place_inbound_call(CALLER, NUMBER)
    sim.run_until_idle()
    with pytest.raises(TwilioRestException) as refused:
        client.calls(t.call_sid).update(url=BASE + "/x")
    assert refused.value.code == 21220


def test_queue_members_are_listed(sim, server, client):
    sim.add_number(NUMBER, BASE + "/voice")
    server.routes["/voice"] = twiml("<Enqueue>support</Enqueue>")
    t = sim.place_inbound_call(CALLER, NUMBER)
    sim.run(until=42)
    queue = client.queues.list()[0]
    assert (queue.friendly_name, queue.current_size) == ("support", 1)
    members = client.queues(queue.sid).members.list()
    assert [(m.call_sid, m.position, m.wait_time) for m in members] == [(t.call_sid, 1, 42)]


def test_a_completed_call_gets_its_price_after_a_while(sim, server, client):
    from decimal import Decimal

    from voice.simulator import Tariff

    sim.tariff = Tariff(rates={"inbound": Decimal("0.0100"), "client": Decimal("0.0040"),
                               "jp_mobile": Decimal("0.1500"), "jp_landline": Decimal("0.0650"),
                               "international": Decimal("0.2")}, unit="JPY", delay_seconds=300)
    sim.add_number(NUMBER, BASE + "/voice")
    server.routes["/voice"] = twiml('<Dial><Client>agent_1</Client></Dial>')
    endpoint = sim.on_client("agent_1", answer_after=2)
    t = sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=125))
    sim.run(until=60)
    live = client.calls(t.call_sid).fetch()
    assert live.price is None and live.price_unit == "JPY"
    sim.run_until_idle()
    done = client.calls(t.call_sid).fetch()
    assert done.status == "completed" and done.price is None  # not rated yet
    sim.run(until=sim.now() + 301)
    # 125 s from answer: 3 started minutes; the client leg a little shorter, 3 minutes too.
    assert client.calls(t.call_sid).fetch().price == "-0.03000"
    agent_leg = client.calls(endpoint.rung[0].call_sid).fetch()
    assert agent_leg.price == "-0.01200" and 120 < int(agent_leg.duration) < 125


def test_unanswered_outbound_costs_nothing_and_mobile_pays_its_rate(sim, server, client):
    sim.tariff = __import__("voice.simulator", fromlist=["Tariff"]).Tariff(delay_seconds=0)
    sim.on_number("+819012345678", answer_after=None)
    missed = client.calls.create(to="+819012345678", from_=NUMBER, url=BASE + "/x", timeout=15)
    server.routes["/talk"] = twiml('<Pause length="61"/><Hangup/>')
    sim.on_number("+81312345678", answer_after=1)
    landline = client.calls.create(to="+81312345678", from_=NUMBER, url=BASE + "/talk")
    sim.run_until_idle()
    sim.run(until=sim.now() + 1)
    assert client.calls(missed.sid).fetch().price == "0.00000"
    assert client.calls(landline.sid).fetch().price == "-0.13000"  # 61 s → 2 min × 0.065
