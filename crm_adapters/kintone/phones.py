"""The texts a phone number is commonly stored as in a kintone field, for exact-match lookups.

Why enumerate instead of searching: kintone's ``=`` on a text or link field is exact string
equality, and ``like`` is a *word* search (kintone splits text into words, and digit runs with
hyphens do not split where a caller's number would) — it can miss and it can over-match, and it
aborts past 100,000 hits. So a lookup asks for every way people write the same digits:
``03-1234-5678``, ``0312345678``, ``+81312345678``, ``+81 3-1234-5678``, ``03(1234)5678``...
Every candidate has exactly the caller's digits, so a hit is never a different number.

Japanese national numbers are ``0`` + 9 or 10 digits. Hyphens split them as
area code - local exchange - subscriber, and the area code has 1-4 digits after the ``0``, so for
10-digit numbers we try every split whose last group has four digits (plus ``0120-123-456``
style for free-dial and navi-dial), and for 11-digit numbers (mobile, IP, 0800) the two splits in
use. No area-code table is needed.

Not covered (use the local phone index, which normalises, or a digits-only shadow field):
full-width digits (``０３－…``), text around the number ("代表 03-..."), extension notes.
"""

from __future__ import annotations

import re

#: Splits (group lengths) of national numbers by length, most common first.
_SPLITS: dict[int, tuple[tuple[int, int, int], ...]] = {
    10: ((2, 4, 4), (3, 3, 4), (4, 2, 4), (5, 1, 4), (4, 3, 3)),
    11: ((3, 4, 4), (4, 3, 4)),
}

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def stored_variants(e164: str) -> list[str]:
    """Every common stored form of ``e164``, most likely first, without duplicates.

    Args:
        e164: a number in E.164 (``+81312345678``).

    Raises:
        ValueError: if ``e164`` is not E.164.
    """
    if not _E164.match(e164):
        raise ValueError(f"not an E.164 number: {e164!r}")
    if not e164.startswith("+81"):
        return _unique([e164, e164[1:]])
    national = "0" + e164[3:]
    variants = [national, e164]
    for a, b, c in _SPLITS.get(len(national), ()):
        area, local, line = national[:a], national[a:a + b], national[a + b:a + b + c]
        variants += [
            f"{area}-{local}-{line}",
            f"{area}({local}){line}",
            f"({area}){local}-{line}",
            f"{area} {local} {line}",
            f"+81 {area[1:]}-{local}-{line}",
        ]
    return _unique(variants)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
