"""Call lists from Salesforce: a list view's query or an admin's SOQL, with the adapter's own
fields, followed page by page through nextRecordsUrl."""

from __future__ import annotations

import pytest

from crm_adapters.errors import AdapterConfigError, AdapterPermanentError
from crm_adapters.salesforce import SalesforceAdapter
from tests.fakes.salesforce import FakeSalesforce


def _contacts(sf: FakeSalesforce, count: int) -> None:
    for n in range(count):
        sf.add_customer(f"顧客{n:04d}", f"090-{n:04d}-0000",
                        company="東京商事" if n % 2 else "大阪物産")


def test_a_list_view_is_read_with_the_adapters_fields_page_by_page(
        sf: FakeSalesforce, adapter: SalesforceAdapter):
    _contacts(sf, 9)
    sf.page_size = 2
    view = sf.add_list_view("Contact", "東京の顧客",
                            "SELECT Name, Id FROM Contact WHERE Phone != null ORDER BY Name DESC")
    found = list(adapter.call_list(sobject="Contact", list_view=view))
    assert [c.display_name for c in found[:3]] == ["顧客0008", "顧客0007", "顧客0006"]
    assert len(found) == 9 and found[0].phone_numbers == ("090-0008-0000",)
    assert found[1].company == "東京商事" and found[0].object_type == "Contact"
    assert ("GET", f"sobjects/Contact/listviews/{view}/describe") in sf.requests
    assert sum(1 for m, p in sf.requests if p.startswith("query")) == 5  # 5 pages of 2


def test_soql_names_its_object_which_must_be_looked_up(sf: FakeSalesforce,
                                                       adapter: SalesforceAdapter):
    _contacts(sf, 3)
    found = list(adapter.call_list(query="select Id from Contact where Name = '顧客0001'"))
    assert [c.display_name for c in found] == ["顧客0001"]
    with pytest.raises(AdapterConfigError, match="Opportunity is not one of lookup_objects"):
        list(adapter.call_list(query="SELECT Id FROM Opportunity"))
    with pytest.raises(AdapterPermanentError, match="SELECT … FROM"):
        list(adapter.call_list(query="DELETE Contact"))
    with pytest.raises(AdapterPermanentError, match="not a list view id"):
        list(adapter.call_list(sobject="Contact", list_view="../x"))
