"""Which outbound calls Twilio in Japan can place (SPEC CF-12), as one table of data.

Twilio's Japanese numbers (050, 0800 and 0120) cannot reach:

* 0AB0 special-service numbers: 0130, 0140, 0150, 0160, 0170, 0180, 0190, 0570 (ナビダイヤル),
  0910, 0990;
* three-digit 1XY numbers other than 177 — emergency numbers 110, 118 and 119 included;
* ``#ABCD`` numbers;
* the carriers' own free numbers written with 00 (0037-6…, 0066-…, 0088-…, 0077-…): dialled
  in Japan through a carrier-selection code, they would go to Twilio as ``+8100…``, a number
  no route carries;
* and, from 050 numbers only, free-dial numbers (0120, 0800).

**Policy.** The first four refusals apply whatever the caller ID is (a geographic 03 number,
a foreign number …): the calls go out through Twilio Japan, which cannot route those
destinations, so refusing early with a clear message beats a failed call. Calls from 050 to
Twilio-issued 0120/0800 numbers do connect, but there is no way to tell those numbers apart, so
every 0120/0800 destination is refused from 050. Calls abroad are refused unless the
destination's region is in ``allowed_countries`` (SP-2: domestic numbers by default).

**Caller-ID prefixes** (``184`` withhold, ``186`` present; :func:`voice.numbering.parse_outbound`)
are judged after the number itself, by :data:`CALLER_ID_PREFIX_REFUSALS`. Twilio's ``<Number>``
takes only an E.164 number, so a prefix cannot be dialled as digits, and ``<Dial>`` documents
no attribute that withholds the caller ID (UNVERIFIED: absent from the docs, not confirmed by
Twilio): ``184`` calls are refused with that reason rather than placed with the number shown.
``186`` asks for what every call from a Twilio number does anyway, so the number is dialled
without it. docs/numbering.md ("184 and 186") has the sources; if Twilio turns out to carry
withholding, drop the ``184`` row and send what it needs in :func:`voice.twiml.dial_number`.

To change the rules, edit :data:`OUTBOUND_RULES` (or pass your own table to
:func:`check_outbound`); each row is one refusal with its code and messages. Messages are
meant both for the softphone and for text-to-speech to the agent, so they are short and polite.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import phonenumbers
from phonenumbers import geocoder

from voice.numbering import (
    Destination,
    NumberError,
    NumberKind,
    classify,
    national_digits,
    national_format,
)

__all__ = [
    "ALLOWED",
    "CALLER_ID_PREFIX_REFUSALS",
    "INTERNATIONAL_MESSAGES",
    "OUTBOUND_RULES",
    "OutboundRule",
    "Verdict",
    "check_caller_id_prefix",
    "check_outbound",
]


@dataclass(frozen=True)
class Verdict:
    """The answer to "may this caller ID dial this destination?".

    Attributes:
        allowed: Whether the call may be placed.
        code: ``ok``, or the stable code of the refusal (see :data:`OUTBOUND_RULES`,
            ``international_not_allowed``, ``invalid_caller_id``, ``invalid_destination``).
        message_ja: Japanese message for the softphone and text-to-speech.
        message_en: English message.
    """

    allowed: bool
    code: str
    message_ja: str
    message_en: str


ALLOWED = Verdict(True, "ok", "発信できます。", "The call can be placed.")


@dataclass(frozen=True)
class OutboundRule:
    """One refusal of the outbound table.

    A rule applies when the destination's kind is in ``destinations``, the caller ID's kind is in
    ``callers`` (``None``: any caller ID), the destination's dial string is in ``only`` (when
    given) and not in ``exempt``. Messages may use ``{caller_ja}``/``{caller_en}`` (「050番号」,
    "a 050 number"), ``{dial}`` (the number as displayed) and ``{prefix}`` (``0180``).
    """

    code: str
    destinations: frozenset[NumberKind]
    message_ja: str
    message_en: str
    callers: frozenset[NumberKind] | None = None
    only: frozenset[str] | None = None
    exempt: frozenset[str] = frozenset()

    def applies(self, caller: NumberKind, destination: Destination) -> bool:
        """Whether this rule refuses a call from a ``caller`` kind to ``destination``."""
        return (
            destination.kind in self.destinations
            and (self.callers is None or caller in self.callers)
            and (self.only is None or destination.dial_string in self.only)
            and destination.dial_string not in self.exempt
        )


#: The CF-12 refusals, checked in order; the first rule that applies decides.
OUTBOUND_RULES: tuple[OutboundRule, ...] = (
    OutboundRule(
        code="forbidden_emergency",
        destinations=frozenset({NumberKind.SHORT_1XY}),
        only=frozenset({"110", "118", "119"}),
        message_ja="この電話から緊急通報（{dial}番）はできません。固定電話か携帯電話からおかけください。",
        message_en="Emergency calls ({dial}) cannot be made from this phone. "
        "Please use a landline or a mobile phone.",
    ),
    OutboundRule(
        code="forbidden_short_code",
        destinations=frozenset({NumberKind.SHORT_1XY}),
        exempt=frozenset({"177"}),
        message_ja="{caller_ja}から{dial}には発信できません。3桁の特番は177（天気予報）のみ発信できます。",
        message_en="Calls from {caller_en} to {dial} are not possible. Of the three-digit "
        "service numbers only 177 (weather forecast) can be called.",
    ),
    OutboundRule(
        code="forbidden_hash_code",
        destinations=frozenset({NumberKind.HASH_ABCD}),
        message_ja="{caller_ja}から「#」で始まる番号（{dial}）には発信できません。",
        message_en="Calls from {caller_en} to # numbers ({dial}) are not possible.",
    ),
    OutboundRule(
        code="forbidden_navi_dial",
        destinations=frozenset({NumberKind.NAVI_DIAL}),
        message_ja="{caller_ja}からナビダイヤル（0570）には発信できません。",
        message_en="Calls from {caller_en} to Navi Dial (0570) numbers are not possible.",
    ),
    OutboundRule(
        code="forbidden_0ab0",
        destinations=frozenset({NumberKind.SPECIAL_0AB0}),
        message_ja="{caller_ja}から{prefix}で始まる番号には発信できません。",
        message_en="Calls from {caller_en} to numbers starting with {prefix} are not possible.",
    ),
    OutboundRule(
        code="forbidden_carrier_free_dial",
        destinations=frozenset({NumberKind.CARRIER_FREE_DIAL}),
        message_ja="{prefix}で始まる電話会社のフリーダイヤル（{dial}）には、この電話から発信"
        "できません。0120か0800の番号があればそちらにおかけください。",
        message_en="Carrier free numbers starting with {prefix} ({dial}) cannot be called from "
        "this phone. Please call a 0120 or 0800 number instead if there is one.",
    ),
    OutboundRule(
        code="forbidden_freephone_from_050",
        destinations=frozenset({NumberKind.FREE_DIAL}),
        callers=frozenset({NumberKind.IP_PHONE}),
        message_ja="050番号からフリーダイヤル（{prefix}）には発信できません。"
        "別の発信者番号を選んでください。",
        message_en="Calls from a 050 number to free-dial numbers ({prefix}) are not possible. "
        "Please choose another caller ID.",
    ),
)

_CALLER_LABELS: Mapping[NumberKind, tuple[str, str]] = MappingProxyType(
    {
        NumberKind.IP_PHONE: ("050番号", "a 050 number"),
        NumberKind.FREE_DIAL: ("フリーダイヤル番号", "a free-dial number"),
    }
)
_OTHER_CALLER = ("この発信者番号", "this caller ID")

#: Refusal of a destination abroad; ``{country}`` is the country's name in the message language.
INTERNATIONAL_MESSAGES = (
    "海外（{country}）への発信は許可されていません。管理者にお問い合わせください。",
    "Calls abroad ({country}) are not allowed. Please ask your administrator.",
)

#: Caller-ID prefixes Twilio cannot honour, each with its refusal; ``{caller}`` is the caller ID
#: the call would show (03-1234-5678). A prefix not listed is allowed and left out of the dial.
CALLER_ID_PREFIX_REFUSALS: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        "184": (
            "caller_id_withholding_unsupported",
            "184（非通知）を付けた発信はできません。この電話では発信者番号を非通知にできません。"
            "184を付けずにおかけください（相手には{caller}が表示されます）。",
            "Calls with 184 (caller ID withheld) are not possible: this phone cannot withhold "
            "the caller ID. Dial the number without 184 (the other party will see {caller}).",
        ),
    }
)

_INVALID_CALLER = Verdict(
    False,
    "invalid_caller_id",
    "発信者番号が正しくありません。設定をご確認ください。",
    "The caller ID is not a valid phone number. Please check the settings.",
)
_INVALID_DESTINATION = Verdict(
    False,
    "invalid_destination",
    "発信先の番号が正しくありません。番号をご確認ください。",
    "The destination is not a valid phone number. Please check it.",
)


def check_outbound(
    caller_id: str,
    destination: Destination,
    *,
    allowed_countries: Collection[str] = (),
    rules: Sequence[OutboundRule] = OUTBOUND_RULES,
    prefix_refusals: Mapping[str, tuple[str, str, str]] = CALLER_ID_PREFIX_REFUSALS,
) -> Verdict:
    """Decide whether ``caller_id`` may dial ``destination``; see the module docstring.

    Args:
        caller_id: The caller ID the call would go out with, in any form ``normalize`` accepts.
        destination: From :func:`voice.numbering.parse_outbound` (or ``parse_destination``).
        allowed_countries: ISO regions (``"US"``) that may be called abroad, case-insensitive.
        rules: The refusal table; :data:`OUTBOUND_RULES` unless a deployment changes it.
        prefix_refusals: Caller-ID prefixes refused once the number itself may be dialled;
            pass ``{}`` to judge the number alone (and call :func:`check_caller_id_prefix`
            later, e.g. after the restriction list).

    Returns:
        :data:`ALLOWED`, or a refusal with its code and messages.
    """
    verdict = _check_number(caller_id, destination, allowed_countries, rules)
    if not verdict.allowed:
        return verdict
    return check_caller_id_prefix(caller_id, destination, prefix_refusals)


def check_caller_id_prefix(
    caller_id: str,
    destination: Destination,
    refusals: Mapping[str, tuple[str, str, str]] = CALLER_ID_PREFIX_REFUSALS,
) -> Verdict:
    """Whether the destination's caller-ID prefix (184/186) can be honoured; see the module
    docstring. A destination without a prefix is always :data:`ALLOWED`."""
    refusal = refusals.get(destination.caller_id_prefix)
    if refusal is None:
        return ALLOWED
    code, message_ja, message_en = refusal
    try:
        shown = national_format(caller_id)
    except NumberError:
        shown = caller_id
    return Verdict(False, code, message_ja.format(caller=shown), message_en.format(caller=shown))


def _check_number(caller_id: str, destination: Destination, allowed_countries: Collection[str],
                  rules: Sequence[OutboundRule]) -> Verdict:
    caller_kind = classify(caller_id)
    if caller_kind in (NumberKind.UNKNOWN, NumberKind.SHORT_1XY, NumberKind.HASH_ABCD):
        return _INVALID_CALLER
    if destination.kind is NumberKind.UNKNOWN:
        return _INVALID_DESTINATION
    if destination.kind is NumberKind.INTERNATIONAL:
        return _check_abroad(destination, allowed_countries)
    for rule in rules:
        if rule.applies(caller_kind, destination):
            return _refusal(rule, caller_kind, destination)
    return ALLOWED


def _refusal(rule: OutboundRule, caller: NumberKind, destination: Destination) -> Verdict:
    caller_ja, caller_en = _CALLER_LABELS.get(caller, _OTHER_CALLER)
    prefix = national_digits(destination.e164)[:4] if destination.e164 else destination.dial_string
    fields = {
        "caller_ja": caller_ja,
        "caller_en": caller_en,
        "dial": destination.display,
        "prefix": prefix,
    }
    return Verdict(
        False, rule.code, rule.message_ja.format(**fields), rule.message_en.format(**fields)
    )


def _check_abroad(destination: Destination, allowed_countries: Collection[str]) -> Verdict:
    region = destination.region
    if region is not None and region.upper() in {c.upper() for c in allowed_countries}:
        return ALLOWED
    message_ja, message_en = INTERNATIONAL_MESSAGES
    return Verdict(
        False,
        "international_not_allowed",
        message_ja.format(country=_country_name(destination, "ja")),
        message_en.format(country=_country_name(destination, "en")),
    )


def _country_name(destination: Destination, language: str) -> str:
    """The country's name from phonenumbers' geocoding data, else its calling code."""
    if not destination.e164:
        return destination.region or "?"
    number = phonenumbers.parse(destination.e164)
    return geocoder.country_name_for_number(number, language) or f"+{number.country_code}"
