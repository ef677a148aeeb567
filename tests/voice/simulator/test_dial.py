"""<Dial> to browser clients and numbers: answer, busy, no-answer, cancel, callbacks, action."""

from voice.simulator import CallerScript, RingingCall, busy, no_answer, reject
from voice.simulator.transcript import Bridged, Heard

from .conftest import BASE, CALLER, NUMBER, twiml

DIAL_AGENT = twiml(
    '<Dial action="/dial-done" timeout="20" callerId="+815012345678">'
    '<Client statusCallback="/child" statusCallbackEvent="initiated ringing answered completed">'
    '<Identity>agent_1</Identity><Parameter name="customer" value="山田"/>'
    '<Parameter name="ticket" value="42"/></Client></Dial>')


def place(sim, caller=None):
    sim.add_number(NUMBER, BASE + "/voice", status_callback=BASE + "/status",
                   status_callback_events=("ringing", "answered", "completed"))
    t = sim.place_inbound_call(CALLER, NUMBER, caller=caller or CallerScript())
    sim.run_until_idle()
    return t


def child_events(t):
    return [(r.param_dict["CallStatus"], r.param_dict["SequenceNumber"])
            for r in t.requests_to("/child")]


class Browser:
    """A custom endpoint, like the softphone's: keeps the call and answers when told."""

    def __init__(self):
        self.calls: list[RingingCall] = []

    def ring(self, call: RingingCall) -> None:
        self.calls.append(call)
        call.later(2.0, call.answer)
        call.later(32.0, call.hangup)


def test_answered_client_gets_parameters_and_callbacks_in_order(sim, server):
    server.routes["/voice"] = DIAL_AGENT
    browser = Browser()
    sim.on_client("agent_1", browser)
    t = place(sim)
    assert browser.calls[0].parameters == {"customer": "山田", "ticket": "42"}
    assert browser.calls[0].from_ == "+815012345678"  # the callerId
    assert t.answered_by == "client:agent_1"
    assert child_events(t) == [("initiated", "0"), ("ringing", "1"), ("in-progress", "2"),
                               ("completed", "3")]
    completed = t.requests_to("/child")[-1].param_dict
    assert completed["ParentCallSid"] == t.call_sid
    assert completed["CallDuration"] == "30" and completed["Direction"] == "outbound-dial"
    assert completed["CallbackSource"] == "call-progress-events"
    action = t.requests_to("/dial-done")[0].param_dict
    assert action["DialCallStatus"] == "completed"
    assert action["DialCallSid"] == completed["CallSid"]
    assert action["DialCallDuration"] == "30"
    assert [r.param_dict["CallStatus"] for r in t.status_callbacks
            if r.path == "/status"] == ["ringing", "in-progress", "completed"]
    assert t.of(Bridged)[-1].duration == 30


def test_busy_and_declined_clients(make_sim, server):
    server.routes["/voice"] = DIAL_AGENT
    for endpoint, expected in ((busy(), "busy"), (reject(after=3), "busy")):
        sim = make_sim()
        sim.on_client("agent_1", endpoint)
        t = place(sim)
        assert t.requests_to("/dial-done")[0].param_dict["DialCallStatus"] == expected
        assert child_events(t)[-1][0] == "busy"
        assert "DialCallDuration" not in t.requests_to("/dial-done")[0].param_dict


def test_no_answer_times_out_and_document_goes_on(sim, server):
    server.routes["/voice"] = twiml(
        '<Dial timeout="10"><Client statusCallback="/child">agent_1</Client></Dial>'
        '<Say>Nobody is available</Say>')
    sim.on_client("agent_1", no_answer())
    t = place(sim)
    assert [e for e, _ in child_events(t)] == ["no-answer"]
    assert t.heard == ["Nobody is available"]
    assert t.requests_to("/child")[0].t == 10.0


def test_unknown_client_does_not_answer(sim, server):
    server.routes["/voice"] = twiml('<Dial timeout="5" action="/dial-done">nobody</Dial>')
    t = place(sim)
    assert t.requests_to("/dial-done")[0].param_dict["DialCallStatus"] == "no-answer"


def test_caller_hangs_up_while_ringing_cancels_the_child(sim, server):
    server.routes["/voice"] = DIAL_AGENT
    sim.on_client("agent_1", no_answer())
    t = place(sim, CallerScript(hangup_after=6))
    assert child_events(t)[-1][0] == "canceled"
    assert t.requests_to("/dial-done")[0].param_dict["CallStatus"] == "completed"
    assert t.end_reason == "caller-hangup"


def test_simultaneous_ring_first_answer_wins(sim, server):
    server.routes["/voice"] = twiml(
        '<Dial action="/dial-done"><Number statusCallback="/child">+819011111111</Number>'
        '<Number statusCallback="/child">+819022222222</Number></Dial>')
    sim.on_number("+819011111111", answer_after=8, hangup_after=10)
    sim.on_number("+819022222222", answer_after=3, hangup_after=10)
    t = place(sim)
    assert t.answered_by == "+819022222222"
    finals = {r.param_dict["To"]: r.param_dict["CallStatus"] for r in t.requests_to("/child")}
    assert finals == {"+819011111111": "canceled", "+819022222222": "completed"}


