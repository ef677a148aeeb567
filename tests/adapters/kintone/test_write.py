"""Automatic call logging (KT-5): upserts keyed on CallSid, batches, per-record rejections."""

from __future__ import annotations

from typing import Any

import pytest

from crm_adapters.errors import AdapterConfigError, AdapterTemporaryError
from crm_adapters.kintone import KintoneAdapter
from crm_adapters.testing import sample_log
from tests.fakes.kintone import CALL_HISTORY_FIELDS, CRM_TOKEN, HISTORY_TOKEN, FakeKintone

from .conftest import MakeAdapter


def sid(i: int) -> str:
    return f"CA{i:032x}"


def upserts(fake: FakeKintone) -> list[dict[str, Any]]:
    return [r for r in fake.requests("PUT", "records") if r["params"].get("upsert")]


def test_a_thousand_calls_take_ten_requests(adapter: KintoneAdapter, fake: FakeKintone) -> None:
    logs = [sample_log(sid(i)) for i in range(1000)]
    results = []
    for start in range(0, 1000, adapter.write_batch_limit):
        results += adapter.write_call_logs(logs[start:start + adapter.write_batch_limit])
    assert adapter.write_batch_limit == 100
    assert all(r.ok for r in results) and len({r.record_id for r in results}) == 1000
    assert len(upserts(fake)) == 10
    assert len(fake.records(fake.call_history_app_id)) == 1000


def test_a_long_list_is_split_into_batches_of_100(adapter: KintoneAdapter,
                                                  fake: FakeKintone) -> None:
    results = adapter.write_call_logs([sample_log(sid(i)) for i in range(250)])
    assert [r.call_sid for r in results] == [sid(i) for i in range(250)]
    assert [len(r["params"]["records"]) for r in upserts(fake)] == [100, 100, 50]


def test_values_are_written_in_kintone_formats(adapter: KintoneAdapter,
                                               fake: FakeKintone) -> None:
    log = sample_log(sid(1), started_at="2026-11-20T10:02:03+09:00", customer_record_id="7",
                     customer_name="山田 太郎", recording_url="https://cti.example/r/1")
    (result,) = adapter.write_call_logs([log])
    (stored,) = fake.logs_for(sid(1))
    f = CALL_HISTORY_FIELDS
    assert stored["$id"] == result.record_id
    assert stored[f["direction"]] == "着信"
    assert stored[f["started_at"]] == "2026-11-20T01:02:00Z"  # UTC; the fake drops seconds
    sent = upserts(fake)[0]["params"]["records"][0]
    assert sent["updateKey"] == {"field": "CallSid", "value": sid(1)}
    record = sent["record"]
    assert "CallSid" not in record  # kintone takes the key from updateKey
    assert record[f["started_at"]] == {"value": "2026-11-20T01:02:03Z"}
    assert record[f["duration_seconds"]] == {"value": "187"}
    assert record[f["talk_seconds"]] == {"value": "180"}
    assert record[f["answered_at"]] == {"value": "2026-11-20T01:02:10Z"}
    assert record[f["agent"]] == {"value": "佐藤 花子"}
    assert record[f["customer_record_id"]] == {"value": "7"}
    assert record[f["notes"]] == {"value": "請求書の再送を依頼された"}


def test_unmapped_fields_are_not_written(make_adapter: MakeAdapter, fake: FakeKintone) -> None:
    adapter = make_adapter(apps=[_crm(fake), _history(fake, {"call_sid": "CallSid",
                                                            "notes": "メモ"})])
    assert adapter.write_call_logs([sample_log(sid(2))])[0].ok
    assert set(upserts(fake)[0]["params"]["records"][0]["record"]) == {"メモ"}


