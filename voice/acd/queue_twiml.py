"""TwiML of a group's waiting queue (SPEC CF-5, CF-6): what callers hear while they wait.

A caller nobody can take yet is put in a Twilio queue with ``<Enqueue waitUrl=… action=…>``
(one queue per group, :func:`queue_name`). Twilio requests the ``waitUrl`` again each time its
document ends; ours (:func:`wait_document`) says the caller's position or expected wait when
an announcement is due, plays the queue music (or, without one, a short message and a pause)
and — with a leave key — wraps both in a ``<Gather>``. The connector decides who is offered
to whom; Twilio's queue only holds the caller (docs/voice.md "Waiting callers").
"""

from __future__ import annotations

from collections.abc import Sequence

from twilio.twiml.voice_response import Gather, VoiceResponse

from voice.twiml import Speaker

#: Said when the queue has no music of its own (then a pause until the next loop).
WAIT_MESSAGE = ("ただいま電話が混み合っております。"
                "順番におつなぎしますので、このままお待ちください。")
POSITION = "現在{position}番目にお待ちいただいております。"
EXPECTED = "おつなぎするまで、あと{minutes}分ほどお待ちください。"
LEAVE_HINT = "伝言を残される場合は{key}を押してください。"
KEY_NAMES = {"#": "シャープ", "*": "米印"}
#: The whisper when the group's ``whisper`` is "{group}" only — the common case, "◯◯窓口".
WHISPER_DEFAULT = "{group}のお電話です。"
#: The longest pause of one built-in wait loop: the loop is when timeouts are checked and
#: lapsed after-call work is noticed, so it stays short.
MAX_PAUSE_SECONDS = 10


def queue_name(group_id: int) -> str:
    """The Twilio queue of a group (≤ 64 characters, stable across renames)."""
    return f"cti-group-{group_id}"


def _say(target: VoiceResponse | Gather, text: str, speaker: Speaker) -> None:
    target.say(text, voice=speaker.voice, language=speaker.language)


def _greet(target: VoiceResponse, greeting: str, speaker: Speaker) -> None:
    """A greeting is a recording when it is a URL, else text to speak."""
    if greeting.startswith(("http://", "https://")):
        target.play(greeting)
    elif greeting:
        _say(target, greeting, speaker)


def enqueue(group_id: int, *, wait_url: str, action_url: str, greeting: str = "",
            speaker: Speaker) -> str:
    """The caller starts waiting (after the group's greeting, if any)."""
    response = VoiceResponse()
    _greet(response, greeting, speaker)
    response.enqueue(queue_name(group_id), wait_url=wait_url, action=action_url)
    return str(response)


def ring_first(seconds: int, then_url: str) -> str:
    """Ring-back before the queue: an unanswered ``<Pause>``, then routing again."""
    response = VoiceResponse()
    response.pause(length=seconds)
    response.redirect(then_url)
    return str(response)


def announcement(kind: str, *, position: int, expected_seconds: int, leave_key: str
                 ) -> list[str]:
    """What is said when an announcement is due (``kind``: position, wait or both)."""
    lines = []
    if kind in ("position", "both") and position > 0:
        lines.append(POSITION.format(position=position))
    if kind in ("wait", "both") and expected_seconds > 0:
        lines.append(EXPECTED.format(minutes=max(1, -(-expected_seconds // 60))))
    if leave_key:
        lines.append(LEAVE_HINT.format(key=KEY_NAMES.get(leave_key, leave_key)))
    return lines


def wait_document(*, lines: Sequence[str], music: str, pause_seconds: int, leave_key: str,
                  key_url: str, speaker: Speaker) -> str:
    """One loop of the waitUrl: announcement lines, then music (or message and pause)."""
    response = VoiceResponse()
    target: VoiceResponse | Gather = response
    if leave_key:
        # finishOnKey="" so that "#" and "*" count as keys; timeout 1: the loop goes on.
        target = response.gather(num_digits=1, action=key_url, timeout=1, finish_on_key="")
    for line in lines:
        _say(target, line, speaker)
    if music:
        target.play(music)
    else:
        if not lines:
            _say(target, WAIT_MESSAGE, speaker)
        target.pause(length=max(1, min(pause_seconds, MAX_PAUSE_SECONDS)))
    return str(response)


def leave() -> str:
    """Out of the queue: Twilio requests the ``<Enqueue action>`` (``QueueResult=leave``)."""
    response = VoiceResponse()
    response.leave()
    return str(response)


def whisper(text: str, speaker: Speaker) -> str:
    """Said to the agent only, after they answer and before the caller is connected."""
    response = VoiceResponse()
    _say(response, text, speaker)
    return str(response)


def whisper_text(template: str, group_label: str) -> str:
    """The group's ``whisper`` with ``{group}`` replaced by its display name."""
    return template.replace("{group}", group_label).strip()
