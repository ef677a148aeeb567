"""TwiML builders, asserted as exact XML (and accepted by the simulator's validator)."""

import pytest

from voice.simulator.twiml import parse
from voice.twiml import (
    MESSAGES,
    ClientRing,
    Speaker,
    Urls,
    dial_number,
    empty,
    hang_up,
    reject,
    ring_clients,
    say_and_hang_up,
    voicemail,
)

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
B = "https://cti.example.jp/twilio/voice"
URLS = Urls(status=f"{B}/status", dial_action=f"{B}/dial-action?step=route",
            recording=f"{B}/recording", voicemail=f"{B}/voicemail")
EVENTS = 'statusCallbackEvent="initiated ringing answered completed"'


def test_ring_one_agent_with_parameters():
    xml = ring_clients([ClientRing("agent1", [("cti_caller_name", "山田 <太郎> & 子")])],
                       URLS, timeout=20)
    assert xml == (
        f'{HEAD}<Response><Dial action="{B}/dial-action?step=route" answerOnBridge="true" '
        f'timeout="20"><Client statusCallback="{B}/status" {EVENTS}>'
        '<Identity>agent1</Identity>'
        '<Parameter name="cti_caller_name" value="山田 &lt;太郎&gt; &amp; 子" /></Client></Dial>'
        '</Response>')
    parse(xml)


def test_ring_group_with_recording_and_caller_id():
    xml = ring_clients([ClientRing("a1"), ClientRing("a2")], URLS, timeout=15, record=True,
                       caller_id="+819012345678")
    assert xml == (
        f'{HEAD}<Response><Dial action="{B}/dial-action?step=route" answerOnBridge="true" '
        f'callerId="+819012345678" record="record-from-answer-dual" '
        f'recordingStatusCallback="{B}/recording" timeout="15">'
        f'<Client statusCallback="{B}/status" {EVENTS}><Identity>a1</Identity></Client>'
        f'<Client statusCallback="{B}/status" {EVENTS}><Identity>a2</Identity></Client>'
        '</Dial></Response>')
    parse(xml)


@pytest.mark.parametrize("count", [0, 11])
def test_ring_refuses_nobody_or_too_many(count):
    with pytest.raises(ValueError, match="between 1 and 10"):
        ring_clients([ClientRing(f"a{i}") for i in range(count)], URLS, timeout=20)


def test_dial_number_with_caller_id():
    xml = dial_number("+819011112222", URLS, caller_id="+81312345678", timeout=30)
    assert xml == (
        f'{HEAD}<Response><Dial action="{B}/dial-action?step=route" answerOnBridge="true" '
        f'callerId="+81312345678" timeout="30"><Number statusCallback="{B}/status" {EVENTS}>'
        '+819011112222</Number></Dial></Response>')
    parse(xml)


def test_voicemail_records_until_hash_or_hangup_for_at_most_an_hour():
    xml = voicemail(URLS, Speaker())
    assert xml == (
        f'{HEAD}<Response><Say language="ja-JP" voice="Polly.Mizuki">'
        f'{MESSAGES["voicemail_greeting"]}</Say>'
        f'<Record action="{B}/voicemail" finishOnKey="#" maxLength="3600" playBeep="true" '
        f'recordingStatusCallback="{B}/recording" timeout="30" /><Hangup /></Response>')
    parse(xml)


def test_say_and_hang_up_uses_configured_voice():
    xml = say_and_hang_up("ありがとうございました。", Speaker("Polly.Takumi", "ja-JP"))
    assert xml == (f'{HEAD}<Response><Say language="ja-JP" voice="Polly.Takumi">'
                   'ありがとうございました。</Say><Hangup /></Response>')


def test_reject_and_small_documents():
    assert reject() == f'{HEAD}<Response><Reject reason="rejected" /></Response>'
    assert reject("busy") == f'{HEAD}<Response><Reject reason="busy" /></Response>'
    with pytest.raises(ValueError):
        reject("nope")
    assert hang_up() == f"{HEAD}<Response><Hangup /></Response>"
    assert empty() == f"{HEAD}<Response />"


def test_messages_are_polite_japanese():
    for key, text in MESSAGES.items():
        assert text.endswith("。"), key
