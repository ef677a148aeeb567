"""Phone-number forms to search for, and masking for logs.

Whether Salesforce's phone search normalises punctuation and the ``+81``/``0`` prefixes is
UNVERIFIED (reference: reliability-performance.md §2.5), so a lookup never relies on it: it
searches the number in every form an agent is likely to have typed.
"""

from __future__ import annotations

import re

import phonenumbers


def search_forms(e164: str) -> list[str]:
    """E.164, international digits, national digits and national formatted, deduplicated.

    ``+81312345678`` -> ``["+81312345678", "81312345678", "0312345678", "03-1234-5678"]``.
    """
    forms = [e164, e164.lstrip("+")]
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return _unique(forms)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits = re.sub(r"\D", "", national)
    prefix = _national_prefix(number)
    if not phonenumbers.is_valid_number(number) and prefix and not digits.startswith(prefix):
        # Numbers phonenumbers cannot validate come back without the trunk prefix ("0").
        digits = prefix + digits
        national = digits
    forms += [digits, national]
    return _unique(f for f in forms if f)


def mask(number: str) -> str:
    """``+81312345678`` -> ``+8131234****``: enough to tell calls apart in a log."""
    if len(number) <= 4:
        return "****"
    return number[:-4] + "****"


def _national_prefix(number: phonenumbers.PhoneNumber) -> str:
    region = phonenumbers.region_code_for_country_code(number.country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (metadata.national_prefix or "") if metadata else ""


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))
