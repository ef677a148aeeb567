"""Japanese phone numbers: normalisation, classification, display forms and log masking.

Every part of the connector that touches a phone number goes through this module: webhooks
(``From``/``To`` arrive in E.164), the softphone's dial pad (whatever the agent types or pastes),
CRM lookups (numbers stored as ``03-1234-5678``, ``0312345678``, ``+81312345678`` …) and logs.

Validity comes from ``phonenumbers`` (Google's libphonenumber metadata). The only numbers we
accept that its metadata does not know are the special-service 0AB0 blocks listed in
:data:`SPECIAL_0AB0_PREFIXES` (0170, 0180, 0910 …): they must be parsed so that the dialling
rules (:mod:`voice.dialing_rules`, SPEC CF-12) can refuse them with a specific reason instead of
a vague "invalid number".

Accepted input, for :func:`normalize` and :func:`parse_destination`:

* full-width digits ``０-９``, ``＋`` and ``＃``;
* every dash (``- ‐ ‑ ‒ – — ― − ー － ｰ``), spaces including U+3000, dots, the middle dots
  ``・ ･`` and brackets ``()（）``;
* ``+81 3-1234-5678``, ``+81 (0)3-1234-5678`` (trunk 0 in brackets), ``81312345678``, and the
  ``00`` international forms ``0081312345678`` / ``0081-3-1234-5678`` (read as ``+81``: no
  Japanese number begins with 0081);
* national ``03-1234-5678`` and the Japanese international prefix ``010-1-212-555-1234``;
* ``tel:`` URIs (RFC 3966; parameters are ignored, ``;ext=`` is refused).

Numbers dialled out (:func:`parse_outbound`) may also start with a caller-ID prefix, ``184``
(withhold the caller ID for this call) or ``186`` (present it): ``184-03-1234-5678``. The
prefix is kept apart from the number, which is checked and dialled on its own; what the prefix
may do through Twilio is decided in :mod:`voice.dialing_rules`.

Input without the trunk 0 (``312345678``, typical of a spreadsheet that stored the number as a
number) is refused with the code ``missing_leading_zero`` rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat, PhoneNumberType

__all__ = [
    "CALLER_ID_PREFIXES",
    "SPECIAL_0AB0_PREFIXES",
    "Destination",
    "NumberError",
    "NumberKind",
    "classify",
    "compact",
    "digits_only",
    "is_short_code",
    "mask",
    "mask_text",
    "national_digits",
    "national_format",
    "normalize",
    "parse_destination",
    "parse_outbound",
    "region_of",
    "search_forms",
]

#: National significant numbers (without the trunk 0) of the 0AB0 special-service blocks that
#: the dialling rules single out. phonenumbers knows 0990 (premium rate) but not the others,
#: so 10-digit numbers in these blocks are accepted here explicitly.
SPECIAL_0AB0_PREFIXES = ("130", "140", "150", "160", "170", "180", "190", "910", "990")

#: Dialled before a number in Japan: 184 withholds the caller ID for that call, 186 presents it.
CALLER_ID_PREFIXES = ("184", "186")

#: Longer input is refused before parsing; phonenumbers itself stops at 250 characters.
MAX_INPUT_LENGTH = 64

_MESSAGES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "empty": ("電話番号が入力されていません。", "No phone number was given."),
        "invalid_characters": (
            "電話番号に使えない文字が含まれています。数字・ハイフン・括弧・先頭の＋が使えます。",
            "The phone number contains characters that are not allowed; use digits, hyphens, "
            "brackets and a leading +.",
        ),
        "too_short": (
            "電話番号の桁数が足りません。市外局番から入力してください。",
            "The phone number is too short; include the area code.",
        ),
        "too_long": ("電話番号の桁数が多すぎます。", "The phone number is too long."),
        "invalid_number": (
            "有効な電話番号ではありません。番号をご確認ください。",
            "This is not a valid phone number; please check it.",
        ),
        "invalid_country_code": ("国番号が正しくありません。", "The country code is not valid."),
        "missing_leading_zero": (
            "先頭の0が抜けているようです（Excelで数値として保存すると0が消えます）。"
            "0から入力してください。",
            "The leading 0 seems to be missing (Excel drops it from numeric cells); "
            "enter the number starting with 0.",
        ),
        "extension_not_supported": (
            "内線番号付きの番号には対応していません。",
            "Numbers with an extension are not supported.",
        ),
        "short_code": (
            "3桁の特番や「#」で始まる番号は、ここでは使えません。",
            "Short codes (three-digit 1XY numbers and # numbers) cannot be used here.",
        ),
        "invalid_prefix": (
            "前方一致は「0」か「+」で始まる番号の後に「*」を付けてください（例: 0120*）。",
            "A prefix pattern is a number starting with 0 or + followed by * (e.g. 0120*).",
        ),
    }
)


class NumberError(ValueError):
    """A phone number that cannot be used, with a stable code and human messages.

    The messages never contain the number itself, so the exception is safe to log.

    Attributes:
        code: Stable machine code, one of ``empty``, ``invalid_characters``, ``too_short``,
            ``too_long``, ``invalid_number``, ``invalid_country_code``,
            ``missing_leading_zero``, ``extension_not_supported``, ``short_code``,
            ``invalid_prefix``.
        message_ja: Japanese message for the user.
        message_en: English message for the user.
    """

    def __init__(self, code: str) -> None:
        self.code = code
        self.message_ja, self.message_en = _MESSAGES[code]
        super().__init__(f"{code}: {self.message_en}")


class NumberKind(StrEnum):
    """What a number is, as far as Japanese numbering (and phonenumbers) tells reliably."""

    FIXED = "fixed"  # geographic 0ABJ numbers (03-…, 06-…, 011-…)
    MOBILE = "mobile"  # 070/080/090 (and 060 where the metadata says mobile)
    IP_PHONE = "ip_phone"  # 050
    FREE_DIAL = "free_dial"  # 0120, 0800
    CARRIER_FREE_DIAL = "carrier_free_dial"  # the carriers' 00xx free numbers (0037-6…, 0066-…)
    NAVI_DIAL = "navi_dial"  # 0570
    SPECIAL_0AB0 = "special_0ab0"  # 0130…0190, 0910, 0990
    M2M_PAGER = "m2m_pager"  # 020: phonenumbers says PAGER; the block is shared with M2M
    PERSONAL = "personal"  # 060 ten-digit FMC/UPT numbers (phonenumbers: PERSONAL_NUMBER)
    SHORT_1XY = "short_1xy"  # 110, 117, 119, 177 …
    HASH_ABCD = "hash_abcd"  # #9999
    INTERNATIONAL = "international"  # a valid number outside Japan
    UNKNOWN = "unknown"


_TYPE_TO_KIND: Mapping[int, NumberKind] = MappingProxyType(
    {
        PhoneNumberType.FIXED_LINE: NumberKind.FIXED,
        PhoneNumberType.MOBILE: NumberKind.MOBILE,
        PhoneNumberType.VOIP: NumberKind.IP_PHONE,
        PhoneNumberType.TOLL_FREE: NumberKind.FREE_DIAL,
        PhoneNumberType.UAN: NumberKind.NAVI_DIAL,
        PhoneNumberType.PREMIUM_RATE: NumberKind.SPECIAL_0AB0,
        PhoneNumberType.PAGER: NumberKind.M2M_PAGER,
        PhoneNumberType.PERSONAL_NUMBER: NumberKind.PERSONAL,
    }
)


@dataclass(frozen=True)
class Destination:
    """A number the agent wants to dial, ready for ``<Dial><Number>``.

    Attributes:
        kind: What the number is.
        e164: The E.164 form, or ``None`` for short codes (``177``, ``#9999``).
        dial_string: What goes into ``<Number>``: the E.164 form or the short code.
        display: ``03-1234-5678`` for Japanese numbers, ``+1 212-555-1234`` for others.
        caller_id_prefix: ``"184"`` or ``"186"`` when the agent dialled one before the number
            (:func:`parse_outbound` only), else ``""``. It is not part of ``dial_string``.
    """

    kind: NumberKind
    e164: str | None
    dial_string: str
    display: str
    caller_id_prefix: str = ""

    @property
    def region(self) -> str | None:
        """ISO region of the number (``"JP"``, ``"US"``), ``None`` for short codes."""
        return region_of(self.e164) if self.e164 else None


# --- cleaning ---------------------------------------------------------------------------------

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff70\u2043\ufe58\ufe63"
_SPACES = " \t\r\n\v\f\u00a0\u2002\u2003\u2009\u200b\u202f\u3000\ufeff"
_DOTS = ".\uff0e\u30fb\uff65"  # . ． ・ ･
_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９＋＃＊（）",
    "0123456789+#*()",
    _DASHES + _SPACES + _DOTS,
)
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_TRUNK_ZERO_IN_BRACKETS = re.compile(r"^\+(\d{1,3})\(0\)")
#: Japan's country code after the ``00`` international prefix most countries use (0081-3-…).
_JAPAN_AFTER_00 = re.compile(r"^0081(?=[(\d])")
_NUMBER_CHARS = re.compile(r"\+?\d+")
_SHORT_1XY = re.compile(r"1\d\d")
_HASH_ABCD = re.compile(r"#\d{4}")
_NON_DIGITS = re.compile(r"[^0-9]+")


def compact(text: str) -> str:
    """Map full-width characters to ASCII and drop separators, ``tel:`` and a trunk ``(0)``.

    ``"＋８１ (0)３－１２３４－５６７８"`` becomes ``"+81312345678"``. Characters that are not
    separators are kept, so callers can refuse them.

    Raises:
        NumberError: ``extension_not_supported`` for a ``tel:`` URI with ``;ext=``.
    """
    text = text.strip()
    if text[:4].lower() == "tel:":
        text, *params = text[4:].split(";")
        if any(p.strip().lower().startswith("ext=") for p in params):
            raise NumberError("extension_not_supported")
    text = text.translate(_FULLWIDTH)
    text = _JAPAN_AFTER_00.sub("+81", text)
    text = _TRUNK_ZERO_IN_BRACKETS.sub(r"+\1", text)
    return text.replace("(", "").replace(")", "")


def digits_only(text: str) -> str:
    """Return the digits of ``text`` (full-width digits included) and nothing else."""
    return _NON_DIGITS.sub("", text.translate(_FULLWIDTH_DIGITS))


def is_short_code(text: str) -> bool:
    """Whether ``text`` is a 1XY service number (``110``, ``177``) or a ``#ABCD`` number."""
    try:
        compacted = compact(text)
    except NumberError:
        return False
    return _short_kind(compacted) is not None


def _short_kind(compacted: str) -> NumberKind | None:
    if _SHORT_1XY.fullmatch(compacted):
        return NumberKind.SHORT_1XY
    if _HASH_ABCD.fullmatch(compacted):
        return NumberKind.HASH_ABCD
    return None


# --- parsing ----------------------------------------------------------------------------------

_PARSE_ERRORS: Mapping[int, str] = MappingProxyType(
    {
        NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
        NumberParseException.NOT_A_NUMBER: "too_short",
        NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
        NumberParseException.TOO_SHORT_NSN: "too_short",
        NumberParseException.TOO_LONG: "too_long",
    }
)
_IMPOSSIBLE: Mapping[int, str] = MappingProxyType(
    {
        phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
        phonenumbers.ValidationResult.TOO_SHORT: "too_short",
        phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too_short",
        phonenumbers.ValidationResult.TOO_LONG: "too_long",
    }
)


def _parse(text: str, region: str) -> PhoneNumber:
    """Parse and validate ``text``; the single door through which numbers enter."""
    if not text or not text.strip():
        raise NumberError("empty")
    if len(text) > MAX_INPUT_LENGTH:
        raise NumberError("too_long")
    region = region.upper()
    compacted = compact(text)
    if not compacted:
        raise NumberError("empty")
    if _short_kind(compacted):
        raise NumberError("short_code")
    if not _NUMBER_CHARS.fullmatch(compacted):
        raise NumberError("invalid_characters")
    if region == "JP" and not compacted.startswith(("+", "0", "81")):
        _refuse_missing_trunk_zero(compacted)
    try:
        parsed = phonenumbers.parse(compacted, region)
    except NumberParseException as exc:
        raise NumberError(_PARSE_ERRORS.get(exc.error_type, "invalid_number")) from None
    if phonenumbers.is_valid_number(parsed) or _is_special_0ab0(parsed):
        return parsed
    raise NumberError(_why_invalid(parsed))


def _why_invalid(parsed: PhoneNumber) -> str:
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    code = _IMPOSSIBLE.get(reason, "invalid_number")
    if code == "invalid_number" and parsed.country_code == 81:
        # Japan's metadata allows up to 17 digits (00xx free numbers), so judge the length
        # against ordinary numbers: 9 or 10 digits after the trunk 0.
        length = len(phonenumbers.national_significant_number(parsed))
        code = "too_long" if length > 10 else "too_short" if length < 9 else code
    return code


def _refuse_missing_trunk_zero(digits: str) -> None:
    """Japanese numbers are always written with their trunk 0; a missing one is an error."""
    try:
        with_zero = phonenumbers.parse("0" + digits, "JP")
    except NumberParseException:
        return
    if phonenumbers.is_valid_number(with_zero):
        raise NumberError("missing_leading_zero")


def _is_special_0ab0(parsed: PhoneNumber) -> bool:
    nsn = phonenumbers.national_significant_number(parsed)
    return parsed.country_code == 81 and len(nsn) == 9 and nsn[:3] in SPECIAL_0AB0_PREFIXES


def _e164(parsed: PhoneNumber) -> str:
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def _kind_of(parsed: PhoneNumber) -> NumberKind:
    if parsed.country_code != 81:
        return NumberKind.INTERNATIONAL
    if _is_special_0ab0(parsed):
        return NumberKind.SPECIAL_0AB0
    kind = _TYPE_TO_KIND.get(phonenumbers.number_type(parsed), NumberKind.UNKNOWN)
    if kind is NumberKind.FREE_DIAL and phonenumbers.national_significant_number(parsed)[:1] == "0":
        # 00xx: reached in Japan through a carrier-selection code, not an 0AB… number; in
        # E.164 it becomes +8100xx…, which no international route carries.
        return NumberKind.CARRIER_FREE_DIAL
    return kind


def _national(parsed: PhoneNumber) -> str:
    if _is_special_0ab0(parsed) and not phonenumbers.is_valid_number(parsed):
        # No metadata, hence no format: use the 0AB0-DEF-GHJ grouping of 0120/0570/0990.
        nsn = phonenumbers.national_significant_number(parsed)
        return f"0{nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
    return phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)


