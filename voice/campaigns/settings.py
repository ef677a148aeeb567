"""A campaign's settings, checked field by field.

Every problem names its field (``window.days``, ``retry_minutes.busy``) with a stable code and
a Japanese and an English message, so the API can answer all of them at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from voice import numbering
from voice.numbering import NumberError

from .results import DISPOSITION_CODE, RETRYABLE, SYSTEM_RESULTS
from .survey import Survey, parse_survey

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MODES = ("preview", "progressive")
_TIME = re.compile(r"(\d{2}):(\d{2})")

#: Defaults of a new campaign: weekdays 9–18 JST, holidays off, three attempts.
DEFAULT_RETRY_MINUTES = {"busy": 10, "no_answer": 60, "error": 30, "channel_limit": 5,
                         "cancelled": 60, "abandoned": 30}
MAX_ATTEMPTS_LIMIT = 20


class SettingsError(ValueError):
    """Some fields are invalid; ``problems`` maps field → (code, message_ja, message_en)."""

    def __init__(self, problems: dict[str, tuple[str, str, str]]) -> None:
        super().__init__("; ".join(f"{k}: {v[2]}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class CallingWindow:
    """When calls may be placed, in Japan time: weekdays × one time range, holidays excluded."""

    days: frozenset[str] = frozenset(WEEKDAYS[:5])
    start: time = time(9, 0)
    end: time = time(18, 0)  # exclusive
    skip_holidays: bool = True

    def public(self) -> dict[str, Any]:
        return {"days": [d for d in WEEKDAYS if d in self.days],
                "start": self.start.strftime("%H:%M"), "end": _end_text(self.end),
                "skip_holidays": self.skip_holidays}


@dataclass(frozen=True)
class Disposition:
    """An agent's result (結果) the campaign offers: ``code`` is stable, ``label`` is shown.
    ``final`` results end the contact; others (``callback``-like) leave it for a recall."""

    code: str
    label: str
    final: bool = True


DEFAULT_DISPOSITIONS = (
    Disposition("success", "受注"), Disposition("considering", "検討", final=False),
    Disposition("declined", "NG"), Disposition("absent", "本人不在", final=False),
    Disposition("wrong_number", "番号不備"), Disposition("other", "その他"),
)


@dataclass(frozen=True)
class CampaignSettings:
    mode: str = "preview"
    caller_id: str = ""  # E.164, one of our numbers
    window: CallingWindow = field(default_factory=CallingWindow)
    max_attempts: int = 3
    retry_minutes: Mapping[str, int] = field(
        default_factory=lambda: dict(DEFAULT_RETRY_MINUTES))
    ring_seconds: int = 30  # タイムアウト: how long the callee's phone rings
    agent_ring_seconds: int = 15  # 待ち呼タイムアウト: how long the agent rings after answer
    max_channels: int = 0  # 最大チャンネル: calls at once (0 = one per available agent)
    agents: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    dispositions: tuple[Disposition, ...] = DEFAULT_DISPOSITIONS
    survey: Survey | None = None  # the callee answers with a key; no agent on the call

    def retry_delay(self, result: str) -> int | None:
        """Minutes before a contact with this result is dialed again; None: not retried."""
        if result not in RETRYABLE:
            return None
        return self.retry_minutes.get(result, DEFAULT_RETRY_MINUTES[result])

    def disposition(self, code: str) -> Disposition | None:
        return next((d for d in self.dispositions if d.code == code), None)

    def public(self) -> dict[str, Any]:
        return {"mode": self.mode, "caller_id": self.caller_id, "window": self.window.public(),
                "max_attempts": self.max_attempts, "retry_minutes": dict(self.retry_minutes),
                "ring_seconds": self.ring_seconds,
                "agent_ring_seconds": self.agent_ring_seconds,
                "max_channels": self.max_channels, "agents": list(self.agents),
                "groups": list(self.groups),
                "dispositions": [{"code": d.code, "label": d.label, "final": d.final}
                                 for d in self.dispositions],
                "survey": self.survey.public() if self.survey else None}


_FIELDS = {"mode", "caller_id", "window", "max_attempts", "retry_minutes", "ring_seconds",
           "agent_ring_seconds", "max_channels", "agents", "groups", "dispositions", "survey"}


def parse_settings(data: Mapping[str, Any], base: CampaignSettings | None = None
                   ) -> CampaignSettings:
    """``base`` with the fields of ``data`` changed (a new campaign: the defaults).

    Raises:
        SettingsError: Every invalid or unknown field, named.
    """
    base = base or CampaignSettings()
    problems: dict[str, tuple[str, str, str]] = {}
    values: dict[str, Any] = {}
    for name in data:
        if name not in _FIELDS:
            problems[name] = ("unknown_field", "この項目はありません", "unknown field")
    for name, parse in _PARSERS.items():
        if name in data:
            try:
                values[name] = parse(data[name], problems)
            except _Bad as bad:
                problems[bad.field or name] = bad.problem
    if "survey" in data:
        values["survey"], found = parse_survey(data["survey"])
        problems.update(found)
    if problems:
        raise SettingsError(problems)
    settings = CampaignSettings(**{**base.__dict__, **values})
    if not settings.caller_id:
        raise SettingsError({"caller_id": ("required", "発信者番号は必須です",
                                           "required: one of our numbers")})
    problems = _survey_problems(settings)
    if problems:
        raise SettingsError(problems)
    return settings


def _survey_problems(settings: CampaignSettings) -> dict[str, tuple[str, str, str]]:
    """A survey records the campaign's own results and dials by itself (no agent takes the
    call, so calls at once are capped by ``max_channels``)."""
    if settings.survey is None:
        return {}
    problems: dict[str, tuple[str, str, str]] = {}
    for key, code in settings.survey.keys.items():
        if settings.disposition(code) is None:
            problems[f"survey.keys.{key}"] = (
                "unknown_result", "このキャンペーンの結果（dispositions の code）にしてください",
                "not a result (dispositions code) of this campaign")
    if settings.mode != "progressive":
        problems["mode"] = ("survey_needs_progressive",
                            "アンケートはプログレッシブコールで発信します",
                            "a survey campaign dials in progressive mode")
    if settings.max_channels < 1:
        problems["max_channels"] = ("survey_needs_channels", "アンケートでは同時発信数（1以上）を"
                                    "指定してください", "a survey campaign needs max_channels "
                                    "(1 or more): no agent paces it")
    return problems


class _Bad(Exception):
    def __init__(self, code: str, ja: str, en: str, field: str = "") -> None:
        super().__init__(en)
        self.problem, self.field = (code, ja, en), field


def _mode(value: Any, _: dict) -> str:
    if value not in MODES:
        raise _Bad("invalid_choice", "preview か progressive を指定してください",
                   "one of preview, progressive")
    return str(value)


def _caller_id(value: Any, _: dict) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Bad("required", "発信者番号は必須です", "required: one of our numbers")
    try:
        return numbering.normalize(value)
    except NumberError as exc:
        raise _Bad(exc.code, exc.message_ja, exc.message_en) from None


def _int_in(low: int, high: int):  # type: ignore[no-untyped-def]
    def parse(value: Any, _: dict) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _Bad("out_of_range", f"{low}〜{high} の整数で指定してください",
                       f"an integer from {low} to {high}")
        return value
    return parse


def _names(value: Any, _: dict) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Bad("wrong_type", "名前のリストで指定してください", "a list of names")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _retry(value: Any, problems: dict) -> dict[str, int]:
    if not isinstance(value, dict):
        raise _Bad("wrong_type", "オブジェクトで指定してください", "must be an object")
    out = dict(DEFAULT_RETRY_MINUTES)
    for key, minutes in value.items():
        name = f"retry_minutes.{key}"
        if key not in RETRYABLE:
            problems[name] = ("unknown_result", "再発信できる結果ではありません",
                              f"not a retried result (one of {', '.join(sorted(RETRYABLE))})")
        elif isinstance(minutes, bool) or not isinstance(minutes, int) or not (
                1 <= minutes <= 10080):
            problems[name] = ("out_of_range", "1〜10080 分の整数で指定してください",
                              "minutes from 1 to 10080")
        else:
            out[key] = minutes
    return out


def _window(value: Any, problems: dict) -> CallingWindow:
    if not isinstance(value, dict):
        raise _Bad("wrong_type", "オブジェクトで指定してください", "must be an object")
    base = CallingWindow()
    for key in value:
        if key not in ("days", "start", "end", "skip_holidays"):
            problems[f"window.{key}"] = ("unknown_field", "この項目はありません", "unknown field")
    days = value.get("days", sorted(base.days))
    if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
        problems["window.days"] = ("invalid_days", "曜日（mon〜sun）のリストで指定してください",
                                   "a non-empty list of mon … sun")
        days = list(base.days)
    start = _clock(value.get("start", "09:00"), "window.start", problems)
    end = _clock(value.get("end", "18:00"), "window.end", problems, end=True)
    if start is not None and end is not None and _minutes(end) <= _minutes(start):
        problems["window.end"] = ("end_before_start", "終了は開始より後にしてください",
                                  "must be after window.start")
    skip = value.get("skip_holidays", True)
    if not isinstance(skip, bool):
        problems["window.skip_holidays"] = ("wrong_type", "true か false で指定してください",
                                            "must be true or false")
    return CallingWindow(frozenset(days), start or base.start, end or base.end, skip is not False)


def _clock(text: Any, name: str, problems: dict, end: bool = False) -> time | None:
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match:
        hour, minute = int(match[1]), int(match[2])
        if end and (hour, minute) == (24, 0):
            return time(23, 59, 59, 999999)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    problems[name] = ("invalid_time", "HH:MM（00:00〜24:00）で指定してください",
                      "a time HH:MM from 00:00 to 24:00")
    return None


def _minutes(moment: time) -> float:
    return moment.hour * 60 + moment.minute + moment.second / 60


def _end_text(moment: time) -> str:
    return "24:00" if moment.hour == 23 and moment.microsecond else moment.strftime("%H:%M")


def _dispositions(value: Any, problems: dict) -> tuple[Disposition, ...]:
    if not isinstance(value, list) or not value:
        raise _Bad("wrong_type", "結果のリストで指定してください", "a non-empty list of results")
    out: list[Disposition] = []
    for index, item in enumerate(value):
        name = f"dispositions[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("label"), str) or not (
                isinstance(item.get("code"), str) and DISPOSITION_CODE.fullmatch(item["code"])):
            problems[name] = ("invalid_disposition",
                              "code（英小文字・数字・_）と label を指定してください",
                              "needs code (a-z, 0-9, _) and label")
            continue
        if item["code"] in SYSTEM_RESULTS or any(d.code == item["code"] for d in out):
            problems[name] = ("duplicate_code", "システム結果または他の結果と同じ code です",
                              "code is a system result or used twice")
            continue
        out.append(Disposition(item["code"], item["label"].strip() or item["code"],
                               item.get("final", True) is not False))
    return tuple(out)


_PARSERS = {"mode": _mode, "caller_id": _caller_id, "window": _window,
            "max_attempts": _int_in(1, MAX_ATTEMPTS_LIMIT), "retry_minutes": _retry,
            "ring_seconds": _int_in(5, 180), "agent_ring_seconds": _int_in(5, 60),
            "max_channels": _int_in(0, 500), "agents": _names, "groups": _names,
            "dispositions": _dispositions}


def from_stored(stored: Mapping[str, Any]) -> CampaignSettings:
    """The settings kept on a campaign row (written by :meth:`CampaignSettings.public`)."""
    return parse_settings(stored)
