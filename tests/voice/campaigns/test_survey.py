"""Surveys: the question's TwiML (exact), the answer to each key, the settings' checks."""

from __future__ import annotations

import pytest

from voice.campaigns import survey
from voice.campaigns.settings import SettingsError, parse_settings
from voice.campaigns.survey import Survey, parse_survey
from voice.twiml import Speaker

SPEAKER = Speaker("Google.ja-JP-Neural2-B", "ja-JP")
ACTION = "https://cti.example.jp/twilio/campaigns/survey?attempt=7&asked=1"
SURVEY = Survey("満足なら1、不満なら2を押してください。", {"1": "satisfied", "2": "unsatisfied"})
DISPOSITIONS = [{"code": "satisfied", "label": "満足"}, {"code": "unsatisfied", "label": "不満"}]


def test_question_is_a_one_key_gather_that_reports_silence_too():
    assert survey.question(SURVEY, ACTION, SPEAKER) == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Gather action="https://cti.example.jp/twilio/campaigns/survey?attempt=7&amp;asked=1" '
        'actionOnEmptyResult="true" finishOnKey="" input="dtmf" method="POST" numDigits="1" '
        'timeout="5"><Say language="ja-JP" voice="Google.ja-JP-Neural2-B">'
        '満足なら1、不満なら2を押してください。</Say></Gather></Response>')


def test_an_allowed_key_is_the_result_and_the_callee_is_thanked():
    reply = survey.reply(SURVEY, "2", 1, ACTION, SPEAKER)
    assert reply.result == "unsatisfied"
    assert reply.twiml == (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        '<Say language="ja-JP" voice="Google.ja-JP-Neural2-B">'
        'ご回答ありがとうございました。失礼いたします。</Say><Hangup /></Response>')


@pytest.mark.parametrize("digits", ["9", ""])
def test_a_wrong_key_or_silence_asks_once_more_then_ends_without_result(digits):
    again = survey.reply(SURVEY, digits, 1, ACTION, SPEAKER)
    assert again.result is None and again.twiml == survey.question(SURVEY, ACTION, SPEAKER)
    last = survey.reply(SURVEY, digits, 2, ACTION, SPEAKER)
    assert last.result == "no_result" and "ご回答を確認できませんでした" in last.twiml
    assert last.twiml.endswith("<Hangup /></Response>")


def test_survey_settings_name_every_problem():
    assert parse_survey(None) == (None, {})
    found, problems = parse_survey({"prompt": "", "keys": {"x": "a"}, "timeout": 99,
                                    "voice": "x"})
    assert found is None
    assert {k: v[0] for k, v in problems.items()} == {
        "survey.prompt": "required", "survey.keys.x": "invalid_key",
        "survey.timeout": "out_of_range", "survey.voice": "unknown_field"}


def test_a_survey_records_campaign_results_in_progressive_mode_with_channels():
    with pytest.raises(SettingsError) as bad:
        parse_settings({"caller_id": "03-1234-5678", "dispositions": DISPOSITIONS,
                        "survey": {"prompt": "?", "keys": {"1": "satisfied", "3": "nope"}}})
    assert {k: v[0] for k, v in bad.value.problems.items()} == {
        "survey.keys.3": "unknown_result", "mode": "survey_needs_progressive",
        "max_channels": "survey_needs_channels"}
    settings = parse_settings({"caller_id": "03-1234-5678", "mode": "progressive",
                               "max_channels": 2, "dispositions": DISPOSITIONS,
                               "survey": {"prompt": "?", "keys": {"1": "satisfied"}}})
    assert settings.survey == Survey("?", {"1": "satisfied"})
    assert parse_settings(settings.public()) == settings  # as stored on the campaign row
