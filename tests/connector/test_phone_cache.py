"""The phone index's Redis cache: kept in sync after commit, and never serving an older answer."""

import pytest

from connector import db, phone_index
from crm_adapters.base import Customer

NUMBER = "+81312345678"


@pytest.fixture
def cache(crm_app):
    return crm_app.extensions["cti.crm"].index_cache


@pytest.fixture
def queries(monkeypatch):
    """Counts the cache's database reads."""
    count = [0]
    real = phone_index.lookup

    def counting(conn, e164):
        count[0] += 1
        return real(conn, e164)

    monkeypatch.setattr(phone_index, "lookup", counting)
    return count


def save(app, name, clock):
    with db.get_engine(app).begin() as conn:  # the commit leaves a tombstone on NUMBER
        phone_index.upsert_customers(conn, "example", [
            Customer("example", "C1", name, phone_numbers=(NUMBER,))], now=clock())


def names(cache, app, read=None):
    return [c.display_name for c in cache.lookup(db.get_engine(app), NUMBER, read)]


def test_the_first_call_after_a_change_caches_the_new_answer(crm_app, cache, queries, clock):
    save(crm_app, "山田", clock)
    assert names(cache, crm_app) == ["山田"]
    assert queries[0] == 1  # the tombstone: read from the database, and cached
    assert names(cache, crm_app) == ["山田"]
    assert names(cache, crm_app) == ["山田"]
    assert queries[0] == 1  # from Redis, not once per call until the tombstone expires
    save(crm_app, "佐藤", clock)
    assert names(cache, crm_app) == ["佐藤"]  # the change shows at once
    assert names(cache, crm_app) == ["佐藤"]
    assert queries[0] == 2


def test_a_reader_that_saw_a_tombstone_does_not_undo_a_later_change(crm_app, cache, queries,
                                                                      clock):
    save(crm_app, "山田", clock)
    seen = cache._read(keys=[cache.generation_key], args=[cache.prefix, NUMBER])
    assert seen[1].startswith(b"-")
    # That reader reads the database now... and a second change commits before it caches.
    with db.get_engine(crm_app).connect() as conn:
        older = phone_index.lookup(conn, NUMBER)
    save(crm_app, "佐藤", clock)
    from connector.phone_cache import _dumps

    cache._remember(cache._key(seen[0], NUMBER), seen[1], _dumps(older))
    assert names(cache, crm_app) == ["佐藤"]  # the second change's tombstone stood


def test_a_reader_that_saw_nothing_does_not_overwrite_a_tombstone(crm_app, cache, clock):
    seen = cache._read(keys=[cache.generation_key], args=[cache.prefix, NUMBER])
    assert seen[1] is None  # nothing cached: this reader finds no record...
    save(crm_app, "山田", clock)  # ...and the record is indexed before it caches "unknown"
    from connector.phone_cache import _dumps

    cache._remember(cache._key(seen[0], NUMBER), None, _dumps([]))
    assert names(cache, crm_app) == ["山田"]


def test_each_tombstone_is_its_own(crm_app, cache, clock):
    save(crm_app, "山田", clock)
    first = cache._read(keys=[cache.generation_key], args=[cache.prefix, NUMBER])[1]
    save(crm_app, "佐藤", clock)
    second = cache._read(keys=[cache.generation_key], args=[cache.prefix, NUMBER])[1]
    assert first.startswith(b"-") and second.startswith(b"-") and first != second
