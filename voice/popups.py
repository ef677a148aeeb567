"""Per-number pop-up URLs (SPEC HT-2, CF-1): the page the softphone opens when a call on one of
our numbers rings, and when it is answered.

An admin writes ``https://crm.example.jp/search?num=@@@@``; ``@@@@`` (four at signs) becomes
the caller's number, URL-encoded: national digits for Japanese numbers (``0312345678``, what
Japanese CRMs store), E.164 for others (``%2B12125550100``), empty when the number is withheld.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from .numbering import NumberError, national_digits

__all__ = ["MARKER", "MAX_URL_LENGTH", "caller_value", "popup_problem", "render_popup"]

MARKER = "@@@@"
#: The column's size; a longer URL is refused on save rather than cut.
MAX_URL_LENGTH = 1000


def popup_problem(url: str) -> str:
    """Why ``url`` cannot be a pop-up URL ("" when it can; "" is also "no pop-up")."""
    if not url:
        return ""
    if len(url) > MAX_URL_LENGTH:
        return f"at most {MAX_URL_LENGTH} characters"
    if any(c.isspace() for c in url):
        return "no spaces or line breaks; write them URL-encoded (%20)"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "an http:// or https:// URL is required, e.g. https://crm.example.jp/?num=@@@@"
    if MARKER in parts.netloc:
        return "@@@@ may stand in the path or the query, not in the host"
    return ""


def caller_value(caller_e164: str) -> str:
    """The caller's number as ``@@@@`` becomes, before URL-encoding."""
    if not caller_e164:
        return ""
    if caller_e164.startswith("+81"):
        try:
            return national_digits(caller_e164)
        except NumberError:
            return caller_e164
    return caller_e164


def render_popup(url: str, caller_e164: str) -> str:
    """``url`` with every ``@@@@`` replaced by the caller's URL-encoded number."""
    return url.replace(MARKER, quote(caller_value(caller_e164), safe=""))
