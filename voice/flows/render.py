"""The TwiML of a flow step (:class:`voice.flows.engine.Result`) — pure builders.

Announcements are ``<Say>`` with the node's (or flow's, or deployment's) Japanese voice and
``language="ja-JP"``; ``<break time="…"/>`` in a text becomes an SSML ``<break>`` inside the
``<Say>``. Audio files are ``<Play>`` of a URL the caller of these builders signs. A menu is a
``<Gather numDigits="1" actionOnEmptyResult="true">`` around its prompt, so silence comes
back to the same webhook as a key press does (with no ``Digits``) and the retry logic stays
in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from twilio.twiml.voice_response import VoiceResponse

from voice.flows.engine import Gather, Prompt, Voicemail
from voice.twiml import MAX_RECORDING_SECONDS, VOICEMAIL_SILENCE_SECONDS, Speaker

AudioUrl = Callable[[str], str]
_BREAK = re.compile(r"<break\s+time=\"(\d{1,4}(?:ms|s))\"\s*/>")


def add_prompts(parent: object, prompts: Sequence[Prompt], speaker: Speaker,
                audio_url: AudioUrl) -> None:
    """Append ``<Say>``/``<Play>`` for each prompt to a response or a ``<Gather>``."""
    for prompt in prompts:
        if prompt.audio:
            parent.play(audio_url(prompt.audio), loop=prompt.loop)  # type: ignore[attr-defined]
            continue
        options: dict[str, object] = {"voice": prompt.voice or speaker.voice,
                                      "language": speaker.language}
        if prompt.loop != 1:
            options["loop"] = prompt.loop
        say = parent.say(**options)  # type: ignore[attr-defined]
        pieces = _BREAK.split(prompt.text)
        say.append(pieces[0])
        for index in range(1, len(pieces), 2):
            say.break_(time=pieces[index])
            if pieces[index + 1]:
                say.append(pieces[index + 1])


def gather(prompts: Sequence[Prompt], step: Gather, action: str, speaker: Speaker,
           audio_url: AudioUrl) -> str:
    """Announcements, then the menu waiting for one key (or words, with speech on)."""
    response = VoiceResponse()
    add_prompts(response, prompts, speaker, audio_url)
    options: dict[str, object] = {"action": action, "method": "POST", "num_digits": 1,
                                  "timeout": step.timeout, "action_on_empty_result": True,
                                  "input": "dtmf speech" if step.speech else "dtmf"}
    if step.speech:
        options["language"] = speaker.language
    element = response.gather(**options)
    add_prompts(element, [step.prompt], speaker, audio_url)
    return str(response)


def voicemail(prompts: Sequence[Prompt], step: Voicemail, *, action: str, recording: str,
              speaker: Speaker, audio_url: AudioUrl, default_greeting: str) -> str:
    """CF-7: greeting, beep, record until ``#`` or hang-up; ``action`` thanks the caller."""
    response = VoiceResponse()
    greeting = step.greeting or Prompt(text=default_greeting)
    add_prompts(response, [*prompts, greeting], speaker, audio_url)
    response.record(action=action, finish_on_key="#",
                    max_length=min(step.max_seconds, MAX_RECORDING_SECONDS), play_beep=True,
                    recording_status_callback=recording, timeout=VOICEMAIL_SILENCE_SECONDS)
    response.hangup()
    return str(response)


def hang_up(prompts: Sequence[Prompt], speaker: Speaker, audio_url: AudioUrl) -> str:
    response = VoiceResponse()
    add_prompts(response, prompts, speaker, audio_url)
    response.hangup()
    return str(response)


def before(document: str, prompts: Sequence[Prompt], speaker: Speaker,
           audio_url: AudioUrl) -> str:
    """``document`` (a whole TwiML response) with ``prompts`` played first."""
    if not prompts:
        return document
    head = VoiceResponse()
    add_prompts(head, prompts, speaker, audio_url)
    inner = str(head).split("<Response>", 1)[1].rsplit("</Response>", 1)[0]
    if "<Response />" in document:
        return document.replace("<Response />", f"<Response>{inner}</Response>", 1)
    return document.replace("<Response>", "<Response>" + inner, 1)
