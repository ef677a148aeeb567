"""Surveys (結果をコマンドで入力): the callee answers a question with one key, and the key is the
attempt's result — no agent on the call.

A survey names its question (read with the deployment's Japanese voice), the keys allowed and
the campaign result (a disposition code) each key stands for. A key that is not allowed, or
silence, asks the question once more; then the call ends as 未入力 (``no_result``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from voice.twiml import Speaker

KEY = re.compile(r"[0-9*#]")
MAX_PROMPT = 500
#: How often the question is asked before the call ends without a result.
ASKS = 2
THANKS = "ご回答ありがとうございました。失礼いたします。"
NO_ANSWER = "ご回答を確認できませんでした。失礼いたします。"


@dataclass(frozen=True)
class Survey:
    """``keys`` maps a key (``"1"``) to the result code it records (``"satisfied"``)."""

    prompt: str
    keys: Mapping[str, str] = field(default_factory=dict)
    timeout: int = 5  # seconds of silence after the question

    def public(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "keys": dict(self.keys), "timeout": self.timeout}


def parse_survey(value: Any) -> tuple[Survey | None, dict[str, tuple[str, str, str]]]:
    """A survey from settings (``None``: no survey) and its problems by field."""
    if value is None:
        return None, {}
    if not isinstance(value, dict):
        return None, {"survey": ("wrong_type", "オブジェクトで指定してください",
                                 "must be an object or null")}
    problems: dict[str, tuple[str, str, str]] = {}
    for name in value:
        if name not in ("prompt", "keys", "timeout"):
            problems[f"survey.{name}"] = ("unknown_field", "この項目はありません", "unknown field")
    prompt = value.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_PROMPT:
        problems["survey.prompt"] = ("required", f"質問文（{MAX_PROMPT}文字以内）は必須です",
                                     f"the question, at most {MAX_PROMPT} characters")
    keys = value.get("keys")
    if not isinstance(keys, dict) or not keys:
        problems["survey.keys"] = ("required", "キーと結果の対応を指定してください",
                                   'keys → results, e.g. {"1": "satisfied"}')
        keys = {}
    for key, code in keys.items():
        if not KEY.fullmatch(key) or not isinstance(code, str):
            problems[f"survey.keys.{key}"] = ("invalid_key", "キーは 0〜9・*・# の1文字、値は結果の"
                                              "code です", "a key 0-9, * or #, mapped to a "
                                              "result code")
    timeout = value.get("timeout", 5)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= 30:
        problems["survey.timeout"] = ("out_of_range", "1〜30 の整数で指定してください",
                                      "an integer from 1 to 30")
        timeout = 5
    if problems:
        return None, problems
    return Survey(prompt.strip(), {k: str(v) for k, v in keys.items()}, timeout), {}


@dataclass(frozen=True)
class Reply:
    """What the callee hears next and what the attempt records (``result``; None: ask again)."""

    twiml: str
    result: str | None


def question(survey: Survey, action: str, speaker: Speaker) -> str:
    """The question inside a one-key ``<Gather>``; silence comes back to ``action`` too."""
    response = VoiceResponse()
    gather = response.gather(action=action, method="POST", num_digits=1,
                             timeout=survey.timeout, action_on_empty_result=True,
                             input="dtmf", finish_on_key="")
    gather.say(survey.prompt, voice=speaker.voice, language=speaker.language)
    return str(response)


def reply(survey: Survey, digits: str, asked: int, action: str, speaker: Speaker) -> Reply:
    """The callee pressed ``digits`` ("" for silence) after the ``asked``-th question."""
    if digits in survey.keys:
        return Reply(_goodbye(THANKS, speaker), survey.keys[digits])
    if asked < ASKS:
        return Reply(question(survey, action, speaker), None)
    return Reply(_goodbye(NO_ANSWER, speaker), "no_result")


def _goodbye(text: str, speaker: Speaker) -> str:
    response = VoiceResponse()
    response.say(text, voice=speaker.voice, language=speaker.language)
    response.hangup()
    return str(response)
