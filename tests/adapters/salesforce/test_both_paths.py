"""logging_path = "both": the browser's saveLog and the server's upsert make one Task per call.

The browser's Task carries the CallSid in the unique external-id field the server upserts on,
so whichever comes first creates the Task and the other lands on it (docs/salesforce.md).
The browser side is the fake org's saveLog endpoint, which the fake Lightning page calls.
"""

from __future__ import annotations

import requests

from crm_adapters.salesforce import SalesforceAdapter
from crm_adapters.testing import sample_log
from tests.fakes.salesforce import FakeSalesforce

CALL_SID = "CA" + "b" * 32


def browser_save_log(sf: FakeSalesforce, **fields: object) -> requests.Response:
    """What the softphone's saveLog writes (static/softphone/js/bridges/salesforce.js)."""
    value = {"entityApiName": "Task", "Subject": "着信 山田 太郎", "Status": "Completed",
             "TaskSubtype": "Call", "CallType": "Inbound", "CallDurationInSeconds": 170,
             "CallObject": CALL_SID, "CTI_CallSid__c": CALL_SID, "CallDisposition": "解決",
             "Description": "ブラウザーのメモ", "ActivityDate": "2026-11-20", **fields}
    return requests.post(sf.url + "/lightning/savelog", json=value,  # type: ignore[attr-defined]
                         timeout=5)


def test_browser_first_then_server_updates_the_same_task(adapter: SalesforceAdapter,
                                                         sf: FakeSalesforce) -> None:
    saved = browser_save_log(sf)
    assert saved.status_code == 200

    (result,) = adapter.write_call_logs([sample_log(CALL_SID)])

    assert result.ok and result.record_id == saved.json()["id"]
    (task,) = sf.logs_for(CALL_SID)
    assert task["Description"] == "請求書の再送を依頼された"  # the server's complete version
    assert task["TaskSubtype"] == "Call"


def test_server_first_then_browser_is_refused_as_a_duplicate(adapter: SalesforceAdapter,
                                                             sf: FakeSalesforce) -> None:
    (result,) = adapter.write_call_logs([sample_log(CALL_SID)])

    refused = browser_save_log(sf)

    assert refused.status_code == 400
    (error,) = refused.json()
    assert error["errorCode"] == "DUPLICATE_VALUE" and error["fields"] == ["CTI_CallSid__c"]
    assert [t["Id"] for t in sf.logs_for(CALL_SID)] == [result.record_id]


def test_browser_task_is_owned_by_the_signed_in_user(sf: FakeSalesforce) -> None:
    agent = sf.add_user("taro@acme.example")
    sf.sign_in_browser(agent)

    saved = browser_save_log(sf)

    assert sf.records["Task"][saved.json()["id"]]["OwnerId"] == agent


def test_agent_with_the_shipped_permission_set_sets_the_callsid(adapter: SalesforceAdapter,
                                                                sf: FakeSalesforce) -> None:
    sf.sign_in_browser(sf.add_agent_user("hanako@acme.example"))

    saved = browser_save_log(sf)
    (result,) = adapter.write_call_logs([sample_log(CALL_SID)])

    assert saved.status_code == 200 and result.record_id == saved.json()["id"]
    assert len(sf.logs_for(CALL_SID)) == 1


def test_read_only_callsid_refuses_the_agents_task_and_the_server_writes_one(
        adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    agent = sf.add_agent_user("hanako@acme.example")
    sf.grant_field(sf.permission_set_id("CTI_Connector_Agent"), "Task.CTI_CallSid__c",
                   readable=True, editable=False)
    sf.sign_in_browser(agent)

    refused = browser_save_log(sf)
    (result,) = adapter.write_call_logs([sample_log(CALL_SID)])

    (error,) = refused.json()
    assert error["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert error["fields"] == ["CTI_CallSid__c"]
    assert result.ok and [t["Id"] for t in sf.records["Task"].values()] == [result.record_id]


def test_a_field_hidden_from_the_agent_looks_missing(sf: FakeSalesforce) -> None:
    """Salesforce answers a field hidden by field-level security like an unknown one."""
    agent = sf.add_agent_user("hanako@acme.example")
    sf.grant_field(sf.permission_set_id("CTI_Connector_Agent"), "Task.CTI_CallSid__c",
                   readable=False, editable=False)
    sf.sign_in_browser(agent)

    (error,) = browser_save_log(sf).json()
    assert error["errorCode"] == "INVALID_FIELD" and "No such column" in error["message"]
