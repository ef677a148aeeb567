"""The built-in CRM's adapter beyond the shared contract: lookups, upserts, sync and checks."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from importlib.metadata import entry_points

import pytest
from sqlalchemy import update

from connector.builtin_crm import store
from connector.schema import customers
from crm_adapters.base import AdapterEnvironment, Customer
from crm_adapters.builtin import BuiltinCRMAdapter, BuiltinSettings
from crm_adapters.errors import AdapterConfigError
from crm_adapters.http import TimeoutSession
from crm_adapters.settings import SettingsError, parse_settings
from crm_adapters.testing import sample_log
from tests.adapters.builtin.conftest import PUBLIC_URL
from tests.fakes.builtin_crm import BuiltinCRM

SID = "CA" + "a" * 32


def _delete(crm: BuiltinCRM, record_id: str) -> None:
    with crm.engine.begin() as conn:
        assert store.delete_customer(conn, int(record_id), datetime.now(UTC))


def _touch(crm: BuiltinCRM, record_id: str, at: datetime) -> None:
    with crm.engine.begin() as conn:
        conn.execute(update(customers).where(customers.c.id == int(record_id))
                     .values(updated_at=at))


# -- lookups -----------------------------------------------------------------------------------

def test_lookup_returns_every_number_of_the_customer_and_its_pop_url(adapter, crm):
    record_id = crm.add_customer("山田 太郎", "03-1234-5678", company="山田商事",
                                 phones=["03-1234-5678", {"number": "090-1111-2222",
                                                          "label": "携帯"}])
    (found,) = adapter.lookup_by_phone("+819011112222")
    assert found == Customer(
        adapter="builtin", record_id=record_id, display_name="山田 太郎", object_type="customer",
        company="山田商事", phone_numbers=("+81312345678", "+819011112222"),
        url=f"{PUBLIC_URL}/crm/customers/{record_id}", updated_at=found.updated_at)
    assert found.updated_at.endswith("Z")
    assert adapter.screen_pop_url(found) == f"{PUBLIC_URL}/crm/customers/{record_id}"


def test_deleted_customers_never_match(adapter, crm):
    kept = crm.add_customer("山田 太郎", "03-1234-5678")
    gone = crm.add_customer("山田 花子", "03-1234-5678")
    _delete(crm, gone)
    assert [c.record_id for c in adapter.lookup_by_phone("+81312345678")] == [kept]


def test_lookup_limit_keeps_the_most_recently_changed(make_adapter, crm):
    ids = [crm.add_customer(f"顧客 {i}", "0312345678") for i in range(4)]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for offset, record_id in enumerate(ids):
        _touch(crm, record_id, base + timedelta(days=offset))
    adapter = make_adapter(lookup_limit=2)
    assert [c.record_id for c in adapter.lookup_by_phone("+81312345678")] == [ids[3], ids[2]]


def test_lookup_on_unmigrated_database_is_a_config_error(make_adapter, tmp_path):
    adapter = make_adapter(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(AdapterConfigError, match="cti db upgrade"):
        adapter.lookup_by_phone("+81312345678")


def test_no_database_url_is_a_config_error():
    with pytest.raises(AdapterConfigError, match="database"):
        BuiltinCRMAdapter(BuiltinSettings(), http=TimeoutSession(),
                          env=AdapterEnvironment(database_url=""))


# -- writes ------------------------------------------------------------------------------------

def test_write_stores_every_field_and_links_the_customer(adapter, crm):
    record_id = crm.add_customer("山田 太郎", "03-1234-5678")
    log = sample_log(SID, customer_record_id=record_id, recording_url="https://x/rec/1")
    (result,) = adapter.write_call_logs([log])
    (row,) = crm.logs_for(SID)
    assert result.record_id == str(row["id"])
    assert row["customer_id"] == int(record_id)
    assert row["started_at"] == datetime(2026, 11, 20, 1, 2, 3, tzinfo=UTC)
    assert row["talk_seconds"] == 180 and row["duration_seconds"] == 187
    assert (row["agent_name"], row["disposition"], row["notes"], row["recording_url"]) == (
        "佐藤 花子", "解決", "請求書の再送を依頼された", "https://x/rec/1")


def test_rewrite_without_customer_keeps_the_earlier_link(adapter, crm):
    record_id = crm.add_customer("山田 太郎", "03-1234-5678")
    adapter.write_call_logs([sample_log(SID, customer_record_id=record_id)])
    adapter.write_call_logs([sample_log(SID, notes="wrap-up")])
    (row,) = crm.logs_for(SID)
    assert row["customer_id"] == int(record_id) and row["notes"] == "wrap-up"


def test_unknown_customer_is_stored_without_link(adapter, crm, caplog):
    (result,) = adapter.write_call_logs([sample_log(SID, customer_record_id="999999")])
    assert result.ok
    assert crm.logs_for(SID)[0]["customer_id"] is None
    assert "unknown customer" in caplog.text


def test_bad_records_are_refused_alone_naming_the_field(adapter, crm):
    logs = [sample_log("CA" + "1" * 32), sample_log("CA" + "2" * 32, started_at="yesterday"),
            sample_log("CA" + "3" * 32, direction="sideways"),
            sample_log("CA" + "4" * 32, customer_number="+81" + "1" * 30)]
    results = adapter.write_call_logs(logs)
    assert [(r.ok, r.field) for r in results] == [
        (True, ""), (False, "started_at"), (False, "direction"), (False, "customer_number")]
    assert "ISO 8601" in results[1].error
    assert len(crm.logs_for("CA" + "1" * 32)) == 1
    assert crm.logs_for("CA" + "2" * 32) == []


def test_long_free_text_is_shortened_not_refused(adapter, crm):
    (result,) = adapter.write_call_logs([sample_log(SID, disposition="長" * 150)])
    assert result.ok
    stored = crm.logs_for(SID)[0]["disposition"]
    assert len(stored) == 100 and stored.endswith("…")


def test_same_call_sid_twice_in_a_batch_keeps_the_later(adapter, crm):
    results = adapter.write_call_logs([sample_log(SID, notes="first"),
                                       sample_log(SID, notes="second")])
    assert results[0].record_id == results[1].record_id
    (row,) = crm.logs_for(SID)
    assert row["notes"] == "second"


def test_more_logs_than_one_batch_are_all_written(adapter, crm):
    logs = [sample_log(f"CA{i:032d}") for i in range(adapter.write_batch_limit + 3)]
    results = adapter.write_call_logs(logs)
    assert [r.call_sid for r in results] == [log.call_sid for log in logs]
    assert all(r.ok for r in results)
    assert len({r.record_id for r in results}) == len(logs)


# -- sync --------------------------------------------------------------------------------------

def test_changed_since_is_oldest_first_across_pages(make_adapter, crm):
    adapter = make_adapter(sync_page_size=10)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [crm.add_customer(f"顧客 {i}", f"03-1234-{i:04d}") for i in range(25)]
    for offset, record_id in enumerate(reversed(ids)):
        # Pairs share a timestamp, so the (updated_at, id) keyset is what keeps pages apart.
        _touch(crm, record_id, base + timedelta(minutes=offset // 2))
    everyone = list(adapter.contacts_changed_since(None))
    assert [c.record_id for c in everyone] == _expected_order(ids)
    since = base + timedelta(minutes=10)
    later = [c.record_id for c in adapter.contacts_changed_since(since)]
    assert later == [c.record_id for c in everyone
                     if datetime.fromisoformat(c.updated_at) >= since]
    assert 0 < len(later) < 25


def _expected_order(ids: list[str]) -> list[str]:
    keyed = [((len(ids) - 1 - position) // 2, int(record_id))
             for position, record_id in enumerate(ids)]
    return [str(record_id) for _minute, record_id in sorted(keyed)]


def test_deleted_customers_are_synced_without_numbers(adapter, crm):
    gone = crm.add_customer("山田 花子", "03-1234-5678")
    _delete(crm, gone)
    (synced,) = list(adapter.contacts_changed_since(None))
    assert synced.record_id == gone and synced.phone_numbers == ()


# -- check, settings, packaging ----------------------------------------------------------------

def test_check_reports_customer_count(adapter, crm):
    crm.add_customer("山田 太郎", "03-1234-5678")
    (verdict,) = adapter.check()
    assert verdict.ok and "1 customers" in verdict.message


def test_check_on_empty_crm_suggests_import(adapter):
    verdicts = adapter.check()
    assert [v.severity for v in verdicts] == ["info", "warning"]
    assert "cti crm import" in verdicts[1].message


def test_check_on_unreachable_database_names_it_without_password(make_adapter):
    adapter = make_adapter("postgresql://cti:pw-s3cret-xyz@127.0.0.1:1/cti")
    (verdict,) = adapter.check()
    assert not verdict.ok and verdict.severity == "error"
    assert "unreachable" in verdict.message and "pw-s3cret-xyz" not in verdict.message


def test_check_on_unmigrated_database(make_adapter, tmp_path):
    (verdict,) = make_adapter(f"sqlite:///{tmp_path / 'empty.db'}").check()
    assert not verdict.ok and "cti db upgrade" in verdict.message


def test_settings_parse_and_name_bad_keys():
    parsed = parse_settings(BuiltinSettings, {"lookup_limit": 5}, where="crm.builtin")
    assert parsed == BuiltinSettings(lookup_limit=5)
    with pytest.raises(SettingsError) as excinfo:
        parse_settings(BuiltinSettings, {"lock_timeout_seconds": 0, "colour": "red"},
                       where="crm.builtin")
    problems = excinfo.value.problems
    assert any(p.startswith("crm.builtin.colour: unknown key") for p in problems)
    with pytest.raises(SettingsError, match="crm.builtin: lock_timeout_seconds: must be"):
        parse_settings(BuiltinSettings, {"lock_timeout_seconds": 0}, where="crm.builtin")


def test_registered_as_entry_point():
    (entry,) = [e for e in entry_points(group="cti.crm_adapters") if e.name == "builtin"]
    assert entry.load() is BuiltinCRMAdapter
    assert BuiltinCRMAdapter.name == "builtin" and BuiltinCRMAdapter.supports_sync


def test_adapter_package_imports_neither_flask_nor_connector():
    code = ("import sys, crm_adapters.builtin; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'connector')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
