"""The built-in CRM as the contract suite's ``FakeCRM``: a real, migrated database.

Customers are added the way the connector adds them (``connector.builtin_crm.store``), and the
one failure the built-in CRM can really have — a database locked for longer than the adapter will
wait — is produced for real: another connection holds an exclusive lock until the adapter has
failed the requested number of times. HTTP failures (401, 429, 5xx) do not exist here and raise
``NotImplementedError``; the contract's test class leaves those cases out.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, create_engine, event, select, text
from sqlalchemy.engine import make_url

from connector.builtin_crm import store
from connector.builtin_crm.model import parse_customer
from connector.schema import customer_call_logs
from crm_adapters.builtin import BuiltinCRMAdapter


class BuiltinCRM:
    """A ``crm_adapters.testing.FakeCRM`` backed by the database at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.backend = self.url.get_backend_name()
        if self.backend == "sqlite":
            # In WAL mode (the connector's setting) readers never wait for a writer; rollback
            # journal mode lets a held lock block lookups too, as the contract's tests need.
            with sqlite3.connect(self.url.database) as raw:
                raw.execute("PRAGMA journal_mode = DELETE")
        elif self.url.drivername == "postgresql":
            self.url = self.url.set(drivername="postgresql+psycopg")
        self.engine = create_engine(self.url)
        self._holder: Any = None
        self._failures_left = 0

    # -- FakeCRM -----------------------------------------------------------------------------

    def add_customer(self, name: str, phone: str, *, company: str = "",
                     **fields: Any) -> str:
        data = parse_customer({"name": name, "company": company, "phones": [phone], **fields})
        with self.engine.begin() as conn:
            return str(store.create_customer(conn, data, datetime.now(UTC)))

    def fail_next(self, failure: str, times: int = 1) -> None:
        if failure != "timeout":
            raise NotImplementedError(f"the built-in CRM speaks no HTTP: no {failure} answers")
        self._hold_lock()
        self._failures_left = times

    def logs_for(self, call_sid: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(customer_call_logs)
                                .where(customer_call_logs.c.call_sid == call_sid)).all()
        return [dict(row._mapping) for row in rows]

    # -- wiring ------------------------------------------------------------------------------

    def watch(self, adapter: BuiltinCRMAdapter) -> None:
        """Count the adapter's database errors, to lift the lock after the requested number."""
        event.listen(adapter.engine, "handle_error", self._adapter_failed)

    def connect(self) -> Connection:
        return self.engine.connect()

    def close(self) -> None:
        self._release_lock()
        self.engine.dispose()

    def _adapter_failed(self, _context: Any) -> None:
        self._failures_left -= 1
        if self._failures_left <= 0:
            self._release_lock()

    def _hold_lock(self) -> None:
        if self._holder is not None:
            return
        if self.backend == "sqlite":
            holder = sqlite3.connect(self.url.database, isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")
            self._holder = holder
        else:
            holder = self.engine.connect()
            holder.begin()
            holder.execute(text("LOCK TABLE customers, customer_phones, customer_call_logs "
                                "IN ACCESS EXCLUSIVE MODE"))
            self._holder = holder

    def _release_lock(self) -> None:
        holder, self._holder = self._holder, None
        if holder is None:
            return
        holder.rollback()
        holder.close()