def _display(parsed: PhoneNumber) -> str:
    if parsed.country_code == 81:
        return _national(parsed)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)


# --- public API -------------------------------------------------------------------------------


def normalize(text: str, *, region: str = "JP") -> str:
    """Return the E.164 form (``+81312345678``) of a number typed, pasted or stored anywhere.

    Args:
        text: The number in any of the forms listed in the module docstring.
        region: ISO region for national numbers (numbers without ``+``/``010``).

    Raises:
        NumberError: The text is not a valid phone number; ``.code`` says why.
    """
    return _e164(_parse(text, region))


def classify(e164_or_short: str) -> NumberKind:
    """Classify an E.164 number, a short code or anything :func:`normalize` accepts.

    Never raises: input that is not a valid number is :attr:`NumberKind.UNKNOWN`.
    """
    try:
        compacted = compact(e164_or_short)
        return _short_kind(compacted) or _kind_of(_parse(compacted, "JP"))
    except NumberError:
        return NumberKind.UNKNOWN


def parse_destination(text: str, *, region: str = "JP") -> Destination:
    """Turn what an agent typed on the dial pad (or clicked in a CRM) into a :class:`Destination`.

    Short codes (``177``, ``#9999``) are kept as typed; everything else must be a valid number.
    Whether the call is *allowed* is decided by :func:`voice.dialing_rules.check_outbound`.

    Raises:
        NumberError: The text is neither a short code nor a valid number.
    """
    if not text or not text.strip():
        raise NumberError("empty")
    compacted = compact(text)
    short = _short_kind(compacted)
    if short is not None:
        return Destination(kind=short, e164=None, dial_string=compacted, display=compacted)
    parsed = _parse(text, region)
    e164 = _e164(parsed)
    return Destination(_kind_of(parsed), e164, e164, _display(parsed))


