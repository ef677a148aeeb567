"""Properties of normalisation and masking over generated numbers and arbitrary text."""

import phonenumbers
from hypothesis import assume, given
from hypothesis import strategies as st

from voice.numbering import (
    NumberError,
    NumberKind,
    classify,
    mask_text,
    national_format,
    normalize,
    parse_destination,
    search_forms,
)

#: National prefixes and how many digits follow them, across every kind of Japanese number.
PREFIXES = [
    ("03", 8), ("06", 8), ("011", 7), ("045", 7), ("0422", 6), ("04992", 5),
    ("090", 8), ("080", 8), ("070", 8), ("050", 8), ("020", 8), ("060", 7),
    ("0120", 6), ("0800", 7), ("0570", 6), ("0180", 6), ("0910", 6), ("0990", 6),
]  # fmt: skip


@st.composite
def japanese_numbers(draw):
    prefix, length = draw(st.sampled_from(PREFIXES))
    rest = draw(st.text(alphabet="0123456789", min_size=length, max_size=length))
    national = prefix + rest
    parsed = phonenumbers.parse(national, "JP")
    special = prefix in ("0180", "0910")
    assume(special or phonenumbers.is_valid_number(parsed))
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@given(japanese_numbers())
def test_every_form_normalises_back(e164):
    assert normalize(e164) == e164
    assert normalize(national_format(e164)) == e164
    assert all(normalize(form) == e164 for form in search_forms(e164))
    assert classify(e164) not in (NumberKind.UNKNOWN, NumberKind.INTERNATIONAL)
    assert parse_destination(national_format(e164)).e164 == e164


@given(japanese_numbers())
def test_full_width_input_normalises_like_ascii(e164):
    wide = national_format(e164).translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))
    assert normalize(wide) == e164


@given(st.text(max_size=40))
def test_normalize_returns_e164_or_raises_number_error(text):
    try:
        result = normalize(text)
    except NumberError as error:
        assert error.message_ja and error.message_en
    else:
        assert result.startswith("+") and result[1:].isdigit()


@given(st.text(max_size=200))
def test_mask_text_keeps_length_and_text_without_digits(text):
    masked = mask_text(text)
    assert len(masked) == len(text)
    if not any(ch.isdigit() for ch in text):
        assert masked == text


@given(japanese_numbers(), st.sampled_from(["{}", "From={}", "電話{}まで", "({}),", "tel:{}"]))
def test_mask_text_hides_embedded_numbers(e164, template):
    for form in search_forms(e164):
        masked = mask_text(template.format(form))
        assert form not in masked
        assert masked.count("*") >= 5
