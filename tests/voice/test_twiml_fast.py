"""The templated TwiML (voice.twiml_fast) is byte for byte what twilio-python's VoiceResponse
builds (voice.twiml.REFERENCE), for every hot-route document and for awkward values."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voice import twiml, twiml_fast
from voice.twiml import MESSAGES, ClientRing, Speaker, Urls

AWKWARD = ["", "a&b", "<x>", 'say "hi"', "tab\there", "line\nbreak\r\n", "山田 太郎 &co",
           "]]>", "'apos'", "&amp;", "+81 90-1234-5678", "😀"]
URLS = Urls("https://cti.example.com/twilio/voice/status",
            "https://cti.example.com/twilio/voice/dial-action?step=route",
            "https://cti.example.com/twilio/voice/recording",
            "https://cti.example.com/twilio/voice/voicemail")
# XML 1.0 text: what Twilio parameters and our settings can hold (no control characters
# other than TAB, CR, LF; no lone surrogates).
xml_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=[
    chr(c) for c in range(32) if chr(c) not in "\t\r\n"]), max_size=40)


def test_the_module_answers_with_the_templates():
    assert twiml.ring_clients is twiml_fast.ring_clients
    assert twiml.REFERENCE["ring_clients"] is not twiml_fast.ring_clients


@pytest.mark.parametrize("value", AWKWARD)
@pytest.mark.parametrize("record", [False, True])
def test_ring_clients_is_byte_identical(value, record):
    rings = [ClientRing("sato", [("cti_caller_name", value), (value or "n", "x")]),
             ClientRing(value, ()),
             ClientRing("suzuki", (), url=URLS.status + "/whisper" + value)]
    urls = Urls(URLS.status + value, URLS.dial_action + value, URLS.recording, URLS.voicemail)
    for caller_id in (None, "", "+815012345678", value):
        assert twiml_fast.ring_clients(rings, urls, timeout=20, record=record,
                                       caller_id=caller_id) == twiml.REFERENCE["ring_clients"](
            rings, urls, timeout=20, record=record, caller_id=caller_id)


@pytest.mark.parametrize("value", AWKWARD)
def test_the_other_documents_are_byte_identical(value):
    speaker = Speaker(value or "Polly.Mizuki", "ja-JP")
    urls = Urls(URLS.status, URLS.dial_action, URLS.recording + value, URLS.voicemail + value)
    reference = twiml.REFERENCE
    for record in (False, True):
        assert twiml_fast.dial_number(value, urls, caller_id=value or "+8150", timeout=60,
                                      record=record) == reference["dial_number"](
            value, urls, caller_id=value or "+8150", timeout=60, record=record)
    assert twiml_fast.voicemail(urls, speaker) == reference["voicemail"](urls, speaker)
    assert twiml_fast.voicemail(urls, speaker, value) == reference["voicemail"](
        urls, speaker, value)
    assert twiml_fast.say_and_hang_up(value, speaker) == reference["say_and_hang_up"](
        value, speaker)


def test_the_fixed_documents_are_byte_identical():
    reference = twiml.REFERENCE
    for reason in ("rejected", "busy"):
        assert twiml_fast.reject(reason) == reference["reject"](reason)
    assert twiml_fast.hang_up() == reference["hang_up"]()
    assert twiml_fast.empty() == reference["empty"]()
    for message in MESSAGES.values():
        assert twiml_fast.say_and_hang_up(message, Speaker()) == reference["say_and_hang_up"](
            message, Speaker())


def test_bad_input_is_refused_like_the_builders():
    with pytest.raises(ValueError, match="reject reason"):
        twiml_fast.reject("maybe")
    with pytest.raises(ValueError, match="between 1 and 10"):
        twiml_fast.ring_clients([], URLS, timeout=20)
    with pytest.raises(ValueError, match="between 1 and 10"):
        twiml_fast.ring_clients([ClientRing(str(n)) for n in range(11)], URLS, timeout=20)


@settings(max_examples=300, deadline=None)
@given(identity=xml_text, name=xml_text, value=xml_text, url=xml_text,
       timeout=st.integers(5, 600), record=st.booleans())
def test_any_text_renders_identically(identity, name, value, url, timeout, record):
    rings = [ClientRing(identity, [(name, value)]), ClientRing(identity, (), url=url)]
    urls = Urls(url, url + "?step=route", url, url)
    assert twiml_fast.ring_clients(rings, urls, timeout=timeout, record=record) == \
        twiml.REFERENCE["ring_clients"](rings, urls, timeout=timeout, record=record)
    assert twiml_fast.say_and_hang_up(value, Speaker(identity or "v", "ja-JP")) == \
        twiml.REFERENCE["say_and_hang_up"](value, Speaker(identity or "v", "ja-JP"))
