"""Caller lookups, the flow's caller check, and screen-pop URLs."""

from __future__ import annotations

from typing import Any

import pytest

from crm_adapters.base import Customer
from crm_adapters.errors import AdapterConfigError
from crm_adapters.kintone import KintoneAdapter
from tests.fakes.kintone import CRM_TOKEN, FakeKintone

from .conftest import MakeAdapter


def test_finds_numbers_in_every_phone_field_and_fills_the_customer(
        adapter: KintoneAdapter, fake: FakeKintone) -> None:
    office = fake.add_record(fake.crm_app_id, {"顧客名": "山田 太郎", "会社名": "山田商事",
                                               "電話番号": "03-1234-5678"})
    mobile = fake.add_record(fake.crm_app_id, {"顧客名": "山田 花子",
                                               "携帯番号": "+81 3-1234-5678"})
    fake.add_record(fake.crm_app_id, {"顧客名": "別人", "電話番号": "03-1234-5679"})
    found = {c.record_id: c for c in adapter.lookup_by_phone("+81312345678")}
    assert set(found) == {office, mobile}
    taro = found[office]
    assert taro.display_name == "山田 太郎"
    assert taro.company == "山田商事"
    assert taro.phone_numbers == ("03-1234-5678",)
    assert taro.object_type == str(fake.crm_app_id)
    assert taro.adapter == "kintone"
    assert taro.updated_at.endswith("Z")


def test_newest_record_first(adapter: KintoneAdapter, fake: FakeKintone) -> None:
    ids = [fake.add_customer(f"顧客{i}", "0312345678") for i in range(3)]
    assert [c.record_id for c in adapter.lookup_by_phone("+81312345678")] == ids[::-1]


def test_name_fields_are_joined(make_adapter: MakeAdapter, fake: FakeKintone) -> None:
    adapter = make_adapter(apps=[_crm_app(fake, name_fields=["会社名", "顧客名"])])
    fake.add_record(fake.crm_app_id, {"顧客名": "鈴木", "会社名": "鈴木工業",
                                      "電話番号": "0312345678"})
    assert adapter.lookup_by_phone("+81312345678")[0].display_name == "鈴木工業 鈴木"


def test_lookup_asks_only_for_the_needed_fields_in_a_request_body(
        adapter: KintoneAdapter, fake: FakeKintone) -> None:
    adapter.lookup_by_phone("+81312345678")
    (request,) = fake.requests("GET", "records")
    assert request["params"]["fields"] == ["$id", "顧客名", "電話番号", "携帯番号", "会社名",
                                           "更新日時"]
    # Sent as POST + X-HTTP-Method-Override: the numbers never appear in a URL.
    assert request["http_method"] == "POST"
    assert "5678" not in request["url"]
    assert request["params"]["query"].endswith("order by $id desc limit 20")


def test_caller_in_crm(adapter: KintoneAdapter, fake: FakeKintone) -> None:
    fake.add_customer("山田 太郎", "090-1234-5678")
    assert adapter.caller_in_crm("+819012345678") is True
    assert adapter.caller_in_crm("+819012345670") is False
    last = fake.requests("GET", "records")[-1]["params"]
    assert last["fields"] == ["$id"] and last["query"].endswith("limit 1")


def test_misspelt_phone_field_is_a_config_error(make_adapter: MakeAdapter,
                                                fake: FakeKintone) -> None:
    adapter = make_adapter(apps=[_crm_app(fake, phone_fields=["電話"])])
    with pytest.raises(AdapterConfigError, match="電話"):
        adapter.lookup_by_phone("+81312345678")


def test_screen_pop_url(adapter: KintoneAdapter, fake: FakeKintone, server: Any) -> None:
    record_id = fake.add_customer("山田 太郎", "0312345678")
    (customer,) = adapter.lookup_by_phone("+81312345678")
    expected = f"{server.url}/k/{fake.crm_app_id}/show#record={record_id}"
    assert customer.url == expected
    assert adapter.screen_pop_url(customer) == expected
    bare = Customer(adapter="kintone", record_id=record_id, display_name="x")
    assert adapter.screen_pop_url(bare) == expected
    assert adapter.screen_pop_url(Customer(adapter="kintone", record_id="",
                                           display_name="x")) is None


class TestGuestSpace:
    @pytest.fixture
    def fake_options(self) -> dict[str, Any]:
        return {"guest_space_id": 42}

    def test_urls_use_the_guest_space(self, adapter: KintoneAdapter, fake: FakeKintone,
                                      server: Any) -> None:
        record_id = fake.add_customer("山田 太郎", "0312345678")
        (customer,) = adapter.lookup_by_phone("+81312345678")
        assert customer.url == (f"{server.url}/k/guest/42/{fake.crm_app_id}"
                                f"/show#record={record_id}")
        assert fake.requests("GET", "records")[0]["space"] == 42

    def test_without_guest_space_id_the_error_says_what_to_set(
            self, make_adapter: MakeAdapter) -> None:
        adapter = make_adapter(guest_space_id=None)
        with pytest.raises(AdapterConfigError, match="guest_space_id"):
            adapter.lookup_by_phone("+81312345678")


def _crm_app(fake: FakeKintone, **changes: Any) -> dict[str, Any]:
    app = {"name": "顧客管理", "kind": "crm", "app_id": fake.crm_app_id, "api_token": CRM_TOKEN,
           "phone_fields": ["電話番号", "携帯番号"], "name_fields": ["顧客名"],
           "company_field": "会社名"}
    return {**app, **changes}
