"""<Enqueue> with a waitUrl loop, <Dial><Queue> from a second call, <Leave>, queue-full, and
basic conferences."""

from voice.simulator import CallerScript, Press
from voice.simulator.transcript import QueueEvent

from .conftest import BASE, CALLER, NUMBER, twiml

AGENT_APP = BASE + "/agent"


def setup(sim, server):
    sim.add_number(NUMBER, BASE + "/voice")
    sim.set_twiml_app(AGENT_APP)
    server.routes["/voice"] = twiml(
        '<Enqueue waitUrl="/hold" action="/queue-done">support</Enqueue><Say>after</Say>')
    server.routes["/hold"] = twiml(
        '<Say>Please wait</Say><Play>https://cdn.example.jp/music.mp3</Play>')


def test_wait_url_loops_until_an_agent_dequeues_the_caller(sim, server):
    setup(sim, server)
    server.routes["/agent"] = twiml(
        '<Dial action="/agent-done"><Queue url="/whisper">support</Queue></Dial>')
    server.routes["/whisper"] = twiml("<Say>Connecting you now</Say>")
    server.routes["/queue-done"] = twiml("<Say>Thank you</Say>")
    caller = sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=200))
    sim.run(until=30)
    agent = sim.place_client_call("agent_1", {"team": "support"},
                                  caller=CallerScript(hangup_after=60))
    sim.run_until_idle()
    waits = caller.requests_to("/hold")
    assert len(waits) >= 3
    assert [w.param_dict["QueuePosition"] for w in waits] == ["1"] * len(waits)
    assert waits[0].param_dict["CurrentQueueSize"] == "1"
    assert int(waits[-1].param_dict["QueueTime"]) > int(waits[0].param_dict["QueueTime"])
    assert waits[0].param_dict["MaxQueueSize"] == "1000"
    whisper = caller.requests_to("/whisper")[0].param_dict
    assert whisper["DequeingCallSid"] == agent.call_sid
    assert caller.heard[-2:] == ["Connecting you now", "Thank you"]
    done = caller.requests_to("/queue-done")[0].param_dict
    assert done["QueueResult"] == "bridged" and int(done["QueueTime"]) >= 30
    agent_done = agent.requests_to("/agent-done")[0].param_dict
    assert agent_done["DialCallStatus"] == "completed"
    assert agent_done["DialCallSid"] == caller.call_sid
    assert agent.answered_by == CALLER and caller.answered_by == "client:agent_1"
    assert agent.requests_to("/agent")[0].param_dict["team"] == "support"
    assert agent.requests_to("/agent")[0].param_dict["From"] == "client:agent_1"


def test_two_callers_keep_their_positions(sim, server):
    setup(sim, server)
    first = sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=40))
    sim.run(until=5)
    second = sim.place_inbound_call("+819099999999", NUMBER,
                                    caller=CallerScript(hangup_after=60))
    sim.run(until=70)
    assert second.requests_to("/hold")[0].param_dict["QueuePosition"] == "2"
    assert second.requests_to("/hold")[-1].param_dict["QueuePosition"] == "1"
    assert first.requests_to("/queue-done")[0].param_dict["QueueResult"] == "hangup"


def test_gather_and_leave_in_the_wait_document(sim, server):
    setup(sim, server)
    server.routes["/hold"] = twiml(
        '<Gather numDigits="1" action="/hold-key"><Say>Press 1 for voicemail</Say></Gather>')
    server.routes["/hold-key"] = twiml("<Leave/>")
    server.routes["/queue-done"] = lambda v: twiml(f"<Say>left {v['QueueResult']}</Say>")
    t = sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(digits=[None, "1"]))
    sim.run_until_idle()
    assert t.heard[-1] == "left leave"
    assert t.of(QueueEvent)[-1].result == "leave"


def test_full_queue_goes_straight_to_the_action(sim, server):
    setup(sim, server)
    server.routes["/voice"] = twiml(
        '<Enqueue maxQueueSize="1" action="/queue-done">support</Enqueue>')
    server.routes["/queue-done"] = lambda v: twiml(f"<Say>{v['QueueResult']}</Say>")
    sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=50))
    sim.run(until=1)
    second = sim.place_inbound_call("+819099999999", NUMBER)
    sim.run_until_idle()
    assert second.heard == ["queue-full"] and second.error_codes == [14207]


def test_dialing_an_empty_queue_waits_for_the_dial_timeout(sim, server):
    setup(sim, server)
    server.routes["/agent"] = twiml(
        '<Dial timeout="8" action="/agent-done"><Queue>support</Queue></Dial>')
    sim.queues.get_or_create("support")
    agent = sim.place_client_call("agent_1")
    sim.run_until_idle()
    done = agent.requests_to("/agent-done")[0]
    assert done.param_dict["DialCallStatus"] == "no-answer" and done.t == 8.0


def test_conference_starts_with_two_and_ends_on_exit(sim, server):
    sim.add_number(NUMBER, BASE + "/voice")
    sim.set_twiml_app(AGENT_APP)
    server.routes["/voice"] = twiml(
        '<Dial action="/left"><Conference waitUrl="/wait" startConferenceOnEnter="false">'
        'room-1</Conference></Dial><Say>not reached: the action decides</Say>')
    server.routes["/left"] = twiml("<Say>goodbye</Say>")
    server.routes["/wait"] = twiml("<Say>Please hold</Say>")
    server.routes["/agent"] = twiml(
        '<Dial><Conference endConferenceOnExit="true">room-1</Conference></Dial>')
    customer = sim.place_inbound_call(CALLER, NUMBER)
    sim.run(until=20)
    assert sim.conferences.by_name["room-1"].started is False
    agent = sim.place_client_call("agent_1", caller=CallerScript(hangup_after=60))
    sim.run_until_idle()
    assert len(customer.requests_to("/wait")) >= 2
    assert customer.heard[-1] == "goodbye"
    left = customer.requests_to("/left")[0]
    assert left.param_dict["DialCallStatus"] == "completed" and left.t == 80.0
    assert agent.end_reason == "caller-hangup"


def test_digits_during_wait_music_are_not_lost_between_loops(sim, server):
    setup(sim, server)
    server.routes["/hold"] = twiml('<Gather numDigits="1" action="/k" timeout="2"/>')
    server.routes["/k"] = twiml("<Leave/>")
    t = sim.place_inbound_call(CALLER, NUMBER,
                               caller=CallerScript(digits=[None, None, Press("9")]))
    sim.run_until_idle()
    assert len(t.requests_to("/hold")) == 3
    assert t.requests_to("/queue-done")[0].param_dict["QueueResult"] == "leave"
