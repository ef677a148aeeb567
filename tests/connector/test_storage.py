"""Migrations on SQLite and PostgreSQL: they build the declared schema and keep data."""

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select

from connector import db
from connector.schema import agents, calls, metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("postgres_schema_url")


def test_upgrade_creates_every_table_at_head(empty_database_url):
    engine = db.make_engine(empty_database_url)
    assert db.current_revision(engine) is None
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"agents", "auth_sessions", "phone_numbers", "calls", "call_events",
            "crm_writebacks", "alembic_version"} <= tables
    engine.dispose()


def test_migrations_match_declared_schema(empty_database_url):
    """The tables queries use (schema.py) are exactly what the migrations build."""
    engine = db.make_engine(empty_database_url)
    db.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_keeps_data_and_is_idempotent(empty_database_url):
    engine = db.make_engine(empty_database_url)
    first = db.revisions()[0]
    db.upgrade(engine, first)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(agents).values(
            username="kept", display_name="残る人", password_hash="x", password_changed_at=now,
            created_at=now, updated_at=now))
        conn.execute(insert(calls).values(
            call_sid="CA" + "0" * 32, direction="inbound", status="completed", started_at=now,
            created_at=now, updated_at=now))
    db.upgrade(engine)
    db.upgrade(engine)  # a second run changes nothing
    with engine.connect() as conn:
        assert conn.execute(select(agents.c.display_name)).scalar_one() == "残る人"
        assert conn.execute(select(calls.c.started_at)).scalar_one() == now
    engine.dispose()


def test_timestamps_come_back_aware_utc(database_url):
    engine = db.make_engine(database_url)
    from datetime import timedelta, timezone

    tokyo = datetime(2026, 11, 20, 18, 30, tzinfo=timezone(timedelta(hours=9)))
    with engine.begin() as conn:
        conn.execute(insert(calls).values(
            call_sid="CA" + "1" * 32, direction="outbound", status="queued", started_at=tokyo,
            created_at=tokyo, updated_at=tokyo))
        value = conn.execute(select(calls.c.started_at)).scalar_one()
    engine.dispose()
    assert value == tokyo and value.utcoffset() == timedelta(0)


def test_naive_datetime_refused(sqlite_url):
    engine = db.make_engine(sqlite_url)
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as conn:
        conn.execute(insert(calls).values(
            call_sid="CA" + "2" * 32, direction="inbound", status="queued",
            started_at=datetime(2026, 1, 1), created_at=datetime(2026, 1, 1),
            updated_at=datetime(2026, 1, 1)))
    engine.dispose()


def test_check_reports_unmigrated_database(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    result = db.check(engine)
    assert result["ok"] is False and "cti db upgrade" in result["error"]
    engine.dispose()


def test_check_reports_unreachable_database():
    engine = db.make_engine("postgresql://nobody@127.0.0.1:1/none")
    result = db.check(engine)
    assert result["ok"] is False and result["backend"] == "postgresql"
    assert "OperationalError" in result["error"]
    engine.dispose()
