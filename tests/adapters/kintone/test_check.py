"""The connection check: what it finds wrong, and that it says what to fix."""

from __future__ import annotations

from typing import Any

import pytest

from crm_adapters.base import AdapterEnvironment, Check
from crm_adapters.http import TimeoutSession
from crm_adapters.kintone import KintoneAdapter, KintoneSettings
from crm_adapters.settings import parse_settings
from tests.fakes.kintone import (
    CALL_HISTORY_FIELDS,
    CRM_TOKEN,
    HISTORY_TOKEN,
    FakeKintone,
    choice,
    prop,
    text,
)

from .conftest import MakeAdapter


def errors(verdicts: list[Check]) -> list[Check]:
    return [v for v in verdicts if not v.ok and v.severity == "error"]


def only_error(verdicts: list[Check]) -> Check:
    found = errors(verdicts)
    assert len(found) == 1, found
    return found[0]


def test_a_correct_setup_passes_and_reports_what_it_tested(adapter: KintoneAdapter) -> None:
    verdicts = adapter.check()
    assert errors(verdicts) == []
    names = {v.name for v in verdicts}
    assert {"kintone 顧客管理: connection", "kintone 顧客管理: permission view",
            "kintone 通話履歴: permission add", "kintone 通話履歴: permission edit",
            "kintone 通話履歴: fields"} <= names


def test_permission_probes_write_nothing(adapter: KintoneAdapter, fake: FakeKintone) -> None:
    adapter.check()
    assert fake.records(fake.call_history_app_id) == []
    assert fake.records(fake.crm_app_id) == []


def test_missing_phone_field(make_adapter: MakeAdapter, fake: FakeKintone) -> None:
    table = _apps(fake)
    table[0]["phone_fields"] = ["電話番号", "FAX番号"]
    verdict = only_error(make_adapter(apps=table).check())
    assert verdict.name == "kintone 顧客管理: field FAX番号"
    assert "'FAX番号' (phone_fields) does not exist" in verdict.message
    assert "case-sensitive" in verdict.message


def test_mistyped_fields(make_adapter: MakeAdapter, fake: FakeKintone) -> None:
    app = fake.apps[fake.call_history_app_id]
    app.properties["通話時間"] = text("通話時間")
    app.properties["開始日時"] = prop("開始日時", "DATE")
    found = {v.name: v.message for v in errors(make_adapter().check())}
    duration, started = "kintone 通話履歴: field 通話時間", "kintone 通話履歴: field 開始日時"
    assert "is of type SINGLE_LINE_TEXT; expected NUMBER" in found[duration]
    assert "is of type DATE; expected DATETIME" in found[started]


def test_call_sid_field_must_refuse_duplicates(make_adapter: MakeAdapter,
                                               fake: FakeKintone) -> None:
    fake.apps[fake.call_history_app_id].properties["CallSid"]["unique"] = False
    verdict = only_error(make_adapter().check())
    assert "値の重複を禁止する" in verdict.message and "(fields.call_sid)" in verdict.message


def test_direction_drop_down_needs_the_labels(make_adapter: MakeAdapter,
                                              fake: FakeKintone) -> None:
    fake.apps[fake.call_history_app_id].properties["方向"] = choice("方向", ["IN", "OUT"])
    verdict = only_error(make_adapter().check())
    assert "no option(s) 着信, 発信" in verdict.message


def test_required_field_the_connector_does_not_fill(make_adapter: MakeAdapter,
                                                    fake: FakeKintone) -> None:
    fake.apps[fake.call_history_app_id].properties["部署"] = text("部署", required=True)
    verdict = only_error(make_adapter().check())
    assert "'部署' is required" in verdict.message


def test_token_without_add_permission(make_adapter: MakeAdapter, fake: FakeKintone) -> None:
    fake.tokens["history-token-s3cret"] = (fake.call_history_app_id, frozenset({"view",
                                                                                "edit"}))
    verdict = only_error(make_adapter().check())
    assert verdict.name == "kintone 通話履歴: permission add"
    assert "レコード追加" in verdict.message and "アプリを更新" in verdict.message


