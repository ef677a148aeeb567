"""Call lists from a kintone app: a view's filter and order, read through one cursor (500 a
page, past kintone's offset limit of 10,000), the cursor never left open."""

from __future__ import annotations

import pytest

from crm_adapters.errors import AdapterConfigError, AdapterPermanentError
from tests.fakes.kintone import CRM_TOKEN


def _customers(fake, count: int) -> None:
    for n in range(count):
        fake.add_record(fake.crm_app_id, {"顧客名": f"顧客{n:05d}", "電話番号": f"090{n:08d}",
                                          "会社名": "東京商事" if n % 2 else "大阪物産"})


def test_a_view_is_read_through_a_cursor_in_its_order(fake, make_adapter):
    fake.tokens[CRM_TOKEN] = (fake.crm_app_id, frozenset({"view", "admin"}))
    _customers(fake, 1203)
    fake.add_view(fake.crm_app_id, "東京の顧客", '会社名 = "東京商事"', "$id desc")
    adapter = make_adapter()
    found = list(adapter.call_list(view="東京の顧客"))
    assert len(found) == 601
    assert [c.display_name for c in found[:2]] == ["顧客01201", "顧客01199"]  # the view's order
    assert found[0].phone_numbers == ("09000001201",) and found[0].company == "東京商事"
    assert found[0].url.endswith(f"/k/{fake.crm_app_id}/show#record={found[0].record_id}")
    created = fake.requests("POST", "records/cursor")
    assert len(created) == 1 and created[0]["params"]["size"] == 500
    assert created[0]["params"]["query"] == '(会社名 = "東京商事") order by $id desc'
    assert len(fake.requests("GET", "records/cursor")) == 2
    assert fake.cursors == {}


def test_a_condition_alone_and_a_list_left_half_read_deletes_its_cursor(fake, make_adapter):
    _customers(fake, 1100)
    adapter = make_adapter()
    pages = adapter.call_list(condition='会社名 = "大阪物産"')
    first = next(pages)
    assert first.display_name == "顧客00000"
    assert len(fake.cursors) == 1
    pages.close()  # the import gave up (too many rows, a refusal): the cursor goes at once
    assert fake.cursors == {}
    assert fake.requests("POST", "records/cursor")[0]["params"]["query"] == (
        '(会社名 = "大阪物産") order by $id asc')


def test_an_unknown_view_names_the_views(fake, make_adapter):
    fake.tokens[CRM_TOKEN] = (fake.crm_app_id, frozenset({"view", "admin"}))
    fake.add_view(fake.crm_app_id, "すべて")
    with pytest.raises(AdapterPermanentError, match="no view '東京'.*すべて"):
        list(make_adapter().call_list(view="東京"))
    with pytest.raises(AdapterConfigError, match="no kintone app named"):
        list(make_adapter().call_list(app_name="なし"))
