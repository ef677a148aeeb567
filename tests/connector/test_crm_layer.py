"""CRM layer: registry, phone index, ringing-path lookups, syncs."""

import time
from importlib.metadata import EntryPoint

import pytest

from connector import crm, db, phone_index, sync
from connector.config import ConfigError
from crm_adapters.base import Customer
from crm_adapters.example import ExampleAdapter
from crm_adapters.registry import AdapterRegistry, RegistryError
from tests.connector.crm_fixtures import crm_section

# -- registry ----------------------------------------------------------------------------------

def test_builtin_adapters_are_found_through_entry_points():
    registry = AdapterRegistry.from_entry_points(["example", "salesforce", "kintone"])
    assert {"example", "salesforce", "kintone"} <= set(registry.names())
    assert registry.get("example") is ExampleAdapter


def test_unknown_adapter_is_a_config_error_naming_it(make_app):
    with pytest.raises(ConfigError) as excinfo:
        make_app(crm={"adapters": ["nosuchcrm"]})
    assert "crm.adapters[0]: no CRM adapter named 'nosuchcrm' is installed" in str(excinfo.value)


def test_adapter_settings_errors_name_the_key(make_app):
    with pytest.raises(ConfigError) as excinfo:
        make_app(crm={"adapters": ["example"], "example": {"base_url": "https://x",
                                                           "api_tokn": "t"}})
    message = str(excinfo.value)
    assert "crm.example.api_tokn: unknown key" in message


def test_broken_adapter_does_not_break_the_others(make_app, fake_crm, monkeypatch):
    real = __import__("importlib.metadata", fromlist=["entry_points"]).entry_points

    def with_broken(group):
        found = list(real(group=group))
        return [*found, EntryPoint("broken", "no_such_module:Adapter", group)]

    monkeypatch.setattr("crm_adapters.registry.entry_points", with_broken)
    app = make_app(crm={**crm_section(fake_crm), "adapters": ["example", "broken"]})
    layer = crm.get_layer(app)
    assert list(layer.adapters) == ["example"]
    assert "broken" in layer.unavailable
    assert "failed to import" in layer.unavailable["broken"]
    assert "ModuleNotFoundError" in layer.unavailable["broken"]


def test_registry_refuses_wrong_classes():
    registry = AdapterRegistry()
    with pytest.raises(RegistryError, match="not a CRMAdapter subclass"):
        registry.register(object, name="x")

    class OldAdapter(ExampleAdapter):
        name = "old"
        api_version = 0

    with pytest.raises(RegistryError, match="interface version 0"):
        registry.register(OldAdapter)
    with pytest.raises(RegistryError, match="declares name 'example'"):
        registry.register(ExampleAdapter, name="other")


# -- phone index and ringing-path lookups -------------------------------------------------------

def index(app, customers, clock):
    with db.get_engine(app).begin() as conn:
        return phone_index.upsert_customers(conn, "example", customers, clock())


def test_known_caller_costs_no_crm_request(crm_app, fake_crm, clock):
    index(crm_app, [Customer("example", "C1", "山田 太郎", phone_numbers=("03-1234-5678",))],
          clock)
    with crm_app.app_context():
        found = crm.caller_lookup("+81312345678")
    assert [c.record_id for c in found] == ["C1"]
    assert fake_crm.requests == []


def test_miss_is_looked_up_live_indexed_and_cached(crm_app, fake_crm):
    contact = fake_crm.add_contact("鈴木 一郎", ["090-1111-2222"], company="鈴木商店")
    with crm_app.app_context():
        found = crm.caller_lookup("+819011112222", budget=2.0)
        assert [(c.record_id, c.company) for c in found] == [(contact, "鈴木商店")]
        again = crm.caller_lookup("+819011112222", budget=2.0)
        assert [c.record_id for c in again] == [contact]
        assert fake_crm.count("GET", "/api/contacts") == 1  # the second came from the index
        assert crm.caller_lookup("+819099998888", budget=2.0) == []
        assert crm.caller_lookup("+819099998888", budget=2.0) == []
    assert fake_crm.count("GET", "/api/contacts") == 2  # the miss was cached


def test_slow_crm_never_makes_the_caller_wait(crm_app, fake_crm):
    fake_crm.fail_next("timeout")
    with crm_app.app_context():
        started = time.monotonic()
        assert crm.caller_lookup("+81312345678", budget=0.1) == []
        assert time.monotonic() - started < 0.5


