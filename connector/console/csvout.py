"""CSV that Japanese users can open in Excel, and that cannot carry a live formula.

UTF-8 with a BOM by default (Excel then reads 漢字 correctly); Shift_JIS (CP932, Windows' table)
on request, where characters CP932 lacks become "?" rather than failing the download. A cell
whose text starts with ``= + - @`` (or a tab / carriage return, which Excel strips first) gets a
leading apostrophe — the usual neutralisation of spreadsheet formula injection (OWASP). That
includes ``+81…`` phone numbers, which Excel would otherwise turn into 8.19E+11. Only values
that are numbers in Python (``int``/``float``, the figures we compute) are written as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

ENCODINGS = {"utf-8": "utf-8-sig", "cp932": "cp932"}
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_DANGEROUS) else text


def encode_csv(header: Sequence[str], rows: Iterable[Sequence[Any]],
               encoding: str = "utf-8") -> bytes:
    """The whole file; ``encoding`` is ``utf-8`` (with BOM) or ``cp932``."""
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding: utf-8 or cp932, got {encoding!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return buffer.getvalue().encode(ENCODINGS[encoding], errors="replace")


def content_disposition(filename: str) -> str:
    """ASCII fallback plus RFC 5987 UTF-8 name, so Japanese file names survive."""
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