def parse_outbound(text: str, *, region: str = "JP") -> Destination:
    """Like :func:`parse_destination`, for a number an agent dials out: a leading caller-ID
    prefix (:data:`CALLER_ID_PREFIXES`, ``184-03-1234-5678``) is accepted and kept in
    :attr:`Destination.caller_id_prefix`; everything about the destination — its kind, the
    dialling rules and the restriction list — concerns the number after it.

    ``184`` and ``186`` on their own are three-digit service numbers, as typed.

    Raises:
        NumberError: The text (after the prefix) is neither a short code nor a valid number.
    """
    compacted = compact(text) if text and text.strip() else ""
    prefix, rest = compacted[:3], compacted[3:]
    if prefix in CALLER_ID_PREFIXES and rest:
        return replace(parse_destination(rest, region=region), caller_id_prefix=prefix)
    return parse_destination(text, region=region)


def region_of(number: str) -> str | None:
    """ISO region of a number (``"JP"``, ``"US"``; ``"001"`` for non-geographic), else ``None``."""
    try:
        return phonenumbers.region_code_for_number(_parse(number, "JP"))
    except NumberError:
        return None


def national_format(e164: str) -> str:
    """``+81312345678`` → ``03-1234-5678`` (the country's own national format for others).

    Raises:
        NumberError: ``e164`` is not a valid number.
    """
    return _national(_parse(e164, "JP"))