def test_answer_on_bridge_keeps_the_caller_ringing(sim, server):
    server.routes["/voice"] = twiml(
        '<Dial answerOnBridge="true"><Client>agent_1</Client></Dial>')
    sim.on_client("agent_1", answer_after=5, hangup_after=10)
    t = place(sim)
    parent = [r for r in t.status_callbacks if r.path == "/status"]
    assert parent[1].param_dict["CallStatus"] == "in-progress"
    assert parent[1].t == 6.0  # ring delay + answer_after


def test_hangup_on_star_returns_the_caller_to_the_document(sim, server):
    server.routes["/voice"] = twiml(
        '<Dial hangupOnStar="true" action="/after"><Client>agent_1</Client></Dial>')
    server.routes["/after"] = twiml("<Say>back in the menu</Say>")
    sim.on_client("agent_1", answer_after=1)
    t = place(sim, CallerScript(star_after=15))
    assert t.requests_to("/after")[0].param_dict["DialCallDuration"] == "15"
    assert t.heard == ["back in the menu"]


def test_dial_record_reports_recording(sim, server):
    server.routes["/voice"] = twiml(
        '<Dial record="record-from-answer-dual" action="/after" '
        'recordingStatusCallback="/rec"><Client>agent_1</Client></Dial>')
    sim.on_client("agent_1", answer_after=1, hangup_after=20)
    t = place(sim)
    after = t.requests_to("/after")[0].param_dict
    assert after["RecordingDuration"] == "20"
    assert t.requests_to("/rec")[0].param_dict["RecordingChannels"] == "2"


def test_time_limit_ends_the_bridge(sim, server):
    server.routes["/voice"] = twiml('<Dial timeLimit="60" action="/after">+819011111111</Dial>')
    sim.on_number("+819011111111", answer_after=1)
    t = place(sim)
    assert t.requests_to("/after")[0].param_dict["DialCallDuration"] == "60"


def test_caller_gives_up_before_answer_on_bridge_leaves_parent_canceled(sim, server):
    server.routes["/voice"] = twiml('<Dial answerOnBridge="true"><Client>agent_1</Client></Dial>')
    sim.on_client("agent_1", no_answer())
    t = place(sim, CallerScript(hangup_after=7))
    assert [r.param_dict["CallStatus"] for r in t.status_callbacks] == ["ringing", "canceled"]
    assert t.final_status == "canceled" and t.duration == 0
    assert t.status_callbacks[-1].param_dict["CallDuration"] == "0"


def test_a_noun_url_whispers_to_the_answering_party_before_the_bridge(sim, server):
    server.routes["/voice"] = twiml(
        '<Dial action="/dial-done"><Client url="/whisper">agent_1</Client></Dial>')
    server.routes["/whisper"] = twiml('<Say language="ja-JP">サポート窓口のお電話です。</Say>')
    server.routes["/dial-done"] = twiml("<Hangup/>")
    sim.on_client("agent_1", answer_after=2, hangup_after=30)
    t = place(sim)
    whisper = t.requests_to("/whisper")[0]
    child = whisper.param_dict["CallSid"]
    assert whisper.param_dict["ParentCallSid"] == t.call_sid and child != t.call_sid
    heard = [h for h in t.of(Heard) if h.content == "サポート窓口のお電話です。"]
    assert [h.call_sid for h in heard] == [child]  # the agent hears it, not the caller
    bridged = t.of(Bridged)[0]
    assert bridged.t > whisper.t  # connected only once the whisper has been said
    assert t.requests_to("/dial-done")[0].param_dict["DialCallStatus"] == "completed"


def test_a_noun_url_that_hangs_up_leaves_the_caller_unconnected(sim, server):
    server.routes["/voice"] = twiml(
        '<Dial action="/dial-done"><Number url="/screen">+819011112222</Number></Dial>')
    server.routes["/screen"] = twiml("<Hangup/>")
    server.routes["/dial-done"] = lambda v: twiml(f"<Say>{v['DialCallStatus']}</Say>")
    sim.on_number("+819011112222", answer_after=1, hangup_after=30)
    t = place(sim)
    assert t.of(Bridged) == [] and t.heard[-1] == "no-answer"


def test_a_thrown_away_simulation_calls_no_webhook_while_closing(sim, server):
    """Closing a bridged caller's process (what garbage collection does to a simulation thrown
    away mid-call) must not end the agent's leg through the app's webhooks — the app's Redis
    and database may be gone by then."""
    class Talking(Browser):
        def ring(self, call: RingingCall) -> None:
            self.calls.append(call)
            call.later(2.0, call.answer)

    server.routes["/voice"] = DIAL_AGENT
    sim.on_client("agent_1", Talking())
    sim.add_number(NUMBER, BASE + "/voice", status_callback=BASE + "/status",
                   status_callback_events=("ringing", "answered", "completed"))
    t = sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=600))
    sim.run(until=10)
    assert [status for status, _ in child_events(t)][-1] == "in-progress"
    sim.legs[t.call_sid].process._gen.close()
    assert [status for status, _ in child_events(t)][-1] == "in-progress"
    assert not t.requests_to("/dial-done")
