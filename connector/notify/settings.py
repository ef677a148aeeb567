"""``[notify]``: channels, and per event the channels and the message (SPEC NT-1)."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

from crm_adapters.settings import Secret

#: The events, and the values their message templates may use.
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    "ivr_handled": ("caller", "name", "company", "our_number", "number_label", "time",
                    "call_sid", "summary"),
    "voicemail": ("caller", "name", "company", "our_number", "number_label", "time",
                  "call_sid", "recording_url", "duration"),
    "missed": ("caller", "name", "company", "our_number", "number_label", "time", "call_sid"),
    "abandoned": ("caller", "name", "company", "our_number", "number_label", "time",
                  "call_sid", "queue", "wait_seconds"),
    "sms_received": ("caller", "name", "company", "our_number", "time", "body", "message_sid"),
    "writeback_failed": ("adapter", "call_sid", "error", "time"),
}

#: Japanese messages used when ``[notify.events.<event>] template`` is not set.
DEFAULT_TEMPLATES: dict[str, str] = {
    "ivr_handled": "【IVR 完了】{time} {caller} {name} 様からのお電話を自動応答で受け付けました"
                   "（{number_label}）。{summary}",
    "voicemail": "【留守番電話】{time} {caller} {name} 様から留守番電話があります（{number_label}、"
                 "{duration} 秒）。録音: {recording_url}",
    "missed": "【不在着信】{time} {caller} {name} 様からのお電話に応答できませんでした"
              "（{number_label}）。折り返しをお願いします。",
    "abandoned": "【放棄呼】{time} {caller} {name} 様が待ち行列「{queue}」で {wait_seconds} 秒"
                 "お待ちのうえ電話を切られました（{number_label}）。",
    "sms_received": "【SMS 受信】{time} {caller} {name} 様から SMS の返信がありました: {body}",
    "writeback_failed": "【CRM 記録の失敗】通話 {call_sid} を {adapter} に記録できませんでした: "
                        "{error}（cti jobs failed で確認し、原因を直してから cti jobs retry）",
}


@dataclass(frozen=True)
class ChannelSettings:
    """``[notify.channels.<name>]``: one destination.

    ``url``: an apprise URL (``mailto://``, ``mailtos://``, ``slack://``, ``workflows://`` for
    Microsoft Teams, ``line://``, ``json://`` …) or ``chatwork://<API token>@<room id>``; it
    holds credentials, so it is a secret (``{ env = "…" }``).
    """

    url: Secret = Secret("")

    def __post_init__(self) -> None:
        value = self.url.reveal()
        if not value:
            raise ValueError("url: required")
        if not re.match(r"^[a-z][a-z0-9+.-]*://", value):
            raise ValueError("url: not a notification URL (scheme://…); see docs/integrations.md")


@dataclass(frozen=True)
class EventSettings:
    """``[notify.events.<event>]``: where an event goes, and what it says."""

    channels: list[str] = field(default_factory=list)
    template: str = ""
    title: str = ""


@dataclass(frozen=True)
class NotifySettings:
    """``[notify]``"""

    channels: dict[str, ChannelSettings] = field(default_factory=dict)
    events: dict[str, EventSettings] = field(default_factory=dict)
    #: Attempts per message before it is left in ``cti jobs failed``.
    max_attempts: int = 5
    #: Seconds a channel may take to accept a message.
    timeout_seconds: float = 10.0
    #: Chatwork's API (a test or a proxy may replace it).
    chatwork_api: str = "https://api.chatwork.com/v2"
    #: Shown as the first line of e-mails and chat messages.
    title: str = "cti-connector"

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 20:
            raise ValueError("max_attempts: must be between 1 and 20")
        if not 1 <= self.timeout_seconds <= 60:
            raise ValueError("timeout_seconds: must be between 1 and 60")
        for name in self.channels:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", name):
                raise ValueError(f"channels.{name}: use lower-case letters, digits and _")
        for event, settings in self.events.items():
            if event not in EVENT_FIELDS:
                raise ValueError(f"events.{event}: unknown event (known: "
                                 f"{', '.join(EVENT_FIELDS)})")
            for channel in settings.channels:
                if channel not in self.channels:
                    raise ValueError(f"events.{event}.channels: no channel {channel!r} in "
                                     f"[notify.channels] (have: "
                                     f"{', '.join(self.channels) or 'none'})")
            problem = template_problem(settings.template, EVENT_FIELDS[event])
            if problem:
                raise ValueError(f"events.{event}.template: {problem}")

    def template(self, event: str) -> str:
        chosen = self.events.get(event)
        return (chosen.template if chosen and chosen.template else DEFAULT_TEMPLATES[event])

    def channels_for(self, event: str) -> list[str]:
        chosen = self.events.get(event)
        return list(chosen.channels) if chosen else []


def template_problem(template: str, fields: tuple[str, ...]) -> str:
    """Why ``template`` cannot be used with ``fields`` ("" when it can)."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"{exc} (write {{{{ and }}}} for literal braces)"
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in fields:
            return f"unknown placeholder {{{name}}} (known: " + \
                ", ".join("{" + f + "}" for f in fields) + ")"
        if spec or conversion:
            return f"{{{name}}}: no format specifications"
    return ""


def render(template: str, values: dict[str, object]) -> str:
    """The message: every placeholder filled, missing values empty."""
    return template.format_map(_Blank({k: ("" if v is None else v) for k, v in values.items()}))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""
