"""The built-in CRM's tables, as far as its adapter reads and writes them.

``connector/schema.py`` is the source of truth (its migrations build these tables); this package
may not import ``connector``, so the adapter declares the columns it uses here, and
``tests/adapters/builtin/test_tables.py`` fails if the two ever disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes, stored exactly as ``connector.schema.UTCDateTime`` stores them
    (naive UTC on SQLite, ``timestamptz`` on PostgreSQL)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

customers = Table(
    "customers", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("company", String(200), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
)

customer_phones = Table(
    "customer_phones", metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("e164", String(20), nullable=False),
)

customer_call_logs = Table(
    "customer_call_logs", metadata,
    Column("id", Integer, primary_key=True),
    Column("call_sid", String(34), nullable=False, unique=True),
    Column("customer_id", Integer, ForeignKey("customers.id")),
    Column("direction", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("from_number", String(64), nullable=False),
    Column("to_number", String(64), nullable=False),
    Column("customer_number", String(20), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("duration_seconds", Integer, nullable=False),
    Column("talk_seconds", Integer, nullable=False),
    Column("agent_username", String(64), nullable=False),
    Column("agent_name", String(200), nullable=False),
    Column("disposition", String(100), nullable=False),
    Column("notes", Text, nullable=False),
    Column("recording_url", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)


def max_length(table: Table, column: str) -> int | None:
    """The declared length of a string column, ``None`` for unbounded text.

    The adapter checks lengths before writing: PostgreSQL would refuse the whole batch.
    """
    return getattr(table.c[column].type, "length", None)