def test_retries_after_failures_never_duplicate(adapter: KintoneAdapter,
                                                fake: FakeKintone) -> None:
    logs = [sample_log(sid(i)) for i in range(20)]
    for failure in ("500", "GAIA_RE18", "GAIA_DA02", "timeout"):
        fake.fail_next(failure)
        with pytest.raises(AdapterTemporaryError):
            adapter.write_call_logs(logs)
        assert all(r.ok for r in adapter.write_call_logs(logs))
    records = fake.records(fake.call_history_app_id)
    assert sorted(r["CallSid"] for r in records) == sorted(log.call_sid for log in logs)


def test_a_rejected_record_does_not_lose_the_others(adapter: KintoneAdapter,
                                                    fake: FakeKintone) -> None:
    logs = [sample_log(sid(i)) for i in range(5)]
    logs[3] = sample_log(sid(3), notes="長" * 1001)  # the メモ field holds at most 1,000
    results = adapter.write_call_logs(logs)
    assert [r.ok for r in results] == [True, True, True, False, True]
    assert results[3].field == "メモ"
    assert "メモ" in results[3].error and "1000" in results[3].error
    assert not results[3].record_id
    stored = {r["CallSid"] for r in fake.records(fake.call_history_app_id)}
    assert stored == {sid(i) for i in (0, 1, 2, 4)}
    assert len(upserts(fake)) == 2  # the batch, then the batch without the bad record


def test_every_record_rejected(adapter: KintoneAdapter, fake: FakeKintone) -> None:
    logs = [sample_log(sid(i), notes="長" * 1001) for i in range(3)]
    results = adapter.write_call_logs(logs)
    assert [r.ok for r in results] == [False] * 3
    assert fake.records(fake.call_history_app_id) == []


def test_a_call_sid_twice_in_one_batch_is_written_once(adapter: KintoneAdapter,
                                                       fake: FakeKintone) -> None:
    results = adapter.write_call_logs([sample_log(sid(9), notes="一回目"),
                                       sample_log(sid(9), notes="二回目")])
    assert results[0] == results[1] and results[0].ok
    (stored,) = fake.logs_for(sid(9))
    assert stored["メモ"] == "二回目"


def test_a_time_without_zone_fails_only_that_log(adapter: KintoneAdapter,
                                                 fake: FakeKintone) -> None:
    results = adapter.write_call_logs([sample_log(sid(1), started_at="2026-11-20T10:00:00"),
                                       sample_log(sid(2))])
    assert not results[0].ok and "time zone" in results[0].error
    assert results[1].ok
    assert [r["CallSid"] for r in fake.records(fake.call_history_app_id)] == [sid(2)]


def test_agent_user_and_direction_labels(make_adapter: MakeAdapter, fake: FakeKintone) -> None:
    fields = {"call_sid": "CallSid", "agent_user": "担当ユーザー", "direction": "方向"}
    adapter = make_adapter(apps=[_crm(fake), {**_history(fake, fields), "direction_labels": {
        "inbound": "着信", "outbound": "発信"}}])
    adapter.write_call_logs([sample_log(sid(1), direction="outbound", agent_crm_user="sato")])
    record = upserts(fake)[0]["params"]["records"][0]["record"]
    assert record["担当ユーザー"] == {"value": [{"code": "sato"}]}
    assert record["方向"] == {"value": "発信"}


def test_without_a_call_history_app_writes_are_a_config_error(make_adapter: MakeAdapter,
                                                              fake: FakeKintone) -> None:
    adapter = make_adapter(apps=[_crm(fake)])
    with pytest.raises(AdapterConfigError, match="call_history"):
        adapter.write_call_logs([sample_log()])


def _crm(fake: FakeKintone) -> dict[str, Any]:
    return {"name": "顧客管理", "kind": "crm", "app_id": fake.crm_app_id,
            "api_token": CRM_TOKEN, "phone_fields": ["電話番号"], "name_fields": ["顧客名"]}


def _history(fake: FakeKintone, fields: dict[str, str]) -> dict[str, Any]:
    return {"name": "通話履歴", "kind": "call_history", "app_id": fake.call_history_app_id,
            "api_token": HISTORY_TOKEN, "fields": fields}
