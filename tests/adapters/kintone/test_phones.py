"""Stored-format candidates for exact-match lookups."""

from __future__ import annotations

import re

import pytest

from crm_adapters.kintone import stored_variants
from crm_adapters.testing import STORED_FORMATS


def test_landline_covers_the_contract_formats() -> None:
    variants = stored_variants("+81312345678")
    assert set(STORED_FORMATS) <= set(variants)
    assert variants[:2] == ["0312345678", "+81312345678"]


@pytest.mark.parametrize("e164", ["+81312345678", "+819012345678", "+81120123456",
                                  "+81667891234", "+815012345678"])
def test_every_variant_has_exactly_the_callers_digits(e164: str) -> None:
    national = "0" + e164[3:]
    for variant in stored_variants(e164):
        digits = re.sub(r"\D", "", variant)
        assert digits in (national, e164[1:]), variant


def test_area_codes_of_every_length_are_tried() -> None:
    variants = stored_variants("+81667891234")
    assert {"06-6789-1234", "0667-89-1234", "06678-9-1234", "066-789-1234"} <= set(variants)


def test_mobile_and_free_dial() -> None:
    assert "090-1234-5678" in stored_variants("+819012345678")
    assert "0120-123-456" in stored_variants("+81120123456")
    assert "0800-123-4567" in stored_variants("+818001234567")


def test_no_duplicates() -> None:
    variants = stored_variants("+81312345678")
    assert len(variants) == len(set(variants))


def test_foreign_numbers_are_tried_as_given() -> None:
    assert stored_variants("+14155550100") == ["+14155550100", "14155550100"]


@pytest.mark.parametrize("bad", ["0312345678", "+0312", "anonymous", ""])
def test_rejects_non_e164(bad: str) -> None:
    with pytest.raises(ValueError):
        stored_variants(bad)
