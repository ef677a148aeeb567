"""Call logs as Tasks: batching, idempotency, Task rules, owners, locks and the API reserve."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from crm_adapters.errors import AdapterConfigError, AdapterRateLimited, AdapterTemporaryError
from crm_adapters.salesforce import SalesforceAdapter
from crm_adapters.testing import sample_log
from tests.fakes.salesforce import FakeSalesforce

Build = Callable[..., SalesforceAdapter]
UPSERT = "composite/sobjects/Task/CTI_CallSid__c"


def sid(i: int) -> str:
    return f"CA{i:032x}"


def write_in_batches(adapter: SalesforceAdapter, logs: list) -> list:
    results = []
    for start in range(0, len(logs), adapter.write_batch_limit):
        results += adapter.write_call_logs(logs[start:start + adapter.write_batch_limit])
    return results


def test_500_calls_in_three_write_requests(adapter: SalesforceAdapter,
                                           sf: FakeSalesforce) -> None:
    for agent in ("agent1@example.com", "agent2@example.com"):
        sf.add_user(agent)
    logs = [sample_log(sid(i), agent_crm_user=f"agent{i % 2 + 1}@example.com")
            for i in range(500)]
    results = write_in_batches(adapter, logs)
    assert all(r.ok for r in results) and len({r.record_id for r in results}) == 500
    assert sf.count("PATCH", UPSERT) == 3
    assert sf.count("GET", "query") == 1  # both agents resolved once, then cached
    assert sf.token_requests == 1
    assert len(sf.records["Task"]) == 500


def test_task_fields(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    contact = sf.add_customer("山田 太郎", "03-1234-5678")
    log = sample_log(sid(1), customer_record_id=contact, customer_object_type="Contact",
                     customer_name="山田 太郎", recording_url="https://cti.example.com/r/abc",
                     started_at="2026-11-20T15:30:00Z")  # 00:30 on the 21st in Tokyo
    (result,) = adapter.write_call_logs([log])
    (task,) = sf.logs_for(log.call_sid)
    assert result.record_id == task["Id"]
    assert {k: task[k] for k in ("Subject", "Status", "TaskSubtype", "CallType",
                                 "CallDurationInSeconds", "CallObject", "CallDisposition",
                                 "Description", "ActivityDate", "WhoId",
                                 "CTI_Recording_URL__c")} == {
        "Subject": "着信 山田 太郎", "Status": "Completed", "TaskSubtype": "Call",
        "CallType": "Inbound", "CallDurationInSeconds": 180, "CallObject": log.call_sid,
        "CallDisposition": "解決", "Description": "請求書の再送を依頼された",
        "ActivityDate": "2026-11-21", "WhoId": contact,
        "CTI_Recording_URL__c": "https://cti.example.com/r/abc"}
    assert "WhatId" not in task
    assert task["OwnerId"] == sf.integration_user_id


def test_missed_and_outbound_subjects(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    missed = sample_log(sid(2), answered_at=None, status="no-answer", talk_seconds=0,
                        disposition="")
    outbound = sample_log(sid(3), direction="outbound", customer_number="+819012345678",
                          talk_seconds=-5)
    adapter.write_call_logs([missed, outbound])
    (m,), (o,) = sf.logs_for(missed.call_sid), sf.logs_for(outbound.call_sid)
    assert (m["Subject"], m["CallDisposition"], m["CallDurationInSeconds"]) == (
        "不在着信 03-1234-5678", "応答なし", 0)
    assert (o["Subject"], o["CallType"], o["CallDurationInSeconds"]) == (
        "発信 090-1234-5678", "Outbound", 0)


def test_rewrite_keeps_one_task_and_handles_insert_only_subtype(adapter: SalesforceAdapter,
                                                                sf: FakeSalesforce) -> None:
    log = sample_log(sid(4), notes="通話中メモ")
    first = adapter.write_call_logs([log])[0]
    second = adapter.write_call_logs([sample_log(sid(4), notes="後処理で追記")])[0]
    assert first.ok and second.ok and first.record_id == second.record_id
    (task,) = sf.logs_for(log.call_sid)
    assert (task["TaskSubtype"], task["Description"]) == ("Call", "後処理で追記")
    # Insert: one request. Re-write: the upsert, then the same record without TaskSubtype.
    assert sf.count("PATCH", UPSERT) == 3


def test_mixed_batch_resends_only_existing_tasks(adapter: SalesforceAdapter,
                                                 sf: FakeSalesforce) -> None:
    adapter.write_call_logs([sample_log(sid(5))])
    results = adapter.write_call_logs([sample_log(sid(5)), sample_log(sid(6))])
    assert all(r.ok for r in results)
    assert [len(sf.logs_for(sid(i))) for i in (5, 6)] == [1, 1]
    assert sf.logs_for(sid(6))[0]["TaskSubtype"] == "Call"


def test_retries_after_failures_never_duplicate(adapter: SalesforceAdapter,
                                                sf: FakeSalesforce) -> None:
    logs = [sample_log(sid(i)) for i in range(10, 15)]
    for failure in ("500", "503", "timeout", "UNABLE_TO_LOCK_ROW"):
        sf.fail_next(failure)
        with pytest.raises(AdapterTemporaryError):
            adapter.write_call_logs(logs)
    assert all(r.ok for r in adapter.write_call_logs(logs))
    assert [len(sf.logs_for(log.call_sid)) for log in logs] == [1] * 5


@pytest.mark.parametrize("failure", ["UNABLE_TO_LOCK_ROW", "LOCK_IN_FLOW"])
def test_record_locks_are_temporary(adapter: SalesforceAdapter, sf: FakeSalesforce,
                                    failure: str) -> None:
    sf.fail_next(failure)
    with pytest.raises(AdapterTemporaryError, match="locked") as caught:
        adapter.write_call_logs([sample_log(sid(20)), sample_log(sid(21))])
    assert not isinstance(caught.value, AdapterRateLimited)


def test_lead_gets_no_related_to(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    account = sf.add_record("Account", Name="山田商事")
    lead = sf.add_record("Lead", Name="佐藤 花子", Company="佐藤工業")
    adapter.write_call_logs([sample_log(sid(30), customer_record_id=account,
                                        customer_object_type="Account")])
    # The agent re-assigns the call to a Lead during wrap-up: WhatId must be cleared.
    (result,) = adapter.write_call_logs([sample_log(sid(30), customer_record_id=lead,
                                                    customer_object_type="Lead")])
    assert result.ok, result
    (task,) = sf.logs_for(sid(30))
    assert (task["WhoId"], task["WhatId"]) == (lead, None)


def test_object_type_inferred_from_the_id(adapter: SalesforceAdapter,
                                          sf: FakeSalesforce) -> None:
    account = sf.add_record("Account", Name="山田商事")
    adapter.write_call_logs([sample_log(sid(31), customer_record_id=account)])
    assert sf.logs_for(sid(31))[0]["WhatId"] == account


def test_owner_by_email_and_unknown_agent(make_adapter: Build, sf: FakeSalesforce,
                                          caplog: pytest.LogCaptureFixture) -> None:
    adapter = make_adapter(agent_match="email")
    known = sf.add_user("hanako@acme.example", "Hanako@Example.com")
    logs = [sample_log(sid(40), agent_crm_user="hanako@example.com"),
            sample_log(sid(41), agent_crm_user="nobody@example.com")]
    with caplog.at_level(logging.WARNING, "cti.crm.salesforce"):
        results = adapter.write_call_logs(logs)
    assert all(r.ok for r in results)
    assert sf.logs_for(sid(40))[0]["OwnerId"] == known
    assert sf.logs_for(sid(41))[0]["OwnerId"] == sf.integration_user_id
    assert "nobody@example.com" in caplog.text and "integration user" in caplog.text
    adapter.write_call_logs([sample_log(sid(42), agent_crm_user="nobody@example.com")])
    assert sf.count("GET", "query") == 1  # the unknown agent is remembered, not re-queried


def test_inactive_user_is_not_an_owner(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    sf.add_user("gone@example.com", active=False)
    adapter.write_call_logs([sample_log(sid(43), agent_crm_user="gone@example.com")])
    assert sf.logs_for(sid(43))[0]["OwnerId"] == sf.integration_user_id


def test_per_record_rejection_is_reported_not_raised(make_adapter: Build,
                                                     sf: FakeSalesforce) -> None:
    adapter = make_adapter(task_status="Done")  # not a value of the org's Status picklist
    (result,) = adapter.write_call_logs([sample_log(sid(50))])
    assert not result.ok and result.field == "Status"
    assert result.error.startswith("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")


def test_reserve_reached_defers_without_writing(adapter: SalesforceAdapter,
                                                sf: FakeSalesforce) -> None:
    sf.add_user("agent1@example.com")
    sf.set_api_usage(95_000, 100_000)  # 5 % left, reserve is 10 %
    with pytest.raises(AdapterRateLimited, match="api_reserve_percent") as caught:
        adapter.write_call_logs([sample_log(sid(60), agent_crm_user="agent1@example.com")])
    assert caught.value.retry_after
    assert sf.count("PATCH") == 0 and sf.logs_for(sid(60)) == []


def test_reserve_learnt_from_any_earlier_response(adapter: SalesforceAdapter,
                                                  sf: FakeSalesforce) -> None:
    sf.set_api_usage(99_000, 100_000)
    adapter.lookup_by_phone("+81312345678")
    assert adapter.api_usage is not None and adapter.api_usage.used == 99_001
    with pytest.raises(AdapterRateLimited):
        adapter.write_call_logs([sample_log(sid(61))])
    assert sf.count("PATCH") == 0


def test_zero_reserve_writes_until_the_org_says_stop(make_adapter: Build,
                                                     sf: FakeSalesforce) -> None:
    adapter = make_adapter(api_reserve_percent=0)
    sf.set_api_usage(99_999, 100_000)
    adapter.lookup_by_phone("+81312345678")
    with pytest.raises(AdapterRateLimited, match="exhausted"):
        adapter.write_call_logs([sample_log(sid(62))])


def test_missing_callsid_field_is_a_config_error(adapter: SalesforceAdapter,
                                                 sf: FakeSalesforce) -> None:
    sf.remove_field("Task", "CTI_CallSid__c")
    with pytest.raises(AdapterConfigError, match="CTI_CallSid__c"):
        adapter.write_call_logs([sample_log(sid(70))])


def test_long_recording_link_goes_to_the_description(adapter: SalesforceAdapter,
                                                     sf: FakeSalesforce) -> None:
    link = "https://cti.example.com/r/" + "x" * 300
    adapter.write_call_logs([sample_log(sid(71), recording_url=link)])
    (task,) = sf.logs_for(sid(71))
    assert "CTI_Recording_URL__c" not in task and task["Description"].endswith(link)


def test_browser_logging_makes_no_api_calls(make_adapter: Build, sf: FakeSalesforce) -> None:
    adapter = make_adapter(logging_path="browser")
    with pytest.raises(AdapterConfigError, match="browser"):
        adapter.write_call_logs([sample_log(sid(80))])
    assert sf.requests == [] and sf.token_requests == 0


def test_batch_larger_than_a_collection_is_refused(adapter: SalesforceAdapter) -> None:
    with pytest.raises(ValueError, match="200"):
        adapter.write_call_logs([sample_log(sid(i)) for i in range(201)])


def test_two_versions_of_one_call_in_a_batch(adapter: SalesforceAdapter,
                                             sf: FakeSalesforce) -> None:
    results = adapter.write_call_logs([sample_log(sid(90), notes="古い"), sample_log(sid(91)),
                                       sample_log(sid(90), notes="新しい")])
    assert [r.call_sid for r in results] == [sid(90), sid(91), sid(90)]
    assert all(r.ok for r in results) and results[0].record_id == results[2].record_id
    (task,) = sf.logs_for(sid(90))
    assert task["Description"] == "新しい"
