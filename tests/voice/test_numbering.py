"""Normalisation, classification, destinations and display forms of Japanese numbers."""

import dataclasses

import pytest

from voice.numbering import (
    Destination,
    NumberError,
    NumberKind,
    classify,
    compact,
    digits_only,
    is_short_code,
    national_digits,
    national_format,
    normalize,
    parse_destination,
    parse_outbound,
    region_of,
    search_forms,
)

TOKYO = "+81312345678"
DASHES = ["-", "‐", "‑", "‒", "–", "—", "―", "−", "ー", "－", "ｰ"]


@pytest.mark.parametrize("dash", DASHES, ids=[f"U+{ord(d):04X}" for d in DASHES])
def test_every_dash_variant_separates_digits(dash):
    assert normalize(f"03{dash}1234{dash}5678") == TOKYO


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03-1234-5678", TOKYO),
        ("0312345678", TOKYO),
        ("  03-1234-5678  ", TOKYO),
        ("０３－１２３４－５６７８", TOKYO),  # full-width digits and dash
        ("０３ー１２３４ー５６７８", TOKYO),  # katakana prolonged sound mark as dash
        ("03 1234 5678", TOKYO),
        ("03\u30001234\u30005678", TOKYO),  # ideographic space
        ("03\t1234\u00a05678", TOKYO),
        ("03(1234)5678", TOKYO),
        ("(03) 1234-5678", TOKYO),
        ("（０３）１２３４－５６７８", TOKYO),  # full-width brackets
        ("03.1234.5678", TOKYO),
        ("+81312345678", TOKYO),
        ("+81 3-1234-5678", TOKYO),
        ("+81-3-1234-5678", TOKYO),
        ("＋８１３１２３４５６７８", TOKYO),
        ("+81 (0)3-1234-5678", TOKYO),  # trunk 0 in brackets
        ("+81（０）3-1234-5678", TOKYO),
        ("+81 03-1234-5678", TOKYO),  # trunk 0 written after the country code
        ("81312345678", TOKYO),  # international digits without +
        ("tel:+81-3-1234-5678", TOKYO),
        ("0081312345678", TOKYO),  # Japan's country code after the 00 international prefix
        ("0081-3-1234-5678", TOKYO),
        ("0081 (0)3-1234-5678", TOKYO),
        ("００８１－３－１２３４－５６７８", TOKYO),
        ("03・1234・5678", TOKYO),  # katakana middle dot as separator
        ("０３・１２３４・５６７８", TOKYO),
        ("03･1234･5678", TOKYO),  # its half-width form
        ("0081・90・1234・5678", "+819012345678"),
        ("TEL:+81312345678", TOKYO),
        ("tel:03-1234-5678;phone-context=+81", TOKYO),
        ("090-1234-5678", "+819012345678"),
        ("+81 90 1234 5678", "+819012345678"),
        ("0120-123-456", "+81120123456"),
        ("0800-123-4567", "+818001234567"),
        ("050-1234-5678", "+815012345678"),
        ("010-1-212-555-1234", "+12125551234"),  # Japanese international prefix
        ("010 44 20 7946 0018", "+442079460018"),
        ("+1 (212) 555-1234", "+12125551234"),
        ("0180-99-1234", "+81180991234"),  # 0AB0 block unknown to phonenumbers' metadata
    ],
)
def test_normalize_accepts_what_people_type(text, expected):
    assert normalize(text) == expected


def test_normalize_reads_national_numbers_in_the_given_region():
    assert normalize("(212) 555-1234", region="US") == "+12125551234"
    assert normalize("020 7946 0018", region="GB") == "+442079460018"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("－ー", "empty"),
        ("abc", "invalid_characters"),
        ("03-1234-567a", "invalid_characters"),
        ("03*1234*5678", "invalid_characters"),
        ("+81+312345678", "invalid_characters"),
        ("03-1234-5678 内線12", "invalid_characters"),
        ("0312", "too_short"),
        ("1", "too_short"),
        ("+81 3", "too_short"),
        ("0" * 65, "too_long"),
        ("+81 3 1234 5678 9012 3456", "too_long"),
        ("312345678", "missing_leading_zero"),
        ("9012345678", "missing_leading_zero"),
        ("177", "short_code"),
        ("#9999", "short_code"),
        ("+999 1234 5678", "invalid_country_code"),
        ("tel:+81312345678;ext=12", "extension_not_supported"),
        ("0312345670123", "too_long"),
        ("0100-12-3456", "invalid_number"),
    ],
)
def test_normalize_refuses_with_a_stable_code(text, code):
    with pytest.raises(NumberError) as caught:
        normalize(text)
    assert caught.value.code == code


