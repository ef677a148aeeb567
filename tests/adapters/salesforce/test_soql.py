"""Escaping and query text: values never reach SOQL/SOSL unescaped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from crm_adapters.salesforce import soql
from crm_adapters.salesforce.phones import mask, search_forms


def test_every_sosl_reserved_character_is_escaped() -> None:
    reserved = "?&|!{}[]()^~*:\\\"'+-"
    assert soql.escape_sosl(reserved) == "".join("\\" + c for c in reserved)
    assert soql.escape_sosl("+81312345678") == "\\+81312345678"
    assert soql.escape_sosl("03-1234-5678") == "03\\-1234\\-5678"
    assert soql.escape_sosl("0312345678") == "0312345678"


def test_soql_quoting() -> None:
    assert soql.quote_soql("O'Brien") == "'O\\'Brien'"
    assert soql.quote_soql("a\\b\nc") == "'a\\\\b\\nc'"


def test_soql_datetime_is_utc() -> None:
    jst = timezone(timedelta(hours=9))
    assert soql.soql_datetime(datetime(2026, 1, 1, 9, 0, tzinfo=jst)) == "2026-01-01T00:00:00Z"
    assert soql.soql_datetime(datetime(2026, 1, 1, 9, 0)) == "2026-01-01T09:00:00Z"


def test_phone_search_text() -> None:
    query = soql.phone_search(["+81312345678", "03-1234-5678", "(415) 555-1212"],
                              [("Contact", ["Id", "Name"]), ("Lead", ["Id"])])
    assert query == ("FIND {\\+81312345678 OR 03\\-1234\\-5678} IN PHONE FIELDS "
                     "RETURNING Contact(Id, Name), Lead(Id) LIMIT 50")


def test_phone_search_without_terms_is_refused() -> None:
    with pytest.raises(ValueError):
        soql.phone_search(["a b"], [("Contact", ["Id"])])


def test_changed_since_and_users() -> None:
    since = datetime(2026, 11, 20, 1, 2, 3, tzinfo=UTC)
    assert soql.changed_since("Lead", ["Id", "Name"], ["Phone", "MobilePhone"], since) == (
        "SELECT Id, Name FROM Lead WHERE LastModifiedDate > 2026-11-20T01:02:03Z AND "
        "(Phone != null OR MobilePhone != null) ORDER BY LastModifiedDate, Id")
    assert "WHERE (Phone != null)" in soql.changed_since("Account", ["Id"], ["Phone"], None)
    assert soql.active_users("Username", ["b@x.com", "a'@x.com", "b@x.com"]) == (
        "SELECT Id, Username, Email FROM User WHERE IsActive = true "
        "AND Username IN ('a\\'@x.com', 'b@x.com')")


@pytest.mark.parametrize(("e164", "forms"), [
    ("+81312345678", ["+81312345678", "81312345678", "0312345678", "03-1234-5678"]),
    ("+819012345678", ["+819012345678", "819012345678", "09012345678", "090-1234-5678"]),
    ("+81120123456", ["+81120123456", "81120123456", "0120123456", "0120-123-456"]),
    # phonenumbers cannot validate this one; the trunk prefix is still added.
    ("+81501234567", ["+81501234567", "81501234567", "0501234567"]),
])
def test_search_forms_of_japanese_numbers(e164: str, forms: list[str]) -> None:
    assert search_forms(e164) == forms


def test_mask_hides_the_last_digits() -> None:
    assert mask("+81312345678") == "+8131234****"
    assert "5678" not in mask("+81312345678")
