"""The adapter's view of the built-in CRM's tables agrees with ``connector/schema.py``.

``crm_adapters`` may not import ``connector``, so the adapter declares the columns it uses; this
test fails the moment either side changes without the other.
"""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from connector import schema
from crm_adapters.builtin import tables

TABLES = sorted(tables.metadata.tables)


def test_adapter_declares_only_built_in_crm_tables():
    assert TABLES == ["customer_call_logs", "customer_phones", "customers"]


@pytest.mark.parametrize("name", TABLES)
@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()],
                         ids=["sqlite", "postgresql"])
def test_columns_agree(name, dialect):
    ours, truth = tables.metadata.tables[name], schema.metadata.tables[name]
    for column in ours.columns:
        assert column.name in truth.columns, f"{name}.{column.name} is not in schema.py"
        real = truth.columns[column.name]
        assert column.type.compile(dialect) == real.type.compile(dialect), (name, column.name)
        assert type(column.type).__name__ == type(real.type).__name__, (name, column.name)
        assert column.nullable == real.nullable, (name, column.name)
        assert column.primary_key == real.primary_key, (name, column.name)


def test_adapter_knows_every_column_of_the_table_it_writes():
    """The adapter upserts whole call-log rows (it only reads customers and their numbers)."""
    truth = schema.metadata.tables["customer_call_logs"]
    assert set(tables.customer_call_logs.columns.keys()) == set(truth.columns.keys())


def test_utc_type_behaves_like_the_connectors():
    from datetime import UTC, datetime, timedelta, timezone

    tokyo = datetime(2026, 11, 20, 18, 30, tzinfo=timezone(timedelta(hours=9)))
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        ours = tables.UTCDateTime().process_bind_param(tokyo, dialect)
        truth = schema.UTCDateTime().process_bind_param(tokyo, dialect)
        assert ours == truth
        assert (tables.UTCDateTime().process_result_value(ours, dialect)
                == schema.UTCDateTime().process_result_value(truth, dialect)
                == tokyo.astimezone(UTC))
