"""voice.monitor: the conference bridge's TwiML (exact XML) and the supervisor's modes."""

import pytest

from voice import monitor
from voice.acd.settings import SettingsError, parse
from voice.twiml import Speaker

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
SID = "CA" + "1" * 32
AGENT = "CA" + "2" * 32


def test_the_caller_joins_the_conference_named_by_their_callsid():
    assert monitor.caller_joins(SID, "https://cti.example.jp/twilio/voice/dial-action?step=route") \
        == (HEAD + '<Response><Dial action="https://cti.example.jp/twilio/voice/dial-action?'
                   'step=route"><Conference beep="false" endConferenceOnExit="true" '
                   f'startConferenceOnEnter="true">{SID}</Conference></Dial></Response>')


def test_the_agent_hears_the_whisper_then_joins():
    assert monitor.agent_joins(SID, "サポート窓口のお電話です。", Speaker("Polly.Takumi")) == (
        HEAD + '<Response><Say language="ja-JP" voice="Polly.Takumi">サポート窓口のお電話です。'
               '</Say><Dial><Conference beep="false" endConferenceOnExit="true" '
               f'startConferenceOnEnter="true">{SID}</Conference></Dial></Response>')


def test_without_a_whisper_the_agent_joins_at_once():
    assert monitor.agent_joins(SID) == (
        HEAD + '<Response><Dial><Conference beep="false" endConferenceOnExit="true" '
               f'startConferenceOnEnter="true">{SID}</Conference></Dial></Response>')


def test_each_mode_sets_mute_and_coaching():
    assert monitor.participant_options("monitor", AGENT) == {"muted": True, "coaching": False}
    assert monitor.participant_options("whisper", AGENT) == {
        "muted": False, "coaching": True, "call_sid_to_coach": AGENT}
    assert monitor.participant_options("barge", AGENT) == {"muted": False, "coaching": False}


def test_a_supervisor_joins_silently_and_leaving_does_not_end_the_call():
    assert monitor.join_options("monitor", AGENT) == {
        "muted": True, "coaching": False, "beep": "false", "start_conference_on_enter": True,
        "end_conference_on_exit": False, "label": "supervisor"}


@pytest.mark.parametrize("mode, agent", [("listen", AGENT), ("whisper", "")])
def test_unknown_modes_and_whisper_without_the_agent_are_refused(mode, agent):
    with pytest.raises(ValueError):
        monitor.participant_options(mode, agent)


def test_the_group_setting_bridge():
    assert parse({}).bridge == "dial"
    assert parse({"bridge": "conference"}).bridge == "conference"
    with pytest.raises(SettingsError) as err:
        parse({"bridge": "queue"})
    assert err.value.problems == {"bridge": "one of dial, conference"}


def test_a_recorded_number_records_the_conference_and_names_the_call_in_the_callback():
    callback = f"https://cti.example.jp/twilio/voice/recording?call={SID}"
    assert monitor.caller_joins(SID, "https://cti.example.jp/a", callback) == (
        HEAD + '<Response><Dial action="https://cti.example.jp/a"><Conference beep="false" '
               'endConferenceOnExit="true" record="record-from-start" '
               f'recordingStatusCallback="{callback}" startConferenceOnEnter="true">{SID}'
               '</Conference></Dial></Response>')