def test_token_without_view_cannot_even_load_fields(make_adapter: MakeAdapter,
                                                    fake: FakeKintone) -> None:
    fake.tokens["crm-token-s3cret"] = (fake.crm_app_id, frozenset({"edit"}))
    verdict = only_error(make_adapter().check())
    assert verdict.name == "kintone 顧客管理: connection"
    assert "GAIA_NO01" in verdict.message and "permission" in verdict.message


def test_wrong_token(make_adapter: MakeAdapter, fake: FakeKintone) -> None:
    table = _apps(fake)
    table[0]["api_token"] = "not-a-token"
    verdict = only_error(make_adapter(apps=table).check())
    assert "GAIA_IA02" in verdict.message and "APIトークン" in verdict.message
    assert "not-a-token" not in verdict.message


def test_token_of_another_app(make_adapter: MakeAdapter, fake: FakeKintone) -> None:
    table = _apps(fake)
    table[0]["api_token"] = table[1]["api_token"]
    verdict = only_error(make_adapter(apps=table).check())
    assert "GAIA_NO01" in verdict.message


def test_wrong_app_id(make_adapter: MakeAdapter, fake: FakeKintone) -> None:
    table = _apps(fake)
    table[0]["app_id"] = 999
    verdict = only_error(make_adapter(apps=table).check())
    assert "app_id" in verdict.message and "999" in verdict.message


class TestBasicAuth:
    @pytest.fixture
    def fake_options(self) -> dict[str, Any]:
        return {"basic_auth": ("cti", "right")}

    def test_missing_basic_auth_says_which_keys_to_set(self, adapter: KintoneAdapter) -> None:
        verdicts = errors(adapter.check())
        assert len(verdicts) == 2  # one per app
        assert all("set basic_auth_user and basic_auth_password" in v.message for v in verdicts)

    def test_wrong_basic_password(self, make_adapter: MakeAdapter) -> None:
        adapter = make_adapter(basic_auth_user="cti", basic_auth_password="wrong")
        verdicts = errors(adapter.check())
        assert verdicts and all("Basic authentication failed" in v.message for v in verdicts)
        assert all("wrong" not in v.message for v in verdicts)


def test_unreachable_kintone_is_reported_not_raised() -> None:
    table = {"base_url": "http://127.0.0.1:9", "apps": [
        {"name": "顧客", "kind": "crm", "app_id": 1, "api_token": "t",
         "phone_fields": ["電話番号"], "name_fields": ["顧客名"]}]}
    settings = parse_settings(KintoneSettings, table, where="crm.kintone")
    with TimeoutSession(timeout=(0.5, 0.5)) as http:
        verdicts = KintoneAdapter(settings, http=http, env=AdapterEnvironment()).check()
    verdict = only_error(verdicts)
    assert "connection failed" in verdict.message


def test_general_app_without_write_permission_is_a_warning(make_adapter: MakeAdapter,
                                                           fake: FakeKintone) -> None:
    fake.add_app(30, {"会員番号": text("会員番号", unique=True)},
                 tokens={"general-token": {"view"}})
    table = _apps(fake) + [{"name": "会員", "kind": "general", "app_id": 30,
                                          "api_token": "general-token"}]
    verdicts = make_adapter(apps=table).check()
    assert errors(verdicts) == []
    warnings = [v for v in verdicts if v.severity == "warning"]
    assert {v.name for v in warnings} == {"kintone 会員: permission add",
                                          "kintone 会員: permission edit"}


def _apps(fake: FakeKintone) -> list[dict[str, Any]]:
    return [{"name": "顧客管理", "kind": "crm", "app_id": fake.crm_app_id, "api_token": CRM_TOKEN,
             "phone_fields": ["電話番号"], "name_fields": ["顧客名"]},
            {"name": "通話履歴", "kind": "call_history", "app_id": fake.call_history_app_id,
             "api_token": HISTORY_TOKEN, "fields": dict(CALL_HISTORY_FIELDS)}]
