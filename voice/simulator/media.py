"""How long things take to hear: text-to-speech, audio files, tones.

The simulator never produces audio; it estimates durations so that timeouts, queue times and
call durations come out plausible. Japanese text is timed per character (kana and kanji are
each roughly one mora), other text per word. The rates are estimates (see ``facts``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from voice.simulator import facts

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_PAUSE_MARKS = re.compile(r"[、。，．,.!?！？;；:]")


def say_seconds(text: str, language: str = "") -> float:
    """Estimated speaking time of ``text`` (one loop)."""
    japanese = len(_JAPANESE.findall(text))
    rest = _JAPANESE.sub(" ", text)
    words = len(re.findall(r"[A-Za-z0-9]+", rest))
    pauses = len(_PAUSE_MARKS.findall(text)) * 0.3
    seconds = japanese / facts.JAPANESE_CHARS_PER_SECOND + words / facts.WORDS_PER_SECOND
    return max(facts.SAY_MIN_SECONDS, round(seconds + pauses, 2))


def play_seconds(url: str, durations: Mapping[str, float]) -> float:
    """The length of an audio file: from the simulator's table (by URL or by its last path
    segment), else a default."""
    if url in durations:
        return durations[url]
    name = url.rsplit("/", 1)[-1]
    return durations.get(name, facts.PLAY_DEFAULT_SECONDS)


def digits_seconds(digits: str) -> float:
    """Time to play DTMF ``digits`` (``w`` waits half a second, ``W`` a second)."""
    return sum(1.0 if d == "W" else facts.PLAY_DIGIT_SECONDS for d in digits)
