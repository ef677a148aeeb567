"""What the agent's browser learns about an incoming call: the ``<Client><Parameter>`` contract.

The softphone reads these from ``call.customParameters`` and pops the CRM record without
searching again (documented for the softphone in ``docs/voice.md``):

=======================  ===========================================================
``cti_parent_call_sid``  the call record's CallSid (the browser's own CallSid is the
                         child leg)
``cti_caller_number``    the caller's number for display (``090-1234-5678``, 「非通知」)
``cti_caller_e164``      the caller's number in E.164 (empty when withheld)
``cti_caller_name``      the best match's name, else empty
``cti_caller_company``   the best match's company, else empty
``cti_matches``          compact JSON list of ``{"adapter","id","type","name","url"}``,
                         best first, at most 5 — as many as fit (see below)
``cti_number_label``     the called line's name: our number's display name (端末表示名),
                         else its label, else the number
``cti_group``            the group's display name (its name when it has none), only when the
                         call came through a group
=======================  ===========================================================

Limits. Twilio's help centre ("Passing custom information via requests to Twilio",
article 115011213347) limits ``<Parameter>`` names to 32 bytes, values to 128 bytes and a
``<Dial>`` to 8 parameters — UNVERIFIED for the current Voice JS SDK 2.x, which documents only
an 800-byte limit for ``device.connect`` params (errors/31103). We keep to the stricter limits:
at most 8 parameters; every value fits in 128 bytes of UTF-8, cut at a character boundary with
"…" if needed; ``cti_matches`` keeps as many of the best matches as fit, then gives back each
one's ``url`` while it still fits; the complete list is on the call record
(``GET /api/calls/<cti_parent_call_sid>``, ``customer.matches``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["MAX_MATCHES", "MAX_PARAMETERS", "NAME_MAX_BYTES", "VALUE_MAX_BYTES", "CallerInfo",
           "Match", "client_parameters", "encode_matches", "fit_bytes"]

NAME_MAX_BYTES = 32  # UNVERIFIED for Voice JS SDK 2.x (see the module docstring)
VALUE_MAX_BYTES = 128  # UNVERIFIED for Voice JS SDK 2.x
MAX_PARAMETERS = 8  # UNVERIFIED for Voice JS SDK 2.x
MAX_MATCHES = 5
_ELLIPSIS = "…"


@dataclass(frozen=True)
class Match:
    """One CRM record that matches the caller, as the softphone receives it."""

    adapter: str
    id: str
    type: str = ""
    name: str = ""
    url: str = ""

    def compact(self, with_url: bool = True) -> dict[str, str]:
        data = {"adapter": self.adapter, "id": self.id, "type": self.type, "name": self.name}
        if with_url and self.url:
            data["url"] = self.url
        return data


@dataclass(frozen=True)
class CallerInfo:
    """Everything the contract carries for one ringing call."""

    parent_call_sid: str
    caller_number: str
    caller_e164: str
    caller_name: str = ""
    caller_company: str = ""
    matches: Sequence[Match] = ()
    number_label: str = ""
    group: str = ""


def fit_bytes(text: str, limit: int = VALUE_MAX_BYTES) -> str:
    """``text`` if its UTF-8 form fits in ``limit`` bytes, else cut at a character boundary
    with a trailing "…" (Japanese characters take 3 bytes each)."""
    if len(text.encode("utf-8")) <= limit:
        return text
    budget = limit - len(_ELLIPSIS.encode("utf-8"))
    cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return cut + _ELLIPSIS


def encode_matches(matches: Sequence[Match], limit: int = VALUE_MAX_BYTES) -> str:
    """Compact JSON of the best matches that fit in ``limit`` bytes, in order.

    As many matches as fit without URLs are kept (a best-first prefix: knowing that several
    records match matters more than a link); then each kept match gets its URL back, best
    first, while the list still fits.
    """
    kept = [m.compact(with_url=False) for m in matches[:MAX_MATCHES]]
    while kept and _size(kept) > limit:
        kept.pop()
    for index, match in enumerate(matches[:len(kept)]):
        with_url = [*kept[:index], match.compact(with_url=True), *kept[index + 1:]]
        if _size(with_url) <= limit:
            kept = with_url
    return _dumps(kept)


def client_parameters(info: CallerInfo) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs for ``<Client><Parameter>``, within Twilio's limits."""
    pairs = [
        ("cti_parent_call_sid", info.parent_call_sid),
        ("cti_caller_number", info.caller_number),
        ("cti_caller_e164", info.caller_e164),
        ("cti_caller_name", info.caller_name),
        ("cti_caller_company", info.caller_company),
        ("cti_matches", encode_matches(info.matches)),
        ("cti_number_label", info.number_label),
    ]
    if info.group:
        pairs.append(("cti_group", info.group))
    assert len(pairs) <= MAX_PARAMETERS
    return [(name, fit_bytes(value)) for name, value in pairs]


def _dumps(items: list[dict[str, str]]) -> str:
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


def _size(items: list[dict[str, str]]) -> int:
    return len(_dumps(items).encode("utf-8"))
