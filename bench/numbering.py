"""Throughput of voice.numbering's hot paths: normalize() and mask_text().

Run with ``.venv/bin/python bench/numbering.py``. Prints operations per second; no assertions
(speed targets are read by people, not enforced by tests).
"""

from __future__ import annotations

import timeit

from voice.numbering import mask_text, normalize

NUMBERS = [
    "+81312345678",
    "03-1234-5678",
    "０９０－１２３４－５６７８",
    "+81 (0)3-1234-5678",
    "010-1-212-555-1234",
]
LOG_LINES = [
    "POST /voice/incoming 200 CallSid=CA0123456789abcdef0123456789abcdef",
    "incoming call From=+81312345678 To=+815012345678 CallStatus=ringing",
    "2026-11-21T06:59:06.123+09:00 worker 3 finished job calllog:CA0123456789abcdef0123456789ab",
    "CRM lookup for 03-1234-5678 matched 2 records in 41 ms",
    "queue depth 4, agents available 2, longest wait 37 s",
    "no digits in this record at all, just words about the softphone",
]


def _rate(function, inputs: list[str], repeat: int) -> float:
    def run() -> None:
        for item in inputs:
            function(item)

    seconds = min(timeit.repeat(run, number=repeat, repeat=3))
    return len(inputs) * repeat / seconds


def main() -> None:
    print(f"normalize : {_rate(normalize, NUMBERS, 2_000):>10,.0f} numbers/s")
    print(f"mask_text : {_rate(mask_text, LOG_LINES, 5_000):>10,.0f} log records/s")
    long_line = " ".join(LOG_LINES) * 4
    print(
        f"mask_text : {_rate(mask_text, [long_line], 2_000):>10,.0f} records/s "
        f"({len(long_line)} characters each)"
    )


if __name__ == "__main__":
    main()
