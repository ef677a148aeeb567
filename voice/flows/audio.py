"""Checks of uploaded announcement audio (SPEC AD-6), by content, not by file name.

Accepted: WAV (PCM 8/16-bit, μ-law, A-law or GSM 6.10 inside), MP3 and AIFF — what Twilio's
``<Play>`` plays — under 30 MB. The recommended form for the telephone is WAV 8 kHz mono
16-bit; anything else is accepted with a note saying it will be converted by Twilio.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: AD-6: files must be smaller than this.
MAX_BYTES = 30 * 1024 * 1024
_WAV_FORMATS = {1: "PCM", 6: "A-law", 7: "μ-law", 0x31: "GSM 6.10"}


class AudioError(ValueError):
    """An upload that cannot be played; the message says why."""


@dataclass(frozen=True)
class AudioInfo:
    content_type: str
    description: str  # e.g. "WAV PCM 8000 Hz mono 16-bit"
    recommended: bool  # WAV 8 kHz mono 16-bit


def inspect(data: bytes) -> AudioInfo:
    """What the upload is.

    Raises:
        AudioError: Empty, too large, or not WAV/MP3/AIFF (or a WAV Twilio cannot play).
    """
    if not data:
        raise AudioError("the file is empty")
    if len(data) >= MAX_BYTES:
        raise AudioError(f"the file is {len(data) / 1024 / 1024:.1f} MB; it must be under "
                         f"{MAX_BYTES // 1024 // 1024} MB")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav(data)
    if data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return AudioInfo("audio/aiff", "AIFF", False)
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return AudioInfo("audio/mpeg", "MP3", False)
    raise AudioError("not a WAV, MP3 or AIFF file (judged by its content, not its name)")


def _wav(data: bytes) -> AudioInfo:
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        if chunk == b"fmt ":
            if size < 16 or offset + 24 > len(data):
                break
            fmt, channels, rate = struct.unpack("<HHI", data[offset + 8:offset + 16])
            bits = struct.unpack("<H", data[offset + 22:offset + 24])[0]
            if fmt not in _WAV_FORMATS:
                raise AudioError(f"a WAV file in format {fmt:#x}, which Twilio cannot play; "
                                 "save it as PCM 8 kHz mono 16-bit")
            layout = "mono" if channels == 1 else f"{channels} channels"
            description = f"WAV {_WAV_FORMATS[fmt]} {rate} Hz {layout} {bits}-bit"
            recommended = fmt == 1 and rate == 8000 and channels == 1 and bits == 16
            return AudioInfo("audio/wav", description, recommended)
        offset += 8 + size + (size & 1)
    raise AudioError("a WAV file without a readable format chunk (damaged?)")


def check_name(name: str) -> str:
    """The name flows use for the file (``audio = "closed.wav"``)."""
    import re

    name = name.strip().rsplit("/", 1)[-1]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", name):
        raise AudioError(f"{name!r}: a file name needs letters, digits, . _ - only "
                         "(at most 100)")
    return name
