"""Conferences with muted and coaching participants: who hears whom, REST participants."""

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from voice.simulator import CallerScript
from voice.simulator.transcript import Heard, HeardVoice

from .conftest import ACCOUNT, BASE, CALLER, NUMBER, TOKEN, twiml

SUPERVISOR = "+819087654321"


@pytest.fixture
def client(sim):
    return Client(ACCOUNT, TOKEN, http_client=sim.http_client())


def _call_in_a_conference(sim, server, client, hangup_after=300):
    """The caller in conference "room" (ending it on exit), the agent added through REST."""
    sim.add_number(NUMBER, BASE + "/voice")
    server.routes["/voice"] = twiml(
        '<Dial><Conference beep="false" endConferenceOnExit="true" '
        'startConferenceOnEnter="false">room</Conference></Dial>')
    sim.on_client("agent1", answer_after=1)
    t = sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=hangup_after))
    sim.run(until=2)
    agent = client.conferences("room").participants.create(
        from_=NUMBER, to="client:agent1", beep="false", end_conference_on_exit=True)
    sim.run(until=10)
    return t, agent.call_sid


def _hearers(sim, sid):
    return set(sim.speak(sid, "もしもし"))


def test_monitor_whisper_barge_decide_who_hears_the_supervisor(sim, server, client):
    t, agent = _call_in_a_conference(sim, server, client)
    customer = t.call_sid
    assert _hearers(sim, customer) == {agent} and _hearers(sim, agent) == {customer}

    sim.on_number(SUPERVISOR, answer_after=2)
    sup = client.conferences("room").participants.create(
        from_=NUMBER, to=SUPERVISOR, muted=True, beep="false").call_sid
    sim.run(until=20)
    conf = sim.conferences.find("room")
    assert conf.participant(sup).muted
    assert _hearers(sim, sup) == set()  # monitor: nobody hears the supervisor
    assert _hearers(sim, customer) == {agent, sup} and _hearers(sim, agent) == {customer, sup}

    conf_sid = client.conferences.list(friendly_name="room", status="in-progress")[0].sid
    client.conferences(conf_sid).participants(sup).update(
        muted=False, coaching=True, call_sid_to_coach=agent)
    assert _hearers(sim, sup) == {agent}  # whisper: the agent only
    assert conf.hears(sup, customer) and conf.hears(sup, agent)
    assert not conf.hears(customer, sup)

    client.conferences(conf_sid).participants(sup).update(coaching=False)
    assert _hearers(sim, sup) == {customer, agent}  # barge: everyone
    listed = {p.call_sid: p for p in client.conferences(conf_sid).participants.list()}
    assert set(listed) == {customer, agent, sup} and not listed[sup].coaching

    said = [e for e in t.of(HeardVoice, customer)]
    assert [e.speaker for e in said] == [agent, agent, sup]


def test_the_caller_hanging_up_ends_the_supervisors_leg(sim, server, client):
    t, agent = _call_in_a_conference(sim, server, client, hangup_after=60)
    sim.on_number(SUPERVISOR, answer_after=1)
    sup = client.conferences("room").participants.create(
        from_=NUMBER, to=SUPERVISOR, muted=True, beep="false").call_sid
    sim.run_until_idle()
    assert client.calls(sup).fetch().status == "completed"
    assert client.calls(agent).fetch().status == "completed"
    assert t.final_status == "completed" and t.duration == 60


def test_removing_the_supervisor_leaves_the_call_running(sim, server, client):
    t, agent = _call_in_a_conference(sim, server, client, hangup_after=100)
    sim.on_number(SUPERVISOR, answer_after=1)
    sup = client.conferences("room").participants.create(
        from_=NUMBER, to=SUPERVISOR, muted=True).call_sid
    sim.run(until=30)
    agent_heard = sim.legs[agent].transcript.of(Heard, agent)  # a REST call: its own transcript
    assert [e.content for e in agent_heard] == ["beep"]  # beep="true" (the default) on entry
    client.conferences("room").participants(sup).delete()
    sim.run(until=40)
    assert client.calls(sup).fetch().status == "completed"
    assert _hearers(sim, t.call_sid) == {agent}
    sim.run_until_idle()
    assert t.duration == 100


def test_coaching_someone_outside_the_conference_is_refused(sim, server, client):
    _call_in_a_conference(sim, server, client)
    with pytest.raises(TwilioRestException) as err:
        client.conferences("room").participants.create(
            from_=NUMBER, to=SUPERVISOR, coaching=True, call_sid_to_coach="CA" + "0" * 32)
    assert err.value.status == 400 and "CallSidToCoach" in err.value.msg
    with pytest.raises(TwilioRestException) as err:
        client.conferences("CF" + "0" * 32).participants("CA" + "1" * 32).fetch()
    assert err.value.status == 404


def test_a_bridge_without_a_conference_is_heard_by_the_other_leg_only(sim, server):
    sim.add_number(NUMBER, BASE + "/voice")
    server.routes["/voice"] = twiml('<Dial><Client>agent1</Client></Dial>')
    endpoint = sim.on_client("agent1", answer_after=1)
    t = sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=30))
    sim.run(until=10)
    agent = endpoint.rung[0].call_sid
    assert sim.speak(t.call_sid, "はい") == [agent]
    sim.run_until_idle()
    assert sim.speak(t.call_sid, "もしもし") == []
