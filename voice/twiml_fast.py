"""The hot routes' TwiML from precompiled templates: the same bytes as :mod:`voice.twiml`'s
``VoiceResponse`` builders, at a fraction of the cost.

Building a ``VoiceResponse`` and serialising it through ElementTree costs about 0.1 ms per
document — a tenth of an inbound webhook answered from memory. Here each document is a
format string compiled once; values are escaped exactly as ElementTree does (text: ``& < >``;
attributes: also ``"``, CR, LF, TAB), attributes stay in sorted order, empty elements close as
`` />``. ``tests/voice/test_twiml_fast.py`` proves every builder byte-identical to the
``VoiceResponse`` one, including awkward values. :mod:`voice.twiml` answers with these.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from .twiml import (
    CHILD_STATUS_EVENTS,
    DIAL_RECORD_MODE,
    MAX_DIAL_PARTIES,
    MAX_RECORDING_SECONDS,
    MESSAGES,
    VOICEMAIL_SILENCE_SECONDS,
    ClientRing,
    Speaker,
    Urls,
)

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                            "\r": "&#13;", "\n": "&#10;", "\t": "&#09;"})


def text(value: str) -> str:
    """Character data escaped as ElementTree escapes it."""
    return value.translate(_TEXT)


def attribute(value: str) -> str:
    """An attribute value escaped as ElementTree escapes it."""
    return value.translate(_ATTRIBUTE)


def _element(name: str, value: str) -> str:
    return f"<{name}>{text(value)}</{name}>" if value else f"<{name} />"


@lru_cache(maxsize=64)
def _dial_open(action: str, timeout: int, record: bool, recording: str,
               caller_id: str | None) -> str:
    attributes = [("action", action), ("answerOnBridge", "true")]
    if caller_id:
        attributes.append(("callerId", caller_id))
    if record:
        attributes += [("record", DIAL_RECORD_MODE), ("recordingStatusCallback", recording)]
    attributes.append(("timeout", str(timeout)))
    return "<Dial " + " ".join(f'{k}="{attribute(v)}"' for k, v in sorted(attributes)) + ">"


@lru_cache(maxsize=64)
def _client_open(status: str, url: str) -> str:
    # VoiceResponse writes attributes in name order: url (a whisper) comes last.
    whisper = f' url="{attribute(url)}"' if url else ""
    return (f'<Client statusCallback="{attribute(status)}" '
            f'statusCallbackEvent="{CHILD_STATUS_EVENTS}"{whisper}>')


def ring_clients(clients: Sequence[ClientRing], urls: Urls, *, timeout: int,
                 record: bool = False, caller_id: str | None = None) -> str:
    """:func:`voice.twiml.ring_clients`, from templates."""
    if not 1 <= len(clients) <= MAX_DIAL_PARTIES:
        raise ValueError(f"ring between 1 and {MAX_DIAL_PARTIES} clients, got {len(clients)}")
    parts = [_HEAD, "<Response>",
             _dial_open(urls.dial_action, timeout, record, urls.recording, caller_id)]
    for ring in clients:
        parts += [_client_open(urls.status, ring.url), _element("Identity", ring.identity)]
        parts += [f'<Parameter name="{attribute(name)}" value="{attribute(value)}" />'
                  for name, value in ring.parameters]
        parts.append("</Client>")
    parts.append("</Dial></Response>")
    return "".join(parts)


def dial_number(number: str, urls: Urls, *, caller_id: str, timeout: int,
                record: bool = False) -> str:
    """:func:`voice.twiml.dial_number`, from templates."""
    return "".join((_HEAD, "<Response>",
                    _dial_open(urls.dial_action, timeout, record, urls.recording, caller_id),
                    _number(number, urls.status), "</Dial></Response>"))


def _number(number: str, status: str) -> str:
    opening = (f'<Number statusCallback="{attribute(status)}" '
               f'statusCallbackEvent="{CHILD_STATUS_EVENTS}"')
    return f"{opening}>{text(number)}</Number>" if number else f"{opening} />"


def _say(message: str, speaker: Speaker) -> str:
    opening = f'<Say language="{attribute(speaker.language)}" voice="{attribute(speaker.voice)}"'
    return f"{opening}>{text(message)}</Say>" if message else f"{opening} />"


@lru_cache(maxsize=64)
def say_and_hang_up(message: str, speaker: Speaker) -> str:
    """:func:`voice.twiml.say_and_hang_up`, from templates (a handful of documents: cached)."""
    return f"{_HEAD}<Response>{_say(message, speaker)}<Hangup /></Response>"


@lru_cache(maxsize=16)
def voicemail(urls: Urls, speaker: Speaker, greeting: str = MESSAGES["voicemail_greeting"]) -> str:
    """:func:`voice.twiml.voicemail`, from templates."""
    record = (f'<Record action="{attribute(urls.voicemail)}" finishOnKey="#" '
              f'maxLength="{MAX_RECORDING_SECONDS}" playBeep="true" '
              f'recordingStatusCallback="{attribute(urls.recording)}" '
              f'timeout="{VOICEMAIL_SILENCE_SECONDS}" />')
    return f"{_HEAD}<Response>{_say(greeting, speaker)}{record}<Hangup /></Response>"


def reject(reason: str = "rejected") -> str:
    """:func:`voice.twiml.reject`, from templates."""
    if reason not in ("rejected", "busy"):
        raise ValueError(f"reject reason must be 'rejected' or 'busy', got {reason!r}")
    return f'{_HEAD}<Response><Reject reason="{reason}" /></Response>'


def hang_up() -> str:
    return f"{_HEAD}<Response><Hangup /></Response>"


def empty() -> str:
    return f"{_HEAD}<Response />"
