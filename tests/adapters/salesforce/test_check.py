"""The connection check: one verdict per thing, each saying what to fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from crm_adapters.base import Check
from crm_adapters.salesforce import SalesforceAdapter
from tests.fakes.salesforce import FakeSalesforce

Build = Callable[..., SalesforceAdapter]


def verdicts(adapter: SalesforceAdapter) -> dict[str, list[Check]]:
    by_name: dict[str, list[Check]] = {}
    for check in adapter.check():
        by_name.setdefault(check.name, []).append(check)
    return by_name


def failed(adapter: SalesforceAdapter) -> list[Check]:
    return [c for c in adapter.check() if not c.ok]


def test_healthy_org(adapter: SalesforceAdapter) -> None:
    found = verdicts(adapter)
    assert set(found) == {"salesforce.token", "salesforce.api_version",
                          "salesforce.lookup.Contact", "salesforce.lookup.Lead",
                          "salesforce.lookup.Account", "salesforce.task_callsid_field",
                          "salesforce.task_recording_field", "salesforce.agent_callsid_field",
                          "salesforce.api_allowance"}
    assert all(c.ok for checks in found.values() for c in checks), found
    assert "unique External ID" in found["salesforce.task_callsid_field"][0].message


def test_missing_callsid_field(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    sf.remove_field("Task", "CTI_CallSid__c")
    (problem,) = failed(adapter)
    assert (problem.name, problem.severity) == ("salesforce.task_callsid_field", "error")
    assert "Task has no field CTI_CallSid__c" in problem.message
    assert "sfdc-package" in problem.message


@pytest.mark.parametrize("changes", [{"external_id": False}, {"type": "double"}])
def test_mistyped_callsid_field(adapter: SalesforceAdapter, sf: FakeSalesforce,
                                changes: dict) -> None:
    sf.set_field("Task", "CTI_CallSid__c", **changes)
    (problem,) = failed(adapter)
    assert problem.severity == "error" and "External ID" in problem.message


def test_read_only_callsid_field(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    sf.set_field("Task", "CTI_CallSid__c", updateable=False)
    (problem,) = failed(adapter)
    assert problem.severity == "error" and "grant edit access" in problem.message


def test_callsid_field_not_unique_is_a_warning(adapter: SalesforceAdapter,
                                               sf: FakeSalesforce) -> None:
    sf.set_field("Task", "CTI_CallSid__c", unique=False)
    (problem,) = failed(adapter)
    assert problem.severity == "warning" and "mark it Unique" in problem.message


def test_recording_field(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    sf.remove_field("Task", "CTI_Recording_URL__c")
    (problem,) = failed(adapter)
    assert problem.name == "salesforce.task_recording_field"
    assert 'task_recording_field = ""' in problem.message


def test_recording_field_switched_off_is_not_checked(make_adapter: Build,
                                                     sf: FakeSalesforce) -> None:
    sf.remove_field("Task", "CTI_Recording_URL__c")
    assert failed(make_adapter(task_recording_field="")) == []


def test_lookup_field_problems(make_adapter: Build, sf: FakeSalesforce) -> None:
    sf.remove_field("Contact", "MobilePhone")
    adapter = make_adapter(object_fields={"Lead": {"phone_fields": ["Phone", "Company"]}})
    problems = {c.name: c for c in failed(adapter)}
    assert problems["salesforce.lookup.Contact"].severity == "error"
    assert "MobilePhone is missing" in problems["salesforce.lookup.Contact"].message
    assert problems["salesforce.lookup.Lead"].severity == "warning"
    assert "Company is of type string" in problems["salesforce.lookup.Lead"].message


def test_unknown_lookup_object(make_adapter: Build) -> None:
    adapter = make_adapter(lookup_objects=["Contact", "Customer__c"],
                           object_fields={"Customer__c": {"phone_fields": ["Tel__c"]}})
    (problem,) = failed(adapter)
    assert problem.name == "salesforce.lookup.Customer__c"
    assert "read access to Customer__c" in problem.message


def test_api_version_not_offered(make_adapter: Build) -> None:
    problems = failed(make_adapter(api_version="99.0"))
    assert problems[0].name == "salesforce.api_version"
    assert "newest: 63.0" in problems[0].message


def test_token_failure_stops_the_check(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    sf.fail_token("invalid_grant", "user hasn't approved this consumer")
    checks = adapter.check()
    assert checks[0].name == "salesforce.token" and not checks[0].ok
    assert "pre-authorised" in checks[0].message
    assert sf.requests == []


def test_low_allowance_is_reported(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    sf.set_api_usage(97_000, 100_000)
    (problem,) = failed(adapter)
    assert (problem.name, problem.severity) == ("salesforce.api_allowance", "warning")
    assert "api_reserve_percent" in problem.message


def test_browser_logging_checks_nothing_remote(make_adapter: Build, sf: FakeSalesforce) -> None:
    (check,) = make_adapter(logging_path="browser").check()
    assert check.ok and check.severity == "info"
    assert sf.token_requests == 0


# -- the agents' access to the CallSid field (logging_path = "both") -------------------------

def agent_verdict(adapter: SalesforceAdapter) -> Check:
    (check,) = verdicts(adapter)["salesforce.agent_callsid_field"]
    return check


def test_agents_access_is_not_needed_without_the_browser_path(adapter: SalesforceAdapter,
                                                               sf: FakeSalesforce) -> None:
    check = agent_verdict(adapter)
    assert check.ok and check.severity == "info" and "not needed" in check.message
    assert sf.count("GET", "query") == 0  # nothing read for it


def test_shipped_agent_permission_set_lets_agents_edit_the_callsid(make_adapter: Build,
                                                                  sf: FakeSalesforce) -> None:
    sf.add_agent_user("hanako@acme.example")
    sf.add_agent_user("taro@acme.example")
    check = agent_verdict(make_adapter(logging_path="both"))
    assert check.ok, check
    assert check.message == "agents (CTI_Connector_Agent, 2 users) can edit Task.CTI_CallSid__c"


def test_read_only_for_agents_is_an_error(make_adapter: Build, sf: FakeSalesforce) -> None:
    sf.add_agent_user("hanako@acme.example")
    sf.grant_field(sf.permission_set_id("CTI_Connector_Agent"), "Task.CTI_CallSid__c",
                   readable=True, editable=False)  # the package before issue 17
    adapter = make_adapter(logging_path="both")
    (problem,) = failed(adapter)
    assert (problem.name, problem.severity) == ("salesforce.agent_callsid_field", "error")
    assert "read-only for agents" in problem.message and "redeploy sfdc-package/" in problem.message
    assert agent_verdict(adapter) == problem
    # The integration user's own access is still fine: a separate verdict.
    assert verdicts(adapter)["salesforce.task_callsid_field"][0].ok


def test_hidden_from_agents_is_an_error(make_adapter: Build, sf: FakeSalesforce) -> None:
    sf.add_agent_user("hanako@acme.example")
    sf.grant_field(sf.permission_set_id("CTI_Connector_Agent"), "Task.CTI_CallSid__c",
                   readable=False, editable=False)
    check = agent_verdict(make_adapter(logging_path="both"))
    assert not check.ok and "cannot see Task.CTI_CallSid__c" in check.message


def test_grant_recorded_on_activity_counts(make_adapter: Build, sf: FakeSalesforce) -> None:
    sf.add_agent_user("hanako@acme.example")
    permission_set = sf.permission_set_id("CTI_Connector_Agent")
    sf.grant_field(permission_set, "Task.CTI_CallSid__c", readable=False, editable=False)
    sf.grant_field(permission_set, "Activity.CTI_CallSid__c", readable=True, editable=True)
    assert agent_verdict(make_adapter(logging_path="both")).ok


def test_agent_permission_set_missing_or_unassigned(make_adapter: Build,
                                                    sf: FakeSalesforce) -> None:
    adapter = make_adapter(logging_path="both")
    missing = agent_verdict(adapter)
    assert not missing.ok and missing.severity == "error"
    assert "CTI_Connector_Agent is not in the org" in missing.message
    sf.deploy_permission_sets()  # deployed, assigned to nobody
    unassigned = agent_verdict(adapter)
    assert (unassigned.ok, unassigned.severity) == (False, "warning")
    assert "no user has the CTI_Connector_Agent permission set" in unassigned.message


def test_permission_sets_unreadable_is_a_warning(make_adapter: Build, sf: FakeSalesforce) -> None:
    sf.schema.pop("PermissionSet")  # as for an integration user without View Setup
    check = agent_verdict(make_adapter(logging_path="both"))
    assert (check.ok, check.severity) == (False, "warning")
    assert "View Setup and Configuration" in check.message
