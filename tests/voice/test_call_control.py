"""TwiML of the softphone's hold and transfer (exact XML)."""

import pytest

from voice import call_control
from voice.twiml import Speaker

XML = '<?xml version="1.0" encoding="UTF-8"?>'
SID = "CA" + "1" * 32


def test_hold_queue_is_named_after_the_call_and_fits_twilio():
    name = call_control.hold_queue_name(SID)
    assert name == "hold-" + SID and len(name) <= 64


def test_hold_enqueues_with_music_and_an_action():
    response = call_control.hold("hold-" + SID, "https://cti.example.com/m",
                                 "https://cti.example.com/e?call=" + SID)
    assert response == (
        XML + '<Response><Enqueue action="https://cti.example.com/e?call=' + SID + '" '
        'waitUrl="https://cti.example.com/m">hold-' + SID + '</Enqueue></Response>')


def test_hold_music_plays_the_configured_file_or_speaks():
    assert call_control.hold_music("https://cdn.example.com/hold.mp3") == (
        XML + "<Response><Play>https://cdn.example.com/hold.mp3</Play></Response>")
    assert call_control.hold_music("", Speaker("Polly.Takumi")) == (
        XML + '<Response><Say language="ja-JP" voice="Polly.Takumi">'
        "ただいま保留中です。そのままお待ちください。</Say>"
        '<Pause length="15" /></Response>')


def test_take_from_hold_dials_the_queue():
    assert call_control.take_from_hold("hold-" + SID) == (
        XML + "<Response><Dial><Queue>hold-" + SID + "</Queue></Dial></Response>")


def test_dial_agents_passes_the_context_as_parameters():
    response = call_control.dial_agents(["tanaka"], {"cti_caller_name": "山田 太郎",
                                                     "cti_parent_call_sid": SID},
                                        action_url="https://cti.example.com/r")
    assert response == (
        XML + '<Response><Dial action="https://cti.example.com/r" timeout="25"><Client>'
        "<Identity>tanaka</Identity>"
        '<Parameter name="cti_caller_name" value="山田 太郎" />'
        '<Parameter name="cti_parent_call_sid" value="' + SID + '" />'
        "</Client></Dial></Response>")


def test_dial_agents_rings_a_group_and_reports_the_legs():
    response = call_control.dial_agents(["a1", "a2"], {}, status_callback="https://x/s")
    assert response == (
        XML + '<Response><Dial timeout="25">'
        '<Client statusCallback="https://x/s" statusCallbackEvent="initiated ringing answered '
        'completed"><Identity>a1</Identity></Client>'
        '<Client statusCallback="https://x/s" statusCallbackEvent="initiated ringing answered '
        'completed"><Identity>a2</Identity></Client></Dial></Response>')
    with pytest.raises(ValueError):
        call_control.dial_agents([f"a{i}" for i in range(11)], {})


def test_dial_number_shows_our_number_and_has_no_action_unless_given():
    assert call_control.dial_number("+819011112222", "+81312345678") == (
        XML + '<Response><Dial callerId="+81312345678" timeout="25">'
        "<Number>+819011112222</Number></Dial></Response>")


def test_back_on_hold_after_a_failed_transfer():
    response = call_control.back_on_hold("hold-" + SID, "https://x/m", "https://x/e")
    assert response == (
        XML + '<Response><Say language="ja-JP" voice="Polly.Mizuki">'
        "担当者につながりませんでした。そのままお待ちください。</Say>"
        '<Enqueue action="https://x/e" waitUrl="https://x/m">hold-' + SID + "</Enqueue>"
        "</Response>")