def national_digits(e164: str) -> str:
    """``+81312345678`` → ``0312345678``.

    Raises:
        NumberError: ``e164`` is not a valid number.
    """
    return digits_only(national_format(e164))


def search_forms(e164: str) -> list[str]:
    """The forms a CRM may have stored a number in, for exact-match lookups.

    In this order, without duplicates: E.164 (``+81312345678``), national digits
    (``0312345678``), national hyphenated (``03-1234-5678``) and international digits
    without ``+`` (``81312345678``).

    Raises:
        NumberError: ``e164`` is not a valid number.
    """
    parsed = _parse(e164, "JP")
    e164_form = _e164(parsed)
    national = _national(parsed)
    forms = (e164_form, digits_only(national), national, e164_form[1:])
    return list(dict.fromkeys(forms))


# --- masking ----------------------------------------------------------------------------------

_DIGIT_CHARS = frozenset("0123456789０１２３４５６７８９")


def mask(number: str) -> str:
    """Mask a phone number for logs, keeping separators, a short prefix and the last 2 digits.

    ``+81312345678`` → ``+813******78``; ``090-1234-5678`` → ``090-****-**78``. Numbers with 6
    to 9 digits keep only their last 2 digits, shorter ones are masked completely. Service
    codes (``110``, ``177``, ``#9999``) identify a public service, not a person, and are
    returned unchanged so refusals stay debuggable. Text without digits (``anonymous``) is
    returned as is.
    """
    if is_short_code(number):
        return number
    count = sum(1 for ch in number if ch in _DIGIT_CHARS)
    head, tail = (3, 2) if count >= 10 else (0, 2) if count >= 6 else (0, 0)
    out, seen = [], 0
    for ch in number:
        if ch in _DIGIT_CHARS:
            seen += 1
            if head < seen <= count - tail:
                ch = "*"
        out.append(ch)
    return "".join(out)


