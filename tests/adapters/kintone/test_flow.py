"""Flow actions for the IVR (KT-6): caller check, matching and upserting in general apps."""

from __future__ import annotations

from typing import Any

import pytest

from crm_adapters.errors import AdapterConfigError, AdapterPermanentError
from crm_adapters.kintone import KintoneAdapter
from tests.fakes.kintone import CRM_TOKEN, FakeKintone, prop, text

from .conftest import MakeAdapter

MEMBERS = 30


@pytest.fixture
def adapter(make_adapter: MakeAdapter, fake: FakeKintone) -> KintoneAdapter:
    fake.add_app(MEMBERS, {"会員番号": text("会員番号", unique=True), "氏名": text("氏名"),
                           "ポイント": prop("ポイント", "NUMBER"),
                           "最終入電": prop("最終入電", "DATETIME")},
                 tokens={"members-token": {"view", "add", "edit"}})
    return make_adapter(apps=[
        {"name": "顧客管理", "kind": "crm", "app_id": fake.crm_app_id, "api_token": CRM_TOKEN,
         "phone_fields": ["電話番号"], "name_fields": ["顧客名"]},
        {"name": "会員", "kind": "general", "app_id": MEMBERS, "api_token": "members-token"},
    ])


def test_match_returns_plain_records(adapter: KintoneAdapter, fake: FakeKintone) -> None:
    first = fake.add_record(MEMBERS, {"会員番号": "A-1", "氏名": "山田", "ポイント": "10"})
    fake.add_record(MEMBERS, {"会員番号": "A-2", "氏名": "鈴木", "ポイント": "20"})
    (match,) = adapter.match_general("会員", "会員番号", "A-1")
    assert match["$id"] == first and match["氏名"] == "山田" and match["ポイント"] == "10"
    assert [m["会員番号"] for m in adapter.match_general("会員", "ポイント", 20)] == ["A-2"]
    assert adapter.match_general("会員", "会員番号", 'A-1" or 氏名 = "鈴木') == []


def test_match_in_the_crm_app(adapter: KintoneAdapter, fake: FakeKintone) -> None:
    fake.add_customer("山田 太郎", "03-1234-5678")
    assert [m["顧客名"] for m in adapter.match_general("顧客管理", "顧客名", "山田 太郎")] == [
        "山田 太郎"]


def test_upsert_adds_then_updates_the_same_record(adapter: KintoneAdapter,
                                                  fake: FakeKintone) -> None:
    added = adapter.upsert_general("会員", "会員番号", "B-7", {"氏名": "田中", "ポイント": 5})
    updated = adapter.upsert_general("会員", "会員番号", "B-7",
                                     {"ポイント": 6, "最終入電": "2026-11-20T01:02:00Z"})
    assert added == updated
    (stored,) = fake.records(MEMBERS)
    assert stored["会員番号"] == "B-7" and stored["氏名"] == "田中"
    assert stored["ポイント"] == "6" and stored["最終入電"] == "2026-11-20T01:02:00Z"


def test_upsert_by_record_id(adapter: KintoneAdapter, fake: FakeKintone) -> None:
    record_id = fake.add_record(MEMBERS, {"会員番号": "C-1", "氏名": "旧"})
    assert adapter.upsert_general("会員", "$id", record_id, {"氏名": "新"}) == record_id
    assert fake.records(MEMBERS)[0]["氏名"] == "新"


def test_upsert_rejected_value_names_the_field(adapter: KintoneAdapter) -> None:
    with pytest.raises(AdapterPermanentError) as caught:
        adapter.upsert_general("会員", "会員番号", "D-1", {"ポイント": "たくさん"})
    assert caught.value.field == "ポイント"
    assert "数字でなければなりません" in str(caught.value)


def test_upsert_key_must_refuse_duplicates(adapter: KintoneAdapter) -> None:
    with pytest.raises(AdapterPermanentError, match="updateKey"):
        adapter.upsert_general("会員", "氏名", "山田", {"ポイント": 1})


@pytest.mark.parametrize(("app", "field"), [("会員", "氏名 = x or 1"), ("ない", "氏名")])
def test_unknown_app_or_unsafe_field_code(adapter: KintoneAdapter, app: str,
                                          field: str) -> None:
    with pytest.raises(AdapterConfigError):
        adapter.match_general(app, field, "x")


def test_values_of_other_types_are_passed_as_kintone_expects(adapter: KintoneAdapter,
                                                             fake: FakeKintone) -> None:
    values: dict[str, Any] = {"氏名": None, "ポイント": 1.5}
    adapter.upsert_general("会員", "会員番号", "E-1", values)
    sent = fake.requests("PUT", "records")[-1]["params"]["records"][0]["record"]
    assert sent == {"氏名": {"value": ""}, "ポイント": {"value": "1.5"}}
