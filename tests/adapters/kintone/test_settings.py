"""``[crm.kintone]`` parsing: defaults, normalisation, and errors that name the key."""

from __future__ import annotations

from typing import Any

import pytest

from crm_adapters.kintone import KintoneSettings
from crm_adapters.settings import SettingsError, parse_settings


def crm(**changes: Any) -> dict[str, Any]:
    app = {"name": "顧客", "kind": "crm", "app_id": 3, "api_token": "tok-crm",
           "phone_fields": ["電話番号"], "name_fields": ["顧客名"]}
    return {**app, **changes}


def history(**changes: Any) -> dict[str, Any]:
    app = {"name": "通話履歴", "kind": "call_history", "app_id": 4, "api_token": "tok-hist",
           "fields": {"call_sid": "CallSid"}}
    return {**app, **changes}


def general(i: int) -> dict[str, Any]:
    return {"name": f"汎用{i}", "kind": "general", "app_id": 100 + i, "api_token": f"t{i}"}


def parse(**table: Any) -> KintoneSettings:
    data = {"base_url": "https://example.cybozu.com", "apps": [crm(), history()], **table}
    return parse_settings(KintoneSettings, data, where="crm.kintone", environ={"TOK": "env-t"})


def problems(**table: Any) -> str:
    with pytest.raises(SettingsError) as caught:
        parse(**table)
    return str(caught.value)


def test_defaults() -> None:
    settings = parse()
    assert settings.max_concurrency == 10
    assert settings.daily_request_warning == 9000
    assert settings.guest_space_id is None
    assert settings.sync_method == "seek"
    assert settings.app("crm").updated_time_field == "更新日時"
    assert settings.app("call_history").fields.mapped() == {"call_sid": "CallSid"}
    assert settings.app("call_history").direction_labels == {"inbound": "着信",
                                                             "outbound": "発信"}


@pytest.mark.parametrize("pasted", ["https://example.cybozu.com/k/", "https://EXAMPLE.cybozu.com",
                                    "https://example.cybozu.com/login?redirect=x",
                                    " https://example.cybozu.com/k/#/portal "])
def test_base_url_is_normalised(pasted: str) -> None:
    settings = parse(base_url=pasted)
    assert settings.base_url == "https://example.cybozu.com"
    assert settings.domain == "example.cybozu.com"


@pytest.mark.parametrize(("url", "expected"), [
    ("http://example.cybozu.com", "served over https"),
    ("https://example.com", "not a kintone domain"),
    ("https://example.s.cybozu.com", "Secure Access"),
    ("example.cybozu.com", "expected https://"),
    ("https://user:pw@example.cybozu.com", "must not contain credentials"),
])
def test_bad_base_url(url: str, expected: str) -> None:
    text = problems(base_url=url)
    assert "crm.kintone: base_url:" in text and expected in text


def test_loopback_http_is_accepted_for_local_fakes() -> None:
    assert parse(base_url="http://127.0.0.1:8080/k/").base_url == "http://127.0.0.1:8080"


def test_two_crm_apps_are_refused() -> None:
    text = problems(apps=[crm(), crm(name="顧客2", app_id=5)])
    assert 'crm.kintone: apps: exactly one app must have kind = "crm", found 2' in text


def test_nine_general_apps_are_refused() -> None:
    text = problems(apps=[crm(), *[general(i) for i in range(9)]])
    assert 'at most 8 apps may have kind = "general", found 9' in text


def test_eight_general_apps_are_fine() -> None:
    assert len(parse(apps=[crm(), *[general(i) for i in range(8)]]).apps) == 9


def test_two_call_history_apps_are_refused() -> None:
    text = problems(apps=[crm(), history(), history(name="履歴2")])
    assert 'at most one app may have kind = "call_history"' in text


def test_missing_call_sid_mapping_names_the_key() -> None:
    text = problems(apps=[crm(), history(fields={"notes": "メモ"})])
    assert "crm.kintone.apps[1].fields.call_sid: required key is missing" in text


def test_call_history_without_fields() -> None:
    assert "crm.kintone.apps[1]: fields:" in problems(apps=[crm(), history(fields=None)])


def test_unknown_call_history_field_names_the_key() -> None:
    text = problems(apps=[crm(), history(fields={"call_sid": "CallSid", "recording": "x"})])
    assert "crm.kintone.apps[1].fields.recording: unknown key" in text


def test_crm_app_needs_phone_and_name_fields() -> None:
    assert "apps[0]: phone_fields:" in problems(apps=[crm(phone_fields=[]), history()])
    assert "apps[0]: name_fields:" in problems(apps=[crm(name_fields=[]), history()])


def test_crm_keys_on_other_kinds_are_refused() -> None:
    text = problems(apps=[crm(), history(phone_fields=["電話"])])
    assert 'crm.kintone.apps[1]: phone_fields: only apps of kind "crm"' in text


def test_duplicate_app_names() -> None:
    assert "apps[1].name: '顧客' is already used by apps[0]" in problems(
        apps=[crm(), history(name="顧客")])


@pytest.mark.parametrize("value", [0, 101])
def test_max_concurrency_is_capped_by_the_domain_limit(value: int) -> None:
    text = problems(max_concurrency=value)
    assert "crm.kintone: max_concurrency: must be 1-100" in text


def test_basic_auth_needs_both_parts() -> None:
    assert "basic_auth_user: set both" in problems(basic_auth_user="someone")


def test_unknown_kind_names_the_choices() -> None:
    text = problems(apps=[crm(), history(kind="history")])
    assert "crm.kintone.apps[1].kind: must be one of" in text


def test_secrets_stay_hidden_and_resolve_from_the_environment() -> None:
    settings = parse(apps=[crm(api_token={"env": "TOK"}), history()],
                     basic_auth_user="u", basic_auth_password="basic-pw")
    assert settings.app("crm").api_token.reveal() == "env-t"
    text = repr(settings)
    assert "env-t" not in text and "tok-hist" not in text and "basic-pw" not in text
