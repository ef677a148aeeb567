"""kintone's limits: the per-domain concurrency cap, the per-app daily count, and error typing."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from crm_adapters.base import LocalLimiter
from crm_adapters.errors import (
    AdapterAuthError,
    AdapterConfigError,
    AdapterError,
    AdapterRateLimited,
    AdapterTemporaryError,
)
from crm_adapters.kintone import KintoneAdapter
from crm_adapters.testing import sample_log
from tests.fakes.kintone import FakeKintone

from .conftest import MakeAdapter


def burst(adapters: list[KintoneAdapter], calls: int = 24) -> list[BaseException]:
    """``calls`` lookups started at once from as many threads; returns what they raised."""
    barrier = threading.Barrier(calls)
    failures: list[BaseException] = []

    def call(adapter: KintoneAdapter) -> None:
        barrier.wait()
        try:
            adapter.lookup_by_phone("+81312345678")
        except AdapterError as exc:
            failures.append(exc)

    threads = [threading.Thread(target=call, args=(adapters[i % len(adapters)],))
               for i in range(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


class TestConcurrency:
    @pytest.fixture
    def fake_options(self) -> dict[str, Any]:
        return {"latency": 0.1}

    def test_a_burst_never_exceeds_our_share(self, make_adapter: MakeAdapter,
                                             fake: FakeKintone) -> None:
        adapter = make_adapter(max_concurrency=3)
        assert burst([adapter]) == []
        assert fake.peak_in_flight <= 3
        assert fake.rejected_for_concurrency == 0
        assert fake.request_counts[fake.crm_app_id] == 24

    def test_adapters_sharing_a_limiter_share_the_cap(self, make_adapter: MakeAdapter,
                                                      fake: FakeKintone) -> None:
        adapters = [make_adapter(max_concurrency=3) for _ in range(3)]
        assert burst(adapters) == []
        assert fake.peak_in_flight <= 3

    def test_without_the_cap_kintone_answers_429(self, make_adapter: MakeAdapter,
                                                 fake: FakeKintone) -> None:
        # The control experiment: the same burst against a domain that allows only 3.
        fake.concurrency_limit = 3
        failures = burst([make_adapter(max_concurrency=24)])
        assert fake.rejected_for_concurrency > 0
        assert failures and all(isinstance(f, AdapterRateLimited) for f in failures)


@pytest.mark.parametrize(("failure", "error"), [
    ("429", AdapterRateLimited),
    ("GAIA_TM12", AdapterRateLimited),
    ("GAIA_RE18", AdapterTemporaryError),
    ("GAIA_DA02", AdapterTemporaryError),
    ("500", AdapterTemporaryError),
    ("503", AdapterTemporaryError),
    ("401", AdapterAuthError),
    ("GAIA_IA02", AdapterAuthError),  # answered with HTTP 520, yet never worth a retry
    ("GAIA_NO01", AdapterConfigError),
])
def test_errors_are_typed_by_kintone_code(adapter: KintoneAdapter, fake: FakeKintone,
                                          failure: str, error: type[AdapterError]) -> None:
    fake.fail_next(failure)
    with pytest.raises(error) as caught:
        adapter.write_call_logs([sample_log()])
    assert type(caught.value) is error
    assert "通話履歴" in str(caught.value)  # names the app


def test_daily_warning_is_logged_once_per_app(make_adapter: MakeAdapter, fake: FakeKintone,
                                              caplog: pytest.LogCaptureFixture) -> None:
    adapter = make_adapter(daily_request_warning=3)
    with caplog.at_level(logging.WARNING, logger="cti.crm.kintone"):
        for _ in range(8):
            adapter.lookup_by_phone("+81312345678")
        for i in range(3):
            adapter.write_call_logs([sample_log(f"CA{i:032d}")])
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'顧客管理'" in warnings[0] and "more than 3 API requests today" in warnings[0]
    assert "09:00 JST" in warnings[0]


class SpyLimiter(LocalLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.slots: list[tuple[str, int, float]] = []
        self.counts: list[tuple[str, str, int]] = []

    @contextlib.contextmanager
    def slot(self, name: str, limit: int, timeout: float) -> Iterator[None]:
        self.slots.append((name, limit, timeout))
        with super().slot(name, limit, timeout):
            yield

    def count_today(self, name: str, tz: str = "Asia/Tokyo", reset_hour: int = 0) -> int:
        self.counts.append((name, tz, reset_hour))
        return super().count_today(name, tz, reset_hour)


def test_every_request_takes_a_slot_and_is_counted_per_app(
        make_adapter: MakeAdapter, fake: FakeKintone, limiter: LocalLimiter,
        monkeypatch: pytest.MonkeyPatch) -> None:
    spy = SpyLimiter()
    adapter = make_adapter(max_concurrency=7, slot_timeout=2.5)
    monkeypatch.setattr(adapter.client, "limiter", spy)
    adapter.lookup_by_phone("+81312345678")
    adapter.write_call_logs([sample_log()])
    adapter.check()
    requests_made = len(fake.request_log)
    assert len(spy.slots) == len(spy.counts) == requests_made
    assert set(spy.slots) == {("kintone:127.0.0.1", 7, 2.5)}
    assert {c[1:] for c in spy.counts} == {("Asia/Tokyo", 9)}
    assert {c[0] for c in spy.counts} == {f"kintone:127.0.0.1:app:{fake.crm_app_id}",
                                          f"kintone:127.0.0.1:app:{fake.call_history_app_id}"}
