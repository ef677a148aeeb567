"""A group's ACD settings (SPEC CF-5, CF-6, SP-7): validated, with field-named errors.

Stored as JSON on the group (``agent_groups.settings``); missing keys take the defaults below,
so groups made before the ACD behave as they did (ring all, no queue wait beyond the default).
Targets (overflow, timeout) are ``{"type": …, "value": …}`` with type ``group``, ``agent``,
``voicemail``, ``external`` (a number) or ``announcement`` (a text spoken before hanging up);
whether a named group or agent exists is checked by the caller (``connector.acd.groups``),
which has the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .strategies import STRATEGIES

TARGET_TYPES = ("group", "agent", "voicemail", "external", "announcement")
COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
URL_RE = re.compile(r"https?://\S{1,500}")
_E164_RE = re.compile(r"\+[1-9]\d{6,14}")


class SettingsError(ValueError):
    """Unusable settings; ``problems`` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Target:
    type: str
    value: str = ""

    def public(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}


@dataclass(frozen=True)
class GroupSettings:
    """Everything a group does with a call; see docs/voice.md "Queues and ring strategies"."""

    strategy: str = "ring_all"
    ring_seconds: int = 20  # 呼出時間: how long one agent (or ring-all round) rings
    max_active: int = 0  # 最大同時応答数: calls connected at once (0 = no limit)
    max_waiting: int = 20  # 最大待ち呼数: callers waiting; more → overflow (0 = no queue)
    overflow: Target | None = None  # None: the number's fallback
    max_wait_seconds: int = 300  # タイムアウト: waiting longer → timeout target
    timeout: Target | None = None  # None: the number's fallback
    ring_before_queue_seconds: int = 0  # 待ち呼開始時間: ring back before queue music
    greeting: str = ""  # 応答音声: said (or played, for a URL) first
    queue_music: str = ""  # 呼中音声: URL played while waiting ("" = built-in)
    hold_music: str = ""  # 保留音: URL
    whisper: str = ""  # 着信判別音声: said to the agent only, before the bridge
    display_name: str = ""  # 端末表示名 on the softphone
    color: str = ""  # 色
    announce_every_seconds: int = 30  # position / expected wait announcement interval (0 = off)
    announce: str = "position"  # position | wait | both
    leave_key: str = ""  # a key that leaves the queue for voicemail ("" = none)
    acw_seconds: int = 0  # ACW時間: 後処理 after each call (0 = none)
    auto_pause_after: int = 0  # 無応答自動停止: ring-outs in a row before 停止 (0 = off)
    auto_pause_minutes: int = 0  # 無応答自動停止時間 (0 = until the agent comes back)
    # How the caller is connected: "dial" (<Dial><Client>) or "conference" — needed for
    # supervisor monitoring, whisper and barge (voice.monitor, docs/voice.md "Monitoring").
    bridge: str = "dial"
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        for name in ("overflow", "timeout"):
            value = getattr(self, name)
            data[name] = value.public() if value else None
        return data


_INTS = {"ring_seconds": (5, 120), "max_active": (0, 999), "max_waiting": (0, 999),
         "max_wait_seconds": (10, 7200), "ring_before_queue_seconds": (0, 120),
         "announce_every_seconds": (0, 600), "acw_seconds": (0, 3600),
         "auto_pause_after": (0, 20), "auto_pause_minutes": (0, 480)}
#: The whole-number settings and their (lowest, highest) values, for forms that offer them.
INT_RANGES: Mapping[str, tuple[int, int]] = _INTS
_TEXTS = {"greeting": 500, "whisper": 200, "display_name": 100}
_URLS = ("queue_music", "hold_music")


def parse(raw: Mapping[str, Any] | None, base: GroupSettings | None = None) -> GroupSettings:
    """Settings from JSON (over ``base``); unknown keys and bad values are named.

    Raises:
        SettingsError: One entry per bad field.
    """
    raw = dict(raw or {})
    known = {f.name for f in fields(GroupSettings)} - {"extra"}
    problems = {k: "unknown setting" for k in raw if k not in known}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name in problems:
            continue
        problem = _check(name, value)
        if problem:
            problems[name] = problem
        else:
            values[name] = _target(value) if name in ("overflow", "timeout") else value
    if problems:
        raise SettingsError(problems)
    return replace(base or GroupSettings(), **values)


def _check(name: str, value: Any) -> str:
    if name == "strategy":
        return "" if value in STRATEGIES else f"one of {', '.join(STRATEGIES)}"
    if name in _INTS:
        low, high = _INTS[name]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            return f"a whole number from {low} to {high}"
        return ""
    if name in _TEXTS:
        return "" if isinstance(value, str) and len(value) <= _TEXTS[name] else (
            f"text of at most {_TEXTS[name]} characters")
    if name in _URLS:
        return "" if value == "" or (isinstance(value, str) and URL_RE.fullmatch(value)) else (
            "an http(s) URL, or empty")
    if name == "color":
        return "" if value == "" or (isinstance(value, str) and COLOR_RE.fullmatch(value)) else (
            "a colour like #1E88E5, or empty")
    if name == "announce":
        return "" if value in ("position", "wait", "both") else "one of position, wait, both"
    if name == "bridge":
        return "" if value in ("dial", "conference") else "one of dial, conference"
    if name == "leave_key":
        return "" if value in ("", *"0123456789*#") else "one key 0-9, * or #, or empty"
    return _check_target(value)


def _check_target(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, Mapping) or set(value) - {"type", "value"}:
        return "null or {type, value}"
    kind, target = value.get("type"), value.get("value", "")
    if kind not in TARGET_TYPES:
        return f"type: one of {', '.join(TARGET_TYPES)}"
    if not isinstance(target, str) or len(target) > 500:
        return "value: text of at most 500 characters"
    if kind in ("group", "agent", "announcement") and not target.strip():
        return f"value: required for a {kind} target"
    if kind == "external" and not _E164_RE.fullmatch(target):
        return "value: an E.164 number like +81312345678"
    return ""


def _target(value: Any) -> Target | None:
    if value is None:
        return None
    return Target(value["type"], str(value.get("value", "")).strip())


def from_stored(raw: Mapping[str, Any] | None) -> GroupSettings:
    """Settings as stored (validated on save); a bad stored value falls back to its default."""
    try:
        return parse(raw)
    except SettingsError as exc:
        good = {k: v for k, v in (raw or {}).items() if k not in exc.problems}
        return parse(good)


def to_stored(settings: GroupSettings) -> dict[str, Any]:
    return settings.public()


def from_text(name: str, text: str) -> Any:
    """A setting typed on a command line (``ring_seconds=30``, ``overflow=group:sales``) as the
    JSON value :func:`parse` takes; whether it is acceptable is still :func:`parse`'s call.

    Targets are written ``type:value`` (``agent:sato``, ``external:+81312345678``,
    ``announcement:本日の受付は終了しました``), ``voicemail``, or ``none`` (the number's
    fallback).
    """
    if name in _INTS:
        stripped = text.strip()
        return int(stripped) if re.fullmatch(r"-?\d{1,9}", stripped) else text
    if name in ("overflow", "timeout"):
        kind, _, value = text.partition(":")
        if kind.strip() in ("", "none"):
            return None
        return {"type": kind.strip(), "value": value}
    return text


def target_text(target: Target | None) -> str:
    """A target as :func:`from_text` reads it back."""
    if target is None:
        return "none"
    return f"{target.type}:{target.value}" if target.value else target.type
