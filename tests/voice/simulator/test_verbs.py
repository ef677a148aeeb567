"""The simple verbs, documents, URLs and signatures, end to end against a Flask TwiML app."""

import math

import pytest

from voice.simulator import CallerScript, Press, RecordInput, Speech
from voice.simulator.transcript import Heard, Recorded

from .conftest import BASE, CALLER, NUMBER, twiml


def call(sim, caller=None, **number):
    sim.add_number(NUMBER, number.pop("voice_url", BASE + "/voice"), **number)
    t = sim.place_inbound_call(CALLER, NUMBER, caller=caller or CallerScript())
    sim.run_until_idle()
    return t


def test_say_play_pause_are_heard_in_order_with_durations(sim, server):
    sim.play_durations["hold.mp3"] = 12.0
    server.routes["/voice"] = twiml(
        '<Say voice="Polly.Mizuki" language="ja-JP" loop="2">お電話ありがとうございます</Say>'
        '<Pause length="3"/><Play>https://cdn.example.jp/hold.mp3</Play>'
        '<Play digits="12w"/>')
    t = call(sim)
    assert t.heard == ["お電話ありがとうございます", "お電話ありがとうございます",
                       "https://cdn.example.jp/hold.mp3", "12w"]
    says = t.of(Heard)
    assert (says[0].voice, says[0].language) == ("Polly.Mizuki", "ja-JP")
    one_say = says[1].t - says[0].t
    assert says[2].t == pytest.approx(says[1].t + one_say + 3)  # same text again, then Pause
    assert says[3].t - says[2].t == pytest.approx(12.0)
    assert t.final_status == "completed" and t.end_reason == "end-of-document"
    assert t.duration == math.ceil(says[3].t + 1.5)  # two tones and a "w"


def test_first_request_is_signed_and_carries_twilio_parameters(sim, server):
    server.routes["/voice"] = twiml("<Hangup/>")
    call(sim)
    method, path, params, valid = server.seen[0]
    assert (method, path, valid) == ("POST", "/voice", True)
    assert params["CallSid"].startswith("CA") and len(params["CallSid"]) == 34
    assert params["CallStatus"] == "ringing"
    assert params["Direction"] == "inbound"
    assert params["ApiVersion"] == "2010-04-01"
    assert (params["From"], params["Caller"], params["To"], params["Called"]) == (
        CALLER, CALLER, NUMBER, NUMBER)
    assert params["FromCountry"] == "JP" and params["AccountSid"].startswith("AC")


def test_gather_posts_digits_to_relative_action_and_follows_redirects(sim, server):
    server.routes["/ivr/menu"] = twiml(
        '<Gather numDigits="1" action="choice?lang=ja"><Say>Press 1</Say></Gather>')
    server.routes["/ivr/choice"] = twiml('<Redirect method="GET">/done</Redirect>')
    server.routes["/done"] = twiml("<Say>bye</Say>")
    t = call(sim, CallerScript(digits=["1"]), voice_url=BASE + "/ivr/menu")
    assert [(m, p) for m, p, _, _ in server.seen] == [
        ("POST", "/ivr/menu"), ("POST", "/ivr/choice"), ("GET", "/done")]
    assert all(valid for *_, valid in server.seen)
    choice = t.requests_to("/ivr/choice")[0]
    assert choice.url == BASE + "/ivr/choice?lang=ja"
    assert choice.param_dict["Digits"] == "1"
    assert choice.param_dict["CallStatus"] == "in-progress"
    done = t.requests_to("/done")[0]
    assert done.params == () and "Digits" not in done.url and "CallSid=" in done.url
    assert t.digits == ["1"] and t.heard == ["Press 1", "bye"]


def test_gather_finish_on_key_and_default_action_is_the_document(sim, server):
    pins = []

    def voice(values):
        if "Digits" in values:
            pins.append(values["Digits"])
            return twiml("<Hangup/>")
        return twiml('<Gather finishOnKey="*"><Say>PIN</Say></Gather>')
    server.routes["/voice"] = voice
    t = call(sim, CallerScript(digits=["1234*9"]))
    assert pins == ["1234"]
    assert t.requests_to("/voice")[1].param_dict["FinishedOnKey"] == "*"


def test_gather_without_input_falls_through_or_posts_when_asked(sim, server):
    server.routes["/voice"] = twiml(
        '<Gather timeout="3" action="/a"><Say>Choose</Say></Gather><Say>No input</Say>'
        '<Gather timeout="3" action="/b" actionOnEmptyResult="true"/>')
    server.routes["/b"] = twiml("<Say>empty</Say>")
    t = call(sim, CallerScript(digits=[None, Press("5", delay=4)]))
    assert t.requests_to("/a") == []
    assert t.heard == ["Choose", "No input", "empty"]
    assert "Digits" not in t.requests_to("/b")[0].param_dict  # pressed too late


def test_gather_barge_in_cuts_the_prompt(sim, server):
    server.routes["/voice"] = twiml(
        '<Gather numDigits="2" action="/a"><Say>A very long menu prompt that goes on</Say>'
        '<Say>and on</Say></Gather>')
    t = call(sim, CallerScript(digits=[Press("42", delay=1.0, during_prompt=True)]))
    heard = t.of(Heard)
    assert [h.interrupted for h in heard] == [True]
    assert t.requests_to("/a")[0].param_dict["Digits"] == "42"
    assert t.requests_to("/a")[0].t == 1.0