def test_crm_down_means_unknown_caller_not_an_error(crm_app, fake_crm):
    fake_crm.fail_next("503", times=5)
    with crm_app.app_context():
        assert crm.caller_lookup("+81312345678", budget=1.0) == []
        # A failure is not a miss: the next call asks the CRM again.
        fake_crm.add_contact("山田 太郎", ["03-1234-5678"])
        fake_crm._failures.clear()
        assert len(crm.caller_lookup("+81312345678", budget=1.0)) == 1


def test_several_matches_all_returned_and_last_choice_first(crm_app, clock):
    customers = [Customer("example", "C1", "山田 太郎", phone_numbers=("0312345678",),
                          updated_at="2026-01-02T00:00:00Z"),
                 Customer("example", "C2", "山田 花子", phone_numbers=("+81312345678",),
                          updated_at="2026-01-01T00:00:00Z")]
    index(crm_app, customers, clock)
    with crm_app.app_context():
        assert [c.record_id for c in crm.caller_lookup("+81312345678")] == ["C1", "C2"]
        with db.get_engine(crm_app).begin() as conn:
            phone_index.record_choice(conn, "+81312345678", "example", "C2", None, clock())
        assert [c.record_id for c in crm.caller_lookup("+81312345678")] == ["C2", "C1"]


def test_index_replaces_a_records_old_numbers(crm_app, clock):
    index(crm_app, [Customer("example", "C1", "A", phone_numbers=("0311112222", "09011112222"))],
          clock)
    index(crm_app, [Customer("example", "C1", "A", phone_numbers=("09011112222", "bogus"))],
          clock)
    with db.get_engine(crm_app).connect() as conn:
        assert phone_index.lookup(conn, "+81311112222") == []
        assert [c.record_id for c in phone_index.lookup(conn, "+819011112222")] == ["C1"]


# -- sync ------------------------------------------------------------------------------------

def test_full_then_incremental_sync(crm_app, fake_crm, clock):
    fake_crm.tick_seconds = 120  # each change two minutes after the previous one
    layer = crm.get_layer(crm_app)
    adapter = layer.adapters["example"]
    ids = [fake_crm.add_contact(f"顧客 {i}", [f"03-1234-{i:04d}"]) for i in range(450)]
    seen = []
    report = sync.sync_adapter(layer.engine, adapter, now=clock, progress=seen.append)
    assert report.full and report.stats.records == 450 and report.stats.numbers == 450
    assert seen  # progress was reported

    fake_crm.update_contact(ids[0], phones=["090-1234-0001"])
    fake_crm.delete_contact(ids[1])
    before = fake_crm.count("GET", "/api/contacts")
    clock.advance(minutes=15)
    incremental = sync.sync_adapter(layer.engine, adapter, now=clock)
    assert not incremental.full
    # Only changes since the cursor, plus the boundary record re-read by the overlap.
    assert incremental.stats.records == 2
    assert fake_crm.count("GET", "/api/contacts") - before == 1
    with db.get_engine(crm_app).connect() as conn:
        assert phone_index.lookup(conn, "+81312340000") == []  # old number gone
        assert [c.record_id for c in phone_index.lookup(conn, "+819012340001")] == [ids[0]]
        # Deletions are only seen by a full sync.
        assert len(phone_index.lookup(conn, "+81312340001")) == 1
    full = sync.sync_adapter(layer.engine, adapter, now=clock, full=True)
    assert full.removed == 1
    with db.get_engine(crm_app).connect() as conn:
        assert phone_index.lookup(conn, "+81312340001") == []
        assert phone_index.count(conn, "example") == 449


def test_sync_failure_is_saved_and_resumes(crm_app, fake_crm, clock):
    layer = crm.get_layer(crm_app)
    for i in range(5):
        fake_crm.add_contact(f"顧客 {i}", [f"03-5555-{i:04d}"])
    fake_crm.fail_next("401")
    from crm_adapters.errors import AdapterAuthError

    with pytest.raises(AdapterAuthError):
        sync.sync_adapter(layer.engine, layer.adapters["example"], now=clock)
    assert "401" in sync.state(layer.engine)["example"]["last_error"]
    report = sync.sync_adapter(layer.engine, layer.adapters["example"], now=clock)
    assert report.stats.records == 5
    assert sync.state(layer.engine)["example"]["last_error"] == ""
