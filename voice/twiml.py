"""TwiML documents the connector answers Twilio with — pure, deterministic builders.

Every builder returns the whole document as a string (twilio-python's ``VoiceResponse`` sorts
attributes, so the output is stable and tests compare exact XML). Japanese speech uses
``language="ja-JP"`` and the voice of :class:`Speaker` (default ``Polly.Mizuki``; an invalid
voice/language pair makes ``<Say>`` fail, ecosystem.md §4.2).

Facts relied on (twilio.com/docs/voice/twiml/*): ``<Dial>`` rings up to 10 nouns at once and
requests ``action`` when the dialed leg ends; ``answerOnBridge`` keeps the caller hearing
ringback (and unbilled) until someone answers; ``<Client>``/``<Number>`` report their leg's
``initiated ringing answered completed`` events to ``statusCallback``; ``<Record>`` stops at
``finishOnKey``, after ``timeout`` seconds of silence or at ``maxLength`` (Twilio's default and
CF-10's limit: 3600 s), then requests ``action`` — when the caller hangs up too; a recording
callback's ``CallSid`` is always the parent leg.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

from twilio.twiml.voice_response import Dial, VoiceResponse

__all__ = ["CHILD_STATUS_EVENTS", "DIAL_RECORD_MODE", "MAX_DIAL_PARTIES",
           "MAX_RECORDING_SECONDS", "MESSAGES", "ClientRing", "Speaker", "Urls", "dial_number",
           "empty", "hang_up", "reject", "ring_clients", "say_and_hang_up", "voicemail"]

DEFAULT_VOICE = "Polly.Mizuki"
DEFAULT_LANGUAGE = "ja-JP"
#: The events of a dialed leg we want reported (twilio.com/docs/voice/twiml/client).
CHILD_STATUS_EVENTS = "initiated ringing answered completed"
#: Twilio rings at most this many nouns of one ``<Dial>`` at once.
MAX_DIAL_PARTIES = 10
#: CF-10: one recording is at most an hour (also Twilio's ``<Record maxLength>`` default).
MAX_RECORDING_SECONDS = 3600
#: Both parties, each on its own channel, from the moment the call is answered.
DIAL_RECORD_MODE = "record-from-answer-dual"
#: Seconds of silence that end a voicemail; long, because CF-7 records "until # or hang-up".
VOICEMAIL_SILENCE_SECONDS = 30

#: Everything callers and agents hear from the connector itself. Short, polite Japanese.
MESSAGES = MappingProxyType({
    "unconfigured": "お電話ありがとうございます。申し訳ございませんが、おかけになった番号では"
                    "現在お電話をお受けしておりません。恐れ入りますが、番号をお確かめのうえ、"
                    "おかけ直しください。",
    "voicemail_greeting": "ただいま電話に出ることができません。発信音のあとに、お名前とご用件を"
                          "お話しください。お話しが終わりましたら、シャープを押すか、"
                          "電話をお切りください。",
    "voicemail_thanks": "ありがとうございました。",
    "channel_limit": "お電話ありがとうございます。ただいま電話が大変混み合っております。"
                     "恐れ入りますが、しばらくしてからおかけ直しください。",
    "no_agent": "申し訳ございません。ただいま電話に出ることができません。恐れ入りますが、"
                "しばらくしてからおかけ直しください。",
    "system_error": "申し訳ございません。ただいまお電話をおつなぎできません。恐れ入りますが、"
                    "しばらくしてからおかけ直しください。",
    "outbound_busy": "お相手は話し中です。",
    "outbound_no_answer": "お相手が応答しませんでした。",
    "outbound_failed": "発信できませんでした。",
    "outbound_unknown_agent": "この電話からは発信できません。管理者にお問い合わせください。",
    "outbound_restricted": "この番号への発信は規制されています。管理者にお問い合わせください。",
    "outbound_no_caller_id": "発信に使える電話番号が設定されていません。"
                             "管理者にお問い合わせください。",
    "outbound_caller_id_not_allowed": "選択された発信者番号は使用できません。"
                                      "別の番号を選んでください。",
})


@dataclass(frozen=True)
class Speaker:
    """The text-to-speech voice."""

    voice: str = DEFAULT_VOICE
    language: str = DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Urls:
    """Where Twilio reports back (absolute URLs under the public base URL)."""

    status: str  # dialed legs' statusCallback
    dial_action: str  # <Dial action>
    recording: str  # recordingStatusCallback
    voicemail: str = ""  # <Record action> of the voicemail


@dataclass(frozen=True)
class ClientRing:
    """One browser to ring, with the ``<Parameter>``\\ s it receives."""

    identity: str
    parameters: Sequence[tuple[str, str]] = ()
    url: str = ""  # TwiML the agent hears on answering, before the bridge (a whisper)


def ring_clients(clients: Sequence[ClientRing], urls: Urls, *, timeout: int,
                 record: bool = False, caller_id: str | None = None) -> str:
    """Ring agents' browsers at once; the first to answer is connected.

    Args:
        clients: At most :data:`MAX_DIAL_PARTIES` browsers.
        urls: Status, dial-action and recording callbacks.
        timeout: Seconds to ring before the dial action reports ``no-answer``.
        record: Record the conversation (CF-10).
        caller_id: What the browsers show as the caller (default: the caller's number).

    Raises:
        ValueError: No client, or more than Twilio rings at once.
    """
    if not 1 <= len(clients) <= MAX_DIAL_PARTIES:
        raise ValueError(f"ring between 1 and {MAX_DIAL_PARTIES} clients, got {len(clients)}")
    response = VoiceResponse()
    dial = _dial(response, urls, timeout=timeout, record=record, caller_id=caller_id)
    for ring in clients:
        client = dial.client(url=ring.url or None, status_callback=urls.status,
                             status_callback_event=CHILD_STATUS_EVENTS)
        client.identity(ring.identity)
        for name, value in ring.parameters:
            client.parameter(name=name, value=value)
    return str(response)


def dial_number(number: str, urls: Urls, *, caller_id: str, timeout: int,
                record: bool = False) -> str:
    """Call an outside number (outbound calls, external transfer CF-8) with ``caller_id``."""
    response = VoiceResponse()
    dial = _dial(response, urls, timeout=timeout, record=record, caller_id=caller_id)
    dial.number(number, status_callback=urls.status, status_callback_event=CHILD_STATUS_EVENTS)
    return str(response)


def voicemail(urls: Urls, speaker: Speaker, greeting: str = MESSAGES["voicemail_greeting"]) -> str:
    """CF-7: announcement, beep, record until ``#`` or hang-up (at most an hour).

    ``urls.voicemail`` answers with the thanks; an empty recording skips the action and ends
    here with a hang-up.
    """
    response = VoiceResponse()
    response.say(greeting, voice=speaker.voice, language=speaker.language)
    response.record(action=urls.voicemail, finish_on_key="#", max_length=MAX_RECORDING_SECONDS,
                    play_beep=True, recording_status_callback=urls.recording,
                    timeout=VOICEMAIL_SILENCE_SECONDS)
    response.hangup()
    return str(response)


def say_and_hang_up(message: str, speaker: Speaker) -> str:
    """Say ``message`` once, then hang up (announcements, refusals, voicemail thanks)."""
    response = VoiceResponse()
    response.say(message, voice=speaker.voice, language=speaker.language)
    response.hangup()
    return str(response)


def reject(reason: str = "rejected") -> str:
    """Refuse the call unanswered (CF-9 block list): ``rejected`` or ``busy``."""
    if reason not in ("rejected", "busy"):
        raise ValueError(f"reject reason must be 'rejected' or 'busy', got {reason!r}")
    response = VoiceResponse()
    response.reject(reason=reason)
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def empty() -> str:
    """The answer to callbacks whose response Twilio ignores (status, recording)."""
    return str(VoiceResponse())


def _dial(response: VoiceResponse, urls: Urls, *, timeout: int, record: bool,
          caller_id: str | None) -> Dial:
    options: dict[str, object] = {"action": urls.dial_action, "answer_on_bridge": True,
                                  "timeout": timeout}
    if caller_id:
        options["caller_id"] = caller_id
    if record:
        options.update(record=DIAL_RECORD_MODE, recording_status_callback=urls.recording)
    return response.dial(**options)


# --- the hot routes answer from precompiled templates ------------------------------------------
# The VoiceResponse builders above stay the definition; voice.twiml_fast renders the same bytes
# (tests/voice/test_twiml_fast.py compares them) in a fraction of the time.
from . import twiml_fast as _fast  # noqa: E402  (it reads this module's constants)

#: The ``VoiceResponse`` builders, by name: the reference the templates are tested against.
REFERENCE = MappingProxyType({builder.__name__: builder for builder in (
    ring_clients, dial_number, voicemail, say_and_hang_up, reject, hang_up, empty)})
ring_clients = _fast.ring_clients  # noqa: F811
dial_number = _fast.dial_number  # noqa: F811
voicemail = _fast.voicemail  # noqa: F811
say_and_hang_up = _fast.say_and_hang_up  # noqa: F811
reject = _fast.reject  # noqa: F811
hang_up = _fast.hang_up  # noqa: F811
empty = _fast.empty  # noqa: F811
