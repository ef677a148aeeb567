"""Phone lookups over Contact, Lead and Account, and the contact sync."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from crm_adapters.errors import AdapterConfigError, AdapterRateLimited, AdapterTemporaryError
from crm_adapters.salesforce import SalesforceAdapter, soql
from tests.fakes.salesforce import FakeSalesforce

from .conftest import ORG_URL

Build = Callable[..., SalesforceAdapter]


@pytest.mark.parametrize("stored", ["03-1234-5678", "0312345678", "+81312345678",
                                    "+81 3-1234-5678", "03(1234)5678", "81312345678"])
def test_japanese_number_found_whatever_the_stored_format(adapter: SalesforceAdapter,
                                                          sf: FakeSalesforce,
                                                          stored: str) -> None:
    record_id = sf.add_customer("鈴木 一郎", stored)
    assert [c.record_id for c in adapter.lookup_by_phone("+81312345678")] == [record_id]


def test_a_single_form_would_miss_numbers(sf: FakeSalesforce, adapter: SalesforceAdapter) -> None:
    # The fake does not equate +81 with 0: searching only the E.164 form misses "03-…" records,
    # which is why the adapter sends every form.
    sf.add_customer("鈴木 一郎", "03-1234-5678")
    session = adapter.auth.session()
    query = soql.phone_search(["+81312345678"], [("Contact", ["Id"])])
    response = adapter.http.get(f"{session.instance_url}/services/data/v62.0/search/",
                                params={"q": query}, timeout=2,
                                headers={"Authorization": f"Bearer {session.access_token}"})
    assert response.json() == {"searchRecords": []}


def test_plus_prefixed_number_is_escaped(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    sf.add_customer("鈴木 一郎", "+81312345678")
    sent = []
    adapter.http.hooks["response"].append(lambda r, *a, **k: sent.append(r.request.url))
    adapter.lookup_by_phone("+81312345678")
    query = parse_qs(urlsplit(sent[-1]).query)["q"][0]
    assert query.startswith("FIND {\\+81312345678 OR ")
    assert "03\\-1234\\-5678" in query


def test_unescaped_plus_is_a_syntax_error_in_the_fake(adapter: SalesforceAdapter,
                                                      sf: FakeSalesforce) -> None:
    session = adapter.auth.session()
    response = adapter.http.get(f"{session.instance_url}/services/data/v62.0/search/",
                                timeout=2, params={"q": "FIND {+81312345678} IN PHONE FIELDS "
                                                        "RETURNING Contact(Id)"},
                                headers={"Authorization": f"Bearer {session.access_token}"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "MALFORMED_SEARCH"


def test_matches_across_objects_with_company_and_url(adapter: SalesforceAdapter,
                                                     sf: FakeSalesforce) -> None:
    contact = sf.add_customer("山田 太郎", "03-1234-5678", company="山田商事")
    lead = sf.add_record("Lead", Name="佐藤 花子", Company="佐藤工業", MobilePhone="0312345678")
    account = sf.add_record("Account", Name="東京本社", Phone="+81 3 1234 5678")
    sf.add_record("Account", Name="別の会社", Phone="03-9876-5432")
    found = {c.object_type: c for c in adapter.lookup_by_phone("+81312345678")}
    assert {k: v.record_id for k, v in found.items()} == {
        "Contact": contact, "Lead": lead, "Account": account}
    assert (found["Contact"].company, found["Lead"].company, found["Account"].company) == (
        "山田商事", "佐藤工業", "")
    assert found["Lead"].phone_numbers == ("0312345678",)
    assert found["Contact"].url == f"{ORG_URL}/lightning/r/Contact/{contact}/view"
    assert adapter.screen_pop_url(found["Contact"]) == found["Contact"].url
    assert found["Account"].updated_at.endswith("Z")


def test_lookup_is_one_request(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    adapter.lookup_by_phone("+81312345678")
    assert sf.requests == [("GET", "search/")]


def test_unknown_field_in_settings_is_a_config_error(make_adapter: Build) -> None:
    adapter = make_adapter(object_fields={"Contact": {"phone_fields": ["Phone", "Fax__c"]}})
    with pytest.raises(AdapterConfigError, match="Fax__c"):
        adapter.lookup_by_phone("+81312345678")


def test_org_limit_exhausted_is_rate_limited(adapter: SalesforceAdapter,
                                             sf: FakeSalesforce) -> None:
    sf.fail_next("REQUEST_LIMIT_EXCEEDED")
    with pytest.raises(AdapterRateLimited) as caught:
        adapter.lookup_by_phone("+81312345678")
    assert caught.value.retry_after and caught.value.retry_after > 0


def test_not_e164_is_refused(adapter: SalesforceAdapter) -> None:
    with pytest.raises(ValueError, match="E.164"):
        adapter.lookup_by_phone("03-1234-5678")


def test_sync_follows_pages_oldest_change_first(adapter: SalesforceAdapter,
                                                sf: FakeSalesforce) -> None:
    sf.page_size = 2
    start = datetime(2026, 11, 1, tzinfo=UTC)
    expected = []
    for i in range(5):
        contact = sf.add_customer(f"顧客 {i}", f"03-0000-000{i}")
        sf.touch("Contact", contact, start + timedelta(hours=2 * i))
        expected.append(contact)
    lead = sf.add_record("Lead", Name="見込み", Phone="090-0000-0000")
    sf.touch("Lead", lead, start + timedelta(hours=3))
    expected.insert(2, lead)
    no_phone = sf.add_record("Contact", Name="電話なし")
    sf.touch("Contact", no_phone, start + timedelta(hours=1))
    old = sf.add_customer("古い", "03-1111-1111")
    sf.touch("Contact", old, start - timedelta(days=1))

    changed = list(adapter.contacts_changed_since(start - timedelta(seconds=1)))
    assert [c.record_id for c in changed] == expected
    assert changed[0].updated_at == "2026-11-01T00:00:00Z"
    assert sf.count("GET", "query/01g") == 2  # five contacts in pages of two: 2 more pages
    assert old in {c.record_id for c in adapter.contacts_changed_since(None)}


def test_non_json_answer_is_temporary(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    adapter.auth.session()
    adapter.http.hooks["response"].append(_html_instead)
    with pytest.raises(AdapterTemporaryError, match="not JSON"):
        adapter.lookup_by_phone("+81312345678")


def _html_instead(response: requests.Response, *args, **kwargs) -> requests.Response:
    response._content = b"<html>Maintenance</html>"
    return response
