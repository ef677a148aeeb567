"""Short URLs in SMS (SPEC SM-1): a long link costs a Japanese message one segment per 67
characters, so each web address in a text is replaced by ``<base>/s/<code>``, which redirects
to it and counts the click. Pure: the caller stores the codes and serves the redirects.

A URL is printable ASCII: it ends at whitespace, at characters a URL cannot hold (``<>"``)
and at the first non-ASCII character, so 「詳細はhttps://example.jp/a?b=1をご覧ください」 keeps
its sentence (an address with Japanese in it must be percent-encoded to be shortened whole).
Addresses already shorter than their short form stay as they are.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass

#: Characters of a code: unambiguous when read aloud or typed from a screen.
ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0OIl1")
#: 57**8 ≈ 1.1e14 codes: guessing one that exists is hopeless at any request rate.
CODE_LENGTH = 8
#: Where a link's address ends (besides whitespace).
_URL = re.compile(r"https?://[!#-;=?-~]+", re.IGNORECASE)
#: ASCII punctuation that closes a sentence rather than belonging to the address.
_TRAILING = ".,;:!?)]}'"


@dataclass(frozen=True)
class Link:
    code: str
    url: str


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def shorten(text: str, base: str, code: Callable[[], str] = new_code
            ) -> tuple[str, tuple[Link, ...]]:
    """``text`` with each long web address replaced by ``{base}/s/{code}``, and the links made
    (one per distinct address, in order of appearance)."""
    prefix = base.rstrip("/") + "/s/"
    made: dict[str, Link] = {}

    def replace(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            url, tail = url[:-1], url[-1] + tail
        if len(url) <= len(prefix) + CODE_LENGTH:
            return url + tail
        link = made.get(url) or made.setdefault(url, Link(code(), url))
        return prefix + link.code + tail

    return _URL.sub(replace, text), tuple(made.values())


def is_code(value: str) -> bool:
    return len(value) == CODE_LENGTH and all(c in ALPHABET for c in value)
