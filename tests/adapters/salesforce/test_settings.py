"""``[crm.salesforce]`` parsing: defaults, secrets from files, errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_adapters.salesforce import DEFAULT_OBJECT_FIELDS, SalesforceSettings
from crm_adapters.salesforce.settings import sf_domain
from crm_adapters.settings import SettingsError, parse_settings, settings_to_dict

PEM = "-----BEGIN PRIVATE KEY-----\nMIIfake\n-----END PRIVATE KEY-----"
REQUIRED = {"consumer_key": "3MVGabc", "username": "cti@example.com", "private_key": PEM}


def parse(**table) -> SalesforceSettings:
    return parse_settings(SalesforceSettings, {**REQUIRED, **table}, where="crm.salesforce")


def problems(**table) -> str:
    with pytest.raises(SettingsError) as caught:
        parse(**table)
    return str(caught.value)


def test_defaults() -> None:
    settings = parse()
    assert settings.login_url == "https://login.salesforce.com"
    assert settings.lookup_objects == ("Contact", "Lead", "Account")
    assert settings.fields_for("Contact") == DEFAULT_OBJECT_FIELDS["Contact"]
    assert settings.task_callsid_field == "CTI_CallSid__c"
    assert settings.task_recording_field == "CTI_Recording_URL__c"
    assert (settings.agent_match, settings.logging_path) == ("username", "api")
    assert settings.subject_inbound.startswith("着信")


def test_private_key_from_file_is_a_secret(tmp_path: Path) -> None:
    key = tmp_path / "sf.pem"
    key.write_text(PEM + "\n", encoding="utf-8")
    settings = parse(private_key={"file": str(key)})
    assert settings.private_key.reveal() == PEM
    assert "MIIfake" not in repr(settings) and "MIIfake" not in str(settings_to_dict(settings))


def test_object_fields_override_and_custom_object() -> None:
    settings = parse(lookup_objects=["Contact", "Customer__c"], object_fields={
        "Customer__c": {"phone_fields": ["Tel__c", "Mobile__c"], "company_field": "Corp__c"}})
    fields = settings.fields_for("Customer__c")
    assert fields.phone_fields == ("Tel__c", "Mobile__c")
    assert fields.select_fields() == ["Id", "Name", "Tel__c", "Mobile__c", "Corp__c",
                                      "LastModifiedDate"]


@pytest.mark.parametrize(("table", "expected"), [
    ({"login_url": "http://login.salesforce.com"}, "crm.salesforce: login_url: must be https:"),
    ({"login_url": "https://login.salesforce.com?x=1"}, "with no port, path or query"),
    ({"consumer_key": ""}, "consumer_key: required"),
    ({"private_key": "not a key"}, "private_key: not a PEM key"),
    ({"api_version": "62"}, "api_version: expected a version like"),
    ({"api_version": "45.0"}, "api_version: must be 46.0 or later"),
    ({"lookup_objects": ["Contact; DELETE"]}, "lookup_objects: 'Contact; DELETE' is not"),
    ({"lookup_objects": ["Customer__c"]}, "object_fields: no fields configured for Customer__c"),
    ({"task_callsid_field": "Call Sid"}, "task_callsid_field: 'Call Sid' is not"),
    ({"subject_inbound": "着信 {caller}"}, "subject_inbound: unknown placeholder {caller}"),
    ({"subject_missed": "不在 {"}, "subject_missed: malformed template"),
    ({"api_reserve_percent": 100}, "api_reserve_percent: must be at least 0"),
    ({"agent_match": "id"}, "crm.salesforce.agent_match: must be one of"),
    ({"object_fields": {"Contact": {"phone_fields": []}}},
     "crm.salesforce.object_fields.Contact: phone_fields: list at least one"),
    ({"object_fields": {"Contact": {"phone_fields": ["Phone"], "company_field": "Account..Name"}}},
     "company_field: 'Account..Name' is not"),
])
def test_invalid_values_name_the_key(table: dict, expected: str) -> None:
    assert expected in problems(**table)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080",                      # no plain http, not even on loopback
    "https://login.salesforce.com:8443",          # simple-salesforce cannot send a port
    "https://acme.my.salesforce.com/services",    # nor a path
    "https://acme.my.salesforce.mil",             # nor another domain (Government Cloud Plus)
    "https://salesforce.com",
])
@pytest.mark.parametrize("key", ["login_url", "jwt_audience"])
def test_only_salesforce_com_hosts_can_be_logged_in_to(key: str, url: str) -> None:
    assert f"{key}: must be https://login.salesforce.com" in problems(**{key: url})
    assert "simple-salesforce" in problems(**{key: url})


@pytest.mark.parametrize(("url", "domain"), [
    ("https://login.salesforce.com/", "login"),
    ("https://acme--uat.sandbox.my.salesforce.com", "acme--uat.sandbox.my"),
])
def test_login_url_is_kept_in_simple_salesforce_terms(url: str, domain: str) -> None:
    settings = parse(login_url=url)
    assert settings.login_url == url.rstrip("/")
    assert sf_domain(settings.login_url) == domain


def test_browser_logging_needs_no_credentials() -> None:
    settings = parse_settings(SalesforceSettings, {"logging_path": "browser"},
                              where="crm.salesforce")
    assert not settings.uses_api