_D = "[0-9０-９]"
#: Separators inside a number: dashes, spaces, brackets — and in URLs and query strings (the
#: access log) ``+`` and ``%20`` for a space, ``%2D`` for a dash, ``%E3%83%BB`` for ``・``.
_ENCODED_SEPARATORS = ("%20", "%2D", "%2d", "%E3%80%80", "%E3%83%BB", "%EF%BD%A5")
_SEP = ("(?:[-‐‑‒–—―−ー－ｰ ()（）\u3000+・･]|%20|%2[Dd]|%E3%80%80|%E3%83%BB|%EF%BD%A5)")
_DOT = "[.．]"
_PHONE_LIKE = re.compile(
    # Not glued to a word, a number, a decimal point or a hyphenated ID (UUIDs, CallSids).
    r"(?<![0-9A-Za-z_０-９.\-])"
    r"(?:"
    rf"(?:[+＋]|%2[Bb]){_D}(?:{_SEP}{{0,2}}{_D}){{6,14}}"  # E.164, also URL-encoded
    rf"|[0０]{_D}(?:{_SEP}{{0,2}}{_D}){{8,9}}"  # national: 10 or 11 digits, trunk 0
    rf"|81{_SEP}{{0,2}}[1-9](?:{_SEP}{{0,2}}{_D}){{8,9}}"  # international digits without +
    # Dotted, in exactly three groups (``090.1234.5678``), so decimals and addresses stay.
    rf"|[0０]{_D}{{1,4}}{_DOT}{_D}{{1,4}}{_DOT}{_D}{{3,4}}(?!{_DOT}?{_D})"
    r")"
    r"(?![0-9A-Za-z_０-９])"
)
_ANY_DIGIT = re.compile(_D)
_ENCODED = re.compile("|".join(re.escape(e) for e in _ENCODED_SEPARATORS) + "|%2[Bb]")


