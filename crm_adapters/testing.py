"""The contract every CRM adapter must pass — shipped in the package for third-party adapters.

Use it the way httpx users use ``MockTransport``: against the real interface. In your adapter's
tests::

    from crm_adapters.testing import AdapterContract

    class TestMyCRM(AdapterContract):
        @pytest.fixture
        def crm(self):            # a FakeCRM: local fake server or `responses`-based double
            ...
        @pytest.fixture
        def adapter(self, crm):   # your adapter wired to that fake, HTTP timeout < 2 s
            ...
        @pytest.fixture
        def secrets(self):        # every secret value in the adapter's settings
            return ["s3cret-token"]

The suite checks: hit, miss, several matches, numbers stored in several formats, auth failure,
429 / 5xx / timeout as temporary errors (for lookups and writes), a repeated write of one CallSid
staying one record, batches, results in order, and no secret in ``repr`` or in logs.

A CRM that cannot have some failures says so in its test class rather than skipping at run
time: ``transient_failures = ("timeout",)`` narrows the temporary-error cases, and a CRM with no
credentials removes the two auth cases (``test_lookup_auth_failure = None``,
``test_write_auth_failure = None``) — the built-in CRM's tests do both.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import pytest

from .base import CallLog, Check, CRMAdapter, Customer
from .errors import AdapterAuthError, AdapterTemporaryError

#: How the contract's customers store the number +81 3-1234-5678 in a CRM.
STORED_FORMATS = ("03-1234-5678", "0312345678", "+81312345678", "+81 3-1234-5678", "03(1234)5678")
#: The failures that must surface as :class:`AdapterTemporaryError`.
TRANSIENT_FAILURES = ("429", "500", "503", "timeout")


class FakeCRM(Protocol):
    """What a test double of a CRM must let the contract suite do."""

    def add_customer(self, name: str, phone: str, *, company: str = "") -> str:
        """Store a customer with one phone number, exactly as given; return its record id."""

    def fail_next(self, failure: str, times: int = 1) -> None:
        """Make the next ``times`` requests fail with ``failure``: "401", "429", "500", "503" or
        "timeout" (longer than the adapter's HTTP timeout). Raise ``NotImplementedError`` for
        failures this CRM cannot have (the built-in CRM has no credentials)."""

    def logs_for(self, call_sid: str) -> list[dict[str, Any]]:
        """Every call-log record the CRM holds for ``call_sid``, in its own field names."""


def sample_log(call_sid: str = "CA00000000000000000000000000000001", **changes: Any) -> CallLog:
    """A realistic finished inbound call; override any field with keyword arguments."""
    values: dict[str, Any] = {
        "call_sid": call_sid,
        "direction": "inbound",
        "status": "completed",
        "from_number": "+81312345678",
        "to_number": "+81501234567",
        "customer_number": "+81312345678",
        "started_at": "2026-11-20T01:02:03Z",
        "answered_at": "2026-11-20T01:02:10Z",
        "ended_at": "2026-11-20T01:05:10Z",
        "duration_seconds": 187,
        "talk_seconds": 180,
        "agent_username": "agent1",
        "agent_name": "佐藤 花子",
        "agent_email": "agent1@example.com",
        "disposition": "解決",
        "notes": "請求書の再送を依頼された",
    }
    values.update(changes)
    return CallLog(**values)


def _fail_or_skip(crm: FakeCRM, failure: str, times: int) -> None:
    try:
        crm.fail_next(failure, times)
    except NotImplementedError:
        pytest.skip(f"{type(crm).__name__} cannot simulate failure {failure!r}")


class AdapterContract:
    """Base class of an adapter's test class; see the module docstring."""

    #: The temporary failures the CRM under test can have (``FakeCRM.fail_next`` values).
    transient_failures: tuple[str, ...] = TRANSIENT_FAILURES

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run the temporary-error cases once for each of :attr:`transient_failures`."""
        if "failure" in metafunc.fixturenames:
            metafunc.parametrize("failure", self.transient_failures)

    # -- lookups -----------------------------------------------------------------------------

    def test_lookup_hit(self, adapter: CRMAdapter, crm: FakeCRM) -> None:
        record_id = crm.add_customer("山田 太郎", "03-1234-5678", company="山田商事")
        found = adapter.lookup_by_phone("+81312345678")
        assert [c.record_id for c in found] == [record_id]
        assert isinstance(found[0], Customer)
        assert "山田" in found[0].display_name
        assert found[0].adapter == adapter.name

    @pytest.mark.parametrize("stored", STORED_FORMATS)
    def test_lookup_matches_stored_formats(self, adapter: CRMAdapter, crm: FakeCRM,
                                           stored: str) -> None:
        record_id = crm.add_customer("鈴木 一郎", stored)
        assert [c.record_id for c in adapter.lookup_by_phone("+81312345678")] == [record_id]

    def test_lookup_mobile_number(self, adapter: CRMAdapter, crm: FakeCRM) -> None:
        record_id = crm.add_customer("田中 次郎", "090-1234-5678")
        assert [c.record_id for c in adapter.lookup_by_phone("+819012345678")] == [record_id]

    def test_lookup_miss_is_empty_list(self, adapter: CRMAdapter, crm: FakeCRM) -> None:
        crm.add_customer("山田 太郎", "03-1234-5678")
        assert adapter.lookup_by_phone("+81398765432") == []

    def test_lookup_several_matches(self, adapter: CRMAdapter, crm: FakeCRM) -> None:
        first = crm.add_customer("山田 太郎", "03-1234-5678")
        second = crm.add_customer("山田 花子", "0312345678")
        found = adapter.lookup_by_phone("+81312345678")
        assert sorted(c.record_id for c in found) == sorted([first, second])

    def test_lookup_auth_failure(self, adapter: CRMAdapter, crm: FakeCRM) -> None:
        _fail_or_skip(crm, "401", times=10)
        with pytest.raises(AdapterAuthError):
            adapter.lookup_by_phone("+81312345678")

    def test_lookup_transient_failure_is_temporary(self, adapter: CRMAdapter, crm: FakeCRM,
                                                   failure: str) -> None:
        _fail_or_skip(crm, failure, times=10)
        with pytest.raises(AdapterTemporaryError):
            adapter.lookup_by_phone("+81312345678")

    # -- write-back --------------------------------------------------------------------------

    def test_write_creates_one_record(self, adapter: CRMAdapter, crm: FakeCRM) -> None:
        log = sample_log("CA" + "1" * 32)
        results = adapter.write_call_logs([log])
        assert len(results) == 1 and results[0].ok, results
        assert results[0].call_sid == log.call_sid
        assert results[0].record_id
        assert len(crm.logs_for(log.call_sid)) == 1

    def test_rewrite_of_same_call_sid_stays_one_record(self, adapter: CRMAdapter,
                                                       crm: FakeCRM) -> None:
        sid = "CA" + "2" * 32
        first = adapter.write_call_logs([sample_log(sid, notes="一回目")])[0]
        second = adapter.write_call_logs([sample_log(sid, notes="二回目 (wrap-up)")])[0]
        assert first.ok and second.ok
        assert first.record_id == second.record_id
        records = crm.logs_for(sid)
        assert len(records) == 1
        assert "二回目" in repr(records[0])

    def test_write_batch_results_in_order(self, adapter: CRMAdapter, crm: FakeCRM) -> None:
        count = max(1, min(adapter.write_batch_limit, 5))
        logs = [sample_log(f"CA{i:032d}") for i in range(count)]
        results = adapter.write_call_logs(logs)
        assert [r.call_sid for r in results] == [log.call_sid for log in logs]
        assert all(r.ok for r in results), results
        for log in logs:
            assert len(crm.logs_for(log.call_sid)) == 1

    def test_write_auth_failure(self, adapter: CRMAdapter, crm: FakeCRM) -> None:
        _fail_or_skip(crm, "401", times=10)
        with pytest.raises(AdapterAuthError):
            adapter.write_call_logs([sample_log("CA" + "3" * 32)])

    def test_write_transient_failure_is_temporary_and_retry_is_safe(
            self, adapter: CRMAdapter, crm: FakeCRM, failure: str) -> None:
        log = sample_log("CA" + "4" * 32)
        _fail_or_skip(crm, failure, times=1)
        with pytest.raises(AdapterTemporaryError):
            adapter.write_call_logs([log])
        # The retry the pipeline makes must not add a second record, whatever the CRM did.
        assert adapter.write_call_logs([log])[0].ok
        assert len(crm.logs_for(log.call_sid)) == 1

    # -- hygiene -----------------------------------------------------------------------------

    def test_no_secret_in_repr_or_logs(self, adapter: CRMAdapter, crm: FakeCRM,
                                       secrets: list[str], caplog: pytest.LogCaptureFixture,
                                       ) -> None:
        caplog.set_level(logging.DEBUG)
        crm.add_customer("山田 太郎", "03-1234-5678")
        adapter.lookup_by_phone("+81312345678")
        adapter.write_call_logs([sample_log("CA" + "5" * 32)])
        adapter.check()
        text = repr(adapter) + str(adapter) + caplog.text
        for secret in secrets:
            assert secret and secret not in text

    def test_check_returns_verdicts(self, adapter: CRMAdapter) -> None:
        verdicts = adapter.check()
        assert verdicts and all(isinstance(v, Check) for v in verdicts)
        assert all(v.ok for v in verdicts if v.severity == "error"), verdicts

    def test_customer_round_trips_through_json(self, adapter: CRMAdapter,
                                               crm: FakeCRM) -> None:
        crm.add_customer("山田 太郎", "03-1234-5678")
        (customer,) = adapter.lookup_by_phone("+81312345678")
        assert Customer.from_dict(customer.to_dict()) == customer
