"""Syncing the CRM app into the local phone index: past kintone's 10,000-offset limit, oldest
change first, by keyset paging or by cursor."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime, timedelta

import pytest

from crm_adapters.kintone import KintoneAdapter
from tests.fakes.kintone import FakeKintone

from .conftest import MakeAdapter

COUNT = 10_050
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def many(fake: FakeKintone) -> list[tuple[str, str]]:
    """10,050 customers whose update times tie in large groups and do not follow their ids;
    returns (updated time, id) in the order a sync must deliver them."""
    expected = []
    for i in range(COUNT):
        moment = START + timedelta(minutes=(i * 7) % 15)  # ~670 records per minute
        record_id = fake.add_record(fake.crm_app_id, {"顧客名": f"顧客{i}",
                                                      "電話番号": f"03{i:08d}"}, moment)
        expected.append((moment.strftime("%Y-%m-%dT%H:%M:00Z"), record_id))
    return sorted(expected, key=lambda pair: (pair[0], int(pair[1])))


def test_seek_reads_everything_in_order_without_offset(adapter: KintoneAdapter,
                                                       fake: FakeKintone,
                                                       many: list[tuple[str, str]]) -> None:
    got = [(c.updated_at, c.record_id) for c in adapter.contacts_changed_since(None)]
    assert got == many
    pages = fake.requests("GET", "records")
    assert len(pages) == COUNT // 500 + 1
    assert all("offset" not in p["params"]["query"] for p in pages)
    assert all(p["params"]["query"].endswith("limit 500") for p in pages)
    assert adapter.supports_sync is True


def test_since_is_inclusive_and_filters(adapter: KintoneAdapter, fake: FakeKintone) -> None:
    old = fake.add_record(fake.crm_app_id, {"顧客名": "古い"}, START)
    same = fake.add_record(fake.crm_app_id, {"顧客名": "同じ分"}, START + timedelta(minutes=5))
    new = fake.add_record(fake.crm_app_id, {"顧客名": "新しい", "電話番号": "0312345678"},
                          START + timedelta(hours=1))
    got = list(adapter.contacts_changed_since(START + timedelta(minutes=5, seconds=30)))
    assert [c.record_id for c in got] == [same, new]
    assert old not in [c.record_id for c in got]
    assert got[0].phone_numbers == ()  # kept, so the index can forget removed numbers
    assert got[1].phone_numbers == ("0312345678",)


class TestCursor:
    @pytest.fixture
    def adapter(self, make_adapter: MakeAdapter) -> KintoneAdapter:
        return make_adapter(sync_method="cursor")

    def test_reads_everything_and_leaves_no_cursor(self, adapter: KintoneAdapter,
                                                   fake: FakeKintone,
                                                   many: list[tuple[str, str]]) -> None:
        got = [(c.updated_at, c.record_id) for c in adapter.contacts_changed_since(None)]
        assert got == many
        (created,) = fake.requests("POST", "records/cursor")
        assert created["params"]["size"] == 500
        assert len(fake.requests("GET", "records/cursor")) == COUNT // 500 + 1
        assert fake.cursors == {}
        assert fake.requests("GET", "records") == []

    def test_stopping_early_deletes_the_cursor(self, adapter: KintoneAdapter,
                                               fake: FakeKintone,
                                               many: list[tuple[str, str]]) -> None:
        customers = adapter.contacts_changed_since(None)
        assert len(list(itertools.islice(customers, 600))) == 600
        assert len(fake.cursors) == 1
        customers.close()  # type: ignore[attr-defined]
        assert fake.cursors == {}
        assert len(fake.requests("DELETE", "records/cursor")) == 1

    def test_falls_back_to_seek_when_the_domain_has_no_free_cursor(
            self, adapter: KintoneAdapter, fake: FakeKintone,
            caplog: pytest.LogCaptureFixture) -> None:
        ids = [fake.add_customer(f"顧客{i}", "0312345678") for i in range(3)]
        for n in range(fake.max_cursors):  # other integrations hold all ten
            fake.cursors[f"other-{n}"] = object()  # type: ignore[assignment]
        with caplog.at_level(logging.WARNING):
            got = [c.record_id for c in adapter.contacts_changed_since(None)]
        assert got == ids
        assert "GAIA_TM12" in caplog.text
        assert len(fake.requests("GET", "records")) == 1
