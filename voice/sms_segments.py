"""How many SMS segments a text costs (SPEC SM-1: the 70-character rule agents are shown).

A text that fits the GSM 03.38 alphabet is sent in 7-bit characters: 160 per message, 153 per
segment once split (the rest of each segment carries the joining header); characters of the
alphabet's extension table (``^ { } \\ [ ~ ] | €``) count twice. Anything else — any Japanese
at all — is sent as UCS-2: 70 per message, 67 per segment once split, counted in UTF-16 units
(an emoji outside the BMP is two). Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7 = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    """What a text costs: ``units`` characters of ``encoding``, in ``count`` segments of at most
    ``per_segment`` each; ``remaining`` more fit before the next segment starts."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    count: int
    per_segment: int
    remaining: int

    def to_dict(self) -> dict[str, object]:
        return {"encoding": self.encoding, "characters": self.units, "segments": self.count,
                "per_segment": self.per_segment, "remaining": self.remaining}


def count(text: str) -> Segments:
    """The segments of ``text`` (an empty text is one segment with 70/160 left)."""
    if all(ch in GSM7 or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return Segments(encoding, units, 1, single, single - units)  # type: ignore[arg-type]
    segments = -(-units // multi)
    return Segments(encoding, units, segments, multi, segments * multi - units)  # type: ignore[arg-type]