def test_number_error_is_a_value_error_with_messages_and_no_number():
    with pytest.raises(ValueError) as caught:
        normalize("03-1234-567a")
    error = caught.value
    assert isinstance(error, NumberError)
    assert (
        error.message_ja
        == "電話番号に使えない文字が含まれています。数字・ハイフン・括弧・先頭の＋が使えます。"
    )
    assert error.message_en.startswith("The phone number contains characters")
    assert "1234" not in str(error)


CLASSIFY_CASES = [
    ("03-1234-5678", NumberKind.FIXED),
    ("06-6234-5678", NumberKind.FIXED),
    ("011-234-5678", NumberKind.FIXED),
    ("070-1234-5678", NumberKind.MOBILE),
    ("080-1234-5678", NumberKind.MOBILE),
    ("+819012345678", NumberKind.MOBILE),
    ("050-1234-5678", NumberKind.IP_PHONE),
    ("0120-123-456", NumberKind.FREE_DIAL),
    ("0800-123-4567", NumberKind.FREE_DIAL),
    ("0570-064-000", NumberKind.NAVI_DIAL),
    ("0130-123-456", NumberKind.SPECIAL_0AB0),
    ("0140-123-456", NumberKind.SPECIAL_0AB0),
    ("0150-123-456", NumberKind.SPECIAL_0AB0),
    ("0160-123-456", NumberKind.SPECIAL_0AB0),
    ("0170-123-456", NumberKind.SPECIAL_0AB0),
    ("0180-123-456", NumberKind.SPECIAL_0AB0),
    ("0190-123-456", NumberKind.SPECIAL_0AB0),
    ("0910-123-456", NumberKind.SPECIAL_0AB0),
    ("0990-123-456", NumberKind.SPECIAL_0AB0),
    ("020-1234-5678", NumberKind.M2M_PAGER),
    ("060-012-3456", NumberKind.PERSONAL),
    ("110", NumberKind.SHORT_1XY),
    ("117", NumberKind.SHORT_1XY),
    ("119", NumberKind.SHORT_1XY),
    ("１７７", NumberKind.SHORT_1XY),
    ("0037-6-12345", NumberKind.CARRIER_FREE_DIAL),  # carrier-selection free numbers
    ("0066-33-123456", NumberKind.CARRIER_FREE_DIAL),
    ("0088-22-1234", NumberKind.CARRIER_FREE_DIAL),
    ("#9999", NumberKind.HASH_ABCD),
    ("＃８０００", NumberKind.HASH_ABCD),
    ("+12125551234", NumberKind.INTERNATIONAL),
    ("+44 20 7946 0018", NumberKind.INTERNATIONAL),
    ("010-1-212-555-1234", NumberKind.INTERNATIONAL),
    ("abc", NumberKind.UNKNOWN),
    ("0312", NumberKind.UNKNOWN),
    ("#99", NumberKind.UNKNOWN),
    ("", NumberKind.UNKNOWN),
]


@pytest.mark.parametrize(("text", "kind"), CLASSIFY_CASES)
def test_classify(text, kind):
    assert classify(text) is kind


def test_classify_table_covers_every_kind():
    assert {kind for _, kind in CLASSIFY_CASES} == set(NumberKind)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("177", Destination(NumberKind.SHORT_1XY, None, "177", "177")),
        ("１１０", Destination(NumberKind.SHORT_1XY, None, "110", "110")),
        ("＃９９９９", Destination(NumberKind.HASH_ABCD, None, "#9999", "#9999")),
        ("0312345678", Destination(NumberKind.FIXED, TOKYO, TOKYO, "03-1234-5678")),
        (
            "+81 90 1234 5678",
            Destination(NumberKind.MOBILE, "+819012345678", "+819012345678", "090-1234-5678"),
        ),
        (
            "0120123456",
            Destination(NumberKind.FREE_DIAL, "+81120123456", "+81120123456", "0120-123-456"),
        ),
        (
            "0180-99-1234",
            Destination(NumberKind.SPECIAL_0AB0, "+81180991234", "+81180991234", "0180-991-234"),
        ),
        (
            "010-1-212-555-1234",
            Destination(
                NumberKind.INTERNATIONAL, "+12125551234", "+12125551234", "+1 212-555-1234"
            ),
        ),
    ],
)
def test_parse_destination(text, expected):
    assert parse_destination(text) == expected