def test_speech_gather_posts_speech_result(sim, server):
    server.routes["/voice"] = twiml(
        '<Gather input="speech" language="ja-JP" action="/s"><Say>ご用件をどうぞ</Say></Gather>')
    t = call(sim, CallerScript(speech=[Speech("請求について", confidence=0.8)]))
    params = t.requests_to("/s")[0].param_dict
    assert (params["SpeechResult"], params["Confidence"]) == ("請求について", "0.8")


def test_reject_leaves_the_call_unanswered(sim, server):
    server.routes["/voice"] = twiml('<Reject reason="busy"/>')
    t = call(sim, status_callback=BASE + "/status",
             status_callback_events=("ringing", "answered", "completed"))
    assert t.final_status == "busy" and t.duration == 0
    assert [r.param_dict["CallStatus"] for r in t.status_callbacks] == ["ringing", "busy"]


def test_record_posts_recording_and_sends_status_callback(sim, server):
    server.routes["/voice"] = twiml(
        '<Say>Leave a message</Say><Record maxLength="30" finishOnKey="#" '
        'action="/vm/saved" recordingStatusCallback="/vm/rec"/>')
    server.routes["/vm/saved"] = twiml("<Say>ありがとうございました</Say>")
    t = call(sim, CallerScript(message=RecordInput(seconds=7, end="#")))
    saved = t.requests_to("/vm/saved")[0].param_dict
    assert saved["RecordingDuration"] == "7" and saved["Digits"] == "#"
    assert saved["RecordingSid"].startswith("RE")
    assert saved["RecordingUrl"].endswith("/Recordings/" + saved["RecordingSid"])
    rec = t.requests_to("/vm/rec")[0].param_dict
    assert (rec["RecordingStatus"], rec["RecordingSid"]) == ("completed", saved["RecordingSid"])
    assert t.heard == ["Leave a message", "beep", "ありがとうございました"]
    assert t.of(Recorded)[0].duration == 7


def test_record_hangup_still_reports_the_recording(sim, server):
    server.routes["/voice"] = twiml('<Record maxLength="10" action="/vm"/><Say>unreached</Say>')
    t = call(sim, CallerScript(message=RecordInput(seconds=4, end="hangup")))
    assert t.requests_to("/vm")[0].param_dict["Digits"] == "hangup"
    assert t.end_reason == "caller-hangup" and "unreached" not in t.heard


def test_invalid_twiml_is_refused_with_twilio_codes(sim, server):
    server.routes["/voice"] = twiml('<Gather numDigits="zero"/>')
    t = call(sim)
    assert t.error_codes == [13314]
    assert t.end_reason == "error" and len(t.heard) == 1  # Twilio's generic apology


def test_unknown_verb_and_bad_nesting_and_non_xml(sim, server, make_sim):
    cases = {"<Speak>hi</Speak>": 12200, "<Gather><Dial>1</Dial></Gather>": 12200,
             '<Say foo="1">x</Say>': 12200}
    for inner, code in cases.items():
        s = make_sim()
        server.routes["/voice"] = twiml(inner)
        assert call(s).error_codes == [code], inner
    s = make_sim()
    server.routes["/voice"] = "Hello, I am not XML"
    assert call(s).error_codes == [12100]
    s = make_sim()
    server.routes["/voice"] = "<Respons/>"
    assert call(s).error_codes == [12102]


def test_http_500_goes_to_the_fallback_url_with_error_details(sim, server):
    server.routes["/voice"] = lambda v: ("boom", 500)
    server.routes["/fallback"] = twiml("<Say>We are having trouble</Say>")
    t = call(sim, fallback_url=BASE + "/fallback")
    assert t.error_codes == [11200]
    fallback = t.requests_to("/fallback")[0].param_dict
    assert (fallback["ErrorCode"], fallback["ErrorUrl"]) == ("11200", BASE + "/voice")
    assert t.heard == ["We are having trouble"]


def test_slow_response_times_out_after_15_seconds(make_sim, server):
    sim = make_sim(latency={"/voice": 16.0})
    server.routes["/voice"] = twiml("<Say>too late</Say>")
    t = call(sim)
    assert t.error_codes == [11205]
    assert "too late" not in t.heard and t.of(Heard)[0].t == 15.0
    assert t.requests_to("/voice")[0].status is None


def test_unreachable_host_is_a_connection_failure(sim, server):
    t = call(sim, voice_url="https://elsewhere.example.com/voice")
    assert t.error_codes == [11205]


def test_caller_hangup_ends_the_call_wherever_it_is(sim, server):
    server.routes["/voice"] = twiml('<Play loop="0">https://cdn.example.jp/music.mp3</Play>')
    t = call(sim, CallerScript(hangup_after=25))
    assert (t.final_status, t.end_reason, t.duration) == ("completed", "caller-hangup", 25)


def test_signature_checks_the_public_url(make_sim, server):
    server.routes["/voice"] = twiml("<Hangup/>")
    sim = make_sim()
    call(sim, voice_url=BASE + "/voice?tenant=a%20b")
    assert server.seen[0][3] is True