def mask_text(text: str) -> str:
    """Mask every phone-number-like run in free text (one log record) with :func:`mask`.

    Caught: E.164 with or without separators (``+81312345678``, ``+81 (0)3-1234-5678``, and
    URL-encoded ``%2B81312345678`` as in query strings),
    national numbers of 10–11 digits starting with 0, with or without dashes, spaces,
    brackets or ``・`` (``03-1234-5678``, ``03(1234)5678``, ``09012345678``,
    ``090・1234・5678``), the same in full-width digits, international digits without ``+``
    starting with 81, with or without separators (``81312345678``, ``81-90-1234-5678``),
    dotted numbers in three groups (``090.1234.5678``), and all of these as URLs and query
    strings spell them: ``+`` or ``%20`` for a space, ``%2D``, ``%E3%83%BB`` (``・``).

    Not caught, by design: runs glued to letters, digits, ``.`` or ``-`` (so CallSids like
    ``CA`` + 32 hex, UUIDs, hex digests and decimals stay intact), ISO timestamps and port
    numbers (too few digits), foreign numbers written without ``+``, national numbers with
    their area code missing, and numbers split by more than two separator characters.
    """
    if _ANY_DIGIT.search(text) is None:
        return text
    return _PHONE_LIKE.sub(_mask_match, text)


def _mask_match(match: re.Match[str]) -> str:
    """Mask the digits of one match; the digits inside ``%xx`` escapes are not the number's."""
    found = match.group()
    if "%" not in found:
        return mask(found)
    escapes: list[str] = []

    def hold(escape: re.Match[str]) -> str:
        escapes.append(escape.group())
        return chr(0xE000 + len(escapes) - 1)  # a private-use stand-in, no digit

    held = _ENCODED.sub(hold, found)
    plus = held.startswith(chr(0xE000)) and escapes[0].upper() == "%2B"
    masked = mask(("+" + held[1:]) if plus else held)
    if plus:
        masked = chr(0xE000) + masked[1:]
    return "".join(escapes[ord(ch) - 0xE000] if 0xE000 <= ord(ch) < 0xE000 + len(escapes)
                   else ch for ch in masked)