@pytest.mark.parametrize(
    ("text", "code"), [("", "empty"), ("12", "too_short"), ("a1", "invalid_characters")]
)
def test_parse_destination_refuses_non_numbers(text, code):
    with pytest.raises(NumberError) as caught:
        parse_destination(text)
    assert caught.value.code == code


def test_destination_is_frozen_and_knows_its_region():
    destination = parse_destination("+1 212 555 1234")
    with pytest.raises(dataclasses.FrozenInstanceError):
        destination.dial_string = "+81312345678"  # type: ignore[misc]
    assert destination.region == "US"
    assert parse_destination("177").region is None
    assert region_of("03-1234-5678") == "JP"
    assert region_of("not a number") is None


@pytest.mark.parametrize(
    ("number", "national", "digits"),
    [
        (TOKYO, "03-1234-5678", "0312345678"),
        ("+819012345678", "090-1234-5678", "09012345678"),
        ("+81120123456", "0120-123-456", "0120123456"),
        ("+81570064000", "0570-064-000", "0570064000"),
        ("+81910123456", "0910-123-456", "0910123456"),
        ("+12125551234", "(212) 555-1234", "2125551234"),
    ],
)
def test_national_forms(number, national, digits):
    assert national_format(number) == national
    assert national_digits(number) == digits


def test_search_forms_lists_every_stored_form_once_in_a_stable_order():
    assert search_forms("03-1234-5678") == [TOKYO, "0312345678", "03-1234-5678", "81312345678"]
    assert search_forms("+12125551234") == [
        "+12125551234",
        "2125551234",
        "(212) 555-1234",
        "12125551234",
    ]


def test_forms_refuse_invalid_numbers():
    for function in (national_format, national_digits, search_forms):
        with pytest.raises(NumberError):
            function("0312")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("＋８１ (3) 1234-5678", "81312345678"), ("０９０ー１２", "09012"), ("abc", ""), ("", "")],
)
def test_digits_only(text, expected):
    assert digits_only(text) == expected


def test_compact_and_short_codes():
    assert compact(" ＋８１ (0)３－１２３４－５６７８ ") == "+81312345678"
    assert is_short_code("１７７") and is_short_code("#9999")
    assert not is_short_code("1777") and not is_short_code("tel:;ext=1")


# --- caller-ID prefixes (184 / 186) on outbound numbers ----------------------------------------

@pytest.mark.parametrize(("text", "prefix", "e164"), [
    ("184-03-1234-5678", "184", "+81312345678"),
    ("１８６０９０１２３４５６７８", "186", "+819012345678"),
    ("186 +81 3-1234-5678", "186", "+81312345678"),
    ("tel:184-0312345678", "184", "+81312345678"),
    ("03-1234-5678", "", "+81312345678"),
])
def test_parse_outbound_keeps_the_caller_id_prefix_apart(text, prefix, e164):
    destination = parse_outbound(text)
    assert (destination.caller_id_prefix, destination.e164, destination.dial_string) == (
        prefix, e164, e164)
    assert destination.display == national_format(e164)


def test_parse_outbound_judges_the_number_after_the_prefix():
    with pytest.raises(NumberError) as short:
        parse_outbound("184-03-1234")
    assert short.value.code == "too_short"
    assert parse_outbound("184110").dial_string == "110"
    alone = parse_outbound("184")  # a three-digit service number on its own
    assert (alone.kind, alone.caller_id_prefix) == (NumberKind.SHORT_1XY, "")


def test_other_parsers_still_refuse_prefixed_numbers():
    """Only numbers dialled out may carry a prefix; stored and incoming numbers may not."""
    with pytest.raises(NumberError):
        normalize("184-03-1234-5678")
    with pytest.raises(NumberError):
        parse_destination("1840312345678")


@pytest.mark.parametrize("text", ["0081", "0081-110", "0081-12-345", "0081-0081-3-1234-5678"])
def test_the_00_international_form_still_needs_a_valid_japanese_number(text):
    with pytest.raises(NumberError):
        normalize(text)


def test_a_carrier_free_number_keeps_its_own_digits():
    """00xx numbers have no trunk 0: their E.164 form is +8100… (which Twilio cannot reach)."""
    destination = parse_destination("0037-6-12345")
    assert destination.kind is NumberKind.CARRIER_FREE_DIAL
    assert destination.e164 == "+810037612345"
    assert parse_destination("0120-123-456").kind is NumberKind.FREE_DIAL
