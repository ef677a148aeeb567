"""TwiML of the softphone's hold and transfer (exact XML)."""

from voice import call_control

XML = '<?xml version="1.0" encoding="UTF-8"?>'
SID = "CA" + "1" * 32


def test_hold_queue_is_named_after_the_call_and_fits_twilio():
    name = call_control.hold_queue_name(SID)
    assert name == "hold-" + SID and len(name) <= 64


def test_hold_enqueues_with_music_and_an_action():
    response = call_control.hold("hold-" + SID, "https://cti.example.com/m",
                                 "https://cti.example.com/e?call=" + SID)
    assert str(response) == (
        XML + '<Response><Enqueue action="https://cti.example.com/e?call=' + SID + '" '
        'waitUrl="https://cti.example.com/m">hold-' + SID + '</Enqueue></Response>')


def test_hold_music_plays_the_configured_file_or_speaks():
    assert str(call_control.hold_music("https://cdn.example.com/hold.mp3")) == (
        XML + "<Response><Play>https://cdn.example.com/hold.mp3</Play></Response>")
    assert str(call_control.hold_music("")) == (
        XML + '<Response><Say language="ja-JP" voice="Polly.Mizuki">'
        "ただいま保留中です。そのままお待ちください。</Say>"
        '<Pause length="15" /></Response>')


def test_take_from_hold_dials_the_queue():
    assert str(call_control.take_from_hold("hold-" + SID)) == (
        XML + "<Response><Dial><Queue>hold-" + SID + "</Queue></Dial></Response>")


def test_dial_agent_passes_the_context_as_parameters():
    response = call_control.dial_agent("tanaka", {"cti_caller_name": "山田 太郎",
                                                  "cti_parent_call_sid": SID},
                                       action_url="https://cti.example.com/r")
    assert str(response) == (
        XML + '<Response><Dial action="https://cti.example.com/r" timeout="25"><Client>'
        "<Identity>tanaka</Identity>"
        '<Parameter name="cti_caller_name" value="山田 太郎" />'
        '<Parameter name="cti_parent_call_sid" value="' + SID + '" />'
        "</Client></Dial></Response>")


def test_dial_number_shows_our_number_and_has_no_action_unless_given():
    assert str(call_control.dial_number("+819011112222", "+81312345678")) == (
        XML + '<Response><Dial callerId="+81312345678" timeout="25">'
        "<Number>+819011112222</Number></Dial></Response>")


def test_back_on_hold_after_a_failed_transfer():
    response = call_control.back_on_hold("hold-" + SID, "https://x/m", "https://x/e")
    assert str(response) == (
        XML + '<Response><Say language="ja-JP" voice="Polly.Mizuki">'
        "担当者につながりませんでした。そのままお待ちください。</Say>"
        '<Enqueue action="https://x/e" waitUrl="https://x/m">hold-' + SID + "</Enqueue>"
        "</Response>")


def test_redirect_and_hangup():
    assert str(call_control.redirect("https://x/route")) == (
        XML + '<Response><Redirect method="POST">https://x/route</Redirect></Response>')
    assert str(call_control.hang_up()) == XML + "<Response><Hangup /></Response>"
