"""May this agent dial this number with this caller ID? (SPEC SP-2, SP-3, CF-9, CF-12)

One decision serves both the TwiML App webhook (the call is refused with a spoken Japanese
explanation) and ``POST /api/dial/check`` (the softphone shows the same message before
dialling). In order:

1. the destination must be a number or short code, optionally after a caller-ID prefix
   ``184``/``186`` (:func:`voice.numbering.parse_outbound`);
2. the caller ID must be one the agent may use — the requested one, else the agent's default;
3. the Japanese dialling rules (:func:`voice.dialing_rules.check_outbound`, countries from
   ``[voice] allowed_countries``), for the number after any prefix;
4. the restriction list (発信規制), for the number after any prefix;
5. the prefix itself (:func:`voice.dialing_rules.check_caller_id_prefix`: 184 is refused, 186
   is left out of the dial).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from voice import numbering
from voice.dialing_rules import check_caller_id_prefix, check_outbound
from voice.numbering import Destination, NumberError
from voice.twiml import MESSAGES

from . import numbers
from .runtime import VoiceRuntime

_CALLER_ID_MESSAGES = {
    "no_caller_id": (MESSAGES["outbound_no_caller_id"],
                     "No phone number is set up for your outgoing calls; ask your administrator."),
    "caller_id_not_allowed": (MESSAGES["outbound_caller_id_not_allowed"],
                              "You may not use this caller ID; choose another one."),
}
_RESTRICTED = (MESSAGES["outbound_restricted"],
               "Calls to this number are restricted; ask your administrator.")


@dataclass(frozen=True)
class DialDecision:
    """The answer, with the messages for the agent and what the call would use."""

    allowed: bool
    code: str
    message_ja: str
    message_en: str
    destination: Destination | None = None
    caller_id: str = ""

    def public(self) -> dict[str, Any]:
        destination = None
        if self.destination is not None:
            destination = {"e164": self.destination.e164, "display": self.destination.display,
                           "kind": self.destination.kind.value,
                           "caller_id_prefix": self.destination.caller_id_prefix or None}
        return {"allowed": self.allowed, "code": self.code, "message_ja": self.message_ja,
                "message_en": self.message_en, "destination": destination,
                "caller_id": self.caller_id or None}


def decide(conn: Connection, runtime: VoiceRuntime, agent_id: int, to: str,
           caller_id: str | None) -> DialDecision:
    """Decide an outgoing call of ``agent_id`` to ``to`` (as typed) from ``caller_id``."""
    try:
        destination = numbering.parse_outbound(to)
    except NumberError as exc:
        return DialDecision(False, exc.code, exc.message_ja, exc.message_en)
    chosen, problem = _caller_id(conn, agent_id, caller_id)
    if problem:
        message_ja, message_en = _CALLER_ID_MESSAGES[problem]
        return DialDecision(False, problem, message_ja, message_en, destination)
    verdict = check_outbound(chosen, destination, prefix_refusals={},
                             allowed_countries=runtime.settings.allowed_countries)
    if not verdict.allowed:
        return DialDecision(False, verdict.code, verdict.message_ja, verdict.message_en,
                            destination, chosen)
    if runtime.cache.refresh(conn).restrict.match(destination.dial_string) is not None:
        return DialDecision(False, "restricted", *_RESTRICTED, destination, chosen)
    verdict = check_caller_id_prefix(chosen, destination)
    if not verdict.allowed:
        return DialDecision(False, verdict.code, verdict.message_ja, verdict.message_en,
                            destination, chosen)
    return DialDecision(True, verdict.code, verdict.message_ja, verdict.message_en, destination,
                        chosen)


def _caller_id(conn: Connection, agent_id: int, requested: str | None) -> tuple[str, str]:
    allowed = numbers.caller_ids(conn, agent_id)
    if not allowed:
        return "", "no_caller_id"
    if not requested:
        return allowed[0].e164, ""  # the default comes first
    try:
        e164 = numbering.normalize(requested)
    except NumberError:
        return "", "caller_id_not_allowed"
    if e164 not in {c.e164 for c in allowed}:
        return "", "caller_id_not_allowed"
    return e164, ""
