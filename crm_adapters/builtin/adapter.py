"""The built-in CRM's adapter: lookups, call-log upserts and the phone-index sync, straight on
the connector's database.

Customers, their numbers and the call log are edited by the connector (web pages, API, CSV import;
``connector/builtin_crm``); this adapter gives the rest of the connector the same view of them as
of any other CRM, so the registry, the phone index and the write-back pipeline treat the built-in
CRM like the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import requests
from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from ..base import AdapterEnvironment, CallLog, Check, CRMAdapter, Customer, WriteResult
from ..errors import AdapterError
from .database import database_errors, make_engine
from .tables import customer_call_logs, customer_phones, customers, max_length

#: What ``Customer.object_type`` says for a built-in customer.
OBJECT_TYPE = "customer"

#: Most logs one call of :meth:`BuiltinCRMAdapter.write_call_logs` accepts (one transaction).
WRITE_LIMIT = 500

# Free text that is shortened to fit rather than refused: losing a call log over a long
# disposition would be worse than cutting it.
_TRUNCATED = ("agent_name", "disposition")


@dataclass(frozen=True)
class BuiltinSettings:
    """``[crm.builtin]``: every key is optional.

    Attributes:
        lock_timeout_seconds: longest a lookup or write waits for a locked database (SQLite busy
            timeout, PostgreSQL ``lock_timeout``) before failing with a temporary error.
        lookup_limit: most customers one lookup returns (most recently changed first).
        sync_page_size: customers read per query by :meth:`contacts_changed_since`.
        add_customer_role: the lowest role that may add customers through the built-in CRM's
            pages and API — ``"agent"`` lets agents register an unknown caller. Not used by
            the adapter itself: ``connector/builtin_crm`` reads it.
    """

    lock_timeout_seconds: float = 5.0
    lookup_limit: int = 20
    sync_page_size: int = 500
    add_customer_role: Literal["agent", "supervisor", "admin"] = "agent"

    def __post_init__(self) -> None:
        if not 0.05 <= self.lock_timeout_seconds <= 60:
            raise ValueError("lock_timeout_seconds: must be between 0.05 and 60, "
                             f"got {self.lock_timeout_seconds}")
        if not 1 <= self.lookup_limit <= 1000:
            raise ValueError(f"lookup_limit: must be between 1 and 1000, got {self.lookup_limit}")
        if not 10 <= self.sync_page_size <= 10000:
            raise ValueError("sync_page_size: must be between 10 and 10000, "
                             f"got {self.sync_page_size}")


class BuiltinCRMAdapter(CRMAdapter):
    """The embedded CRM (SPEC CR-1), see ``docs/builtin-crm.md``."""

    name: ClassVar[str] = "builtin"
    display_name: ClassVar[str] = "内蔵CRM (built-in CRM)"
    Settings: ClassVar[type] = BuiltinSettings
    write_batch_limit: ClassVar[int] = WRITE_LIMIT
    supports_sync: ClassVar[bool] = True

    settings: BuiltinSettings

    def __init__(self, settings: BuiltinSettings, *, http: requests.Session,
                 env: AdapterEnvironment | None = None) -> None:
        """Raises :class:`~crm_adapters.errors.AdapterConfigError` without a database URL."""
        super().__init__(settings, http=http, env=env)
        self.engine: Engine = make_engine(self.env.database_url,
                                          lock_timeout=settings.lock_timeout_seconds)

    def close(self) -> None:
        """Release the adapter's database connections."""
        self.engine.dispose()

    # -- lookups -----------------------------------------------------------------------------

    def lookup_by_phone(self, e164: str) -> list[Customer]:
        """Every customer with ``e164`` among their numbers (exact match on the stored E.164
        form), most recently changed first; deleted customers never match."""
        matching = (select(customer_phones.c.customer_id)
                    .where(customer_phones.c.e164 == e164).scalar_subquery())
        query = (select(customers)
                 .where(customers.c.id.in_(matching), customers.c.deleted_at.is_(None))
                 .order_by(customers.c.updated_at.desc(), customers.c.id.desc())
                 .limit(self.settings.lookup_limit))
        with database_errors("look up a caller"), self.engine.connect() as conn:
            rows = conn.execute(query).all()
            numbers = self._numbers(conn, [row.id for row in rows])
        return [self._customer(row, numbers.get(row.id, ())) for row in rows]

    def screen_pop_url(self, customer: Customer) -> str | None:
        if not customer.record_id:
            return customer.url or None
        return f"{self.env.public_base_url}/crm/customers/{customer.record_id}"

    def contacts_changed_since(self, since: datetime | None) -> Iterator[Customer]:
        """Every customer changed at or after ``since``, oldest change first, page by page.

        Deleted customers and customers without numbers come with no numbers, so the phone
        index forgets what it knew about them. "At or after" may repeat the last customer of
        a previous sync, which the index takes in its stride; "after" could miss one.
        """
        cursor: tuple[datetime, int] | None = None
        while True:
            query = self._changed_query(since, cursor)
            with database_errors("read changed customers"), self.engine.connect() as conn:
                rows = conn.execute(query).all()
                numbers = self._numbers(conn, [r.id for r in rows if r.deleted_at is None])
            for row in rows:
                yield self._customer(row, numbers.get(row.id, ()))
            if len(rows) < self.settings.sync_page_size:
                return
            cursor = (rows[-1].updated_at, rows[-1].id)

    def _changed_query(self, since: datetime | None, cursor: tuple[datetime, int] | None) -> Any:
        query = select(customers)
        if since is not None:
            query = query.where(customers.c.updated_at >= _aware(since))
        if cursor is not None:
            at, last_id = cursor
            query = query.where(or_(customers.c.updated_at > at,
                                    and_(customers.c.updated_at == at, customers.c.id > last_id)))
        return (query.order_by(customers.c.updated_at, customers.c.id)
                .limit(self.settings.sync_page_size))

    @staticmethod
    def _numbers(conn: Any, ids: list[int]) -> dict[int, tuple[str, ...]]:
        if not ids:
            return {}
        rows = conn.execute(select(customer_phones.c.customer_id, customer_phones.c.e164)
                            .where(customer_phones.c.customer_id.in_(ids))
                            .order_by(customer_phones.c.customer_id, customer_phones.c.position,
                                      customer_phones.c.id)).all()
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(row.customer_id, []).append(row.e164)
        return {key: tuple(value) for key, value in found.items()}

    def _customer(self, row: Any, numbers: tuple[str, ...]) -> Customer:
        record_id = str(row.id)
        return Customer(
            adapter=self.name, record_id=record_id, display_name=row.name,
            object_type=OBJECT_TYPE, company=row.company,
            phone_numbers=() if row.deleted_at is not None else numbers,
            url=f"{self.env.public_base_url}/crm/customers/{record_id}",
            updated_at=row.updated_at.isoformat().replace("+00:00", "Z"))

    # -- call logs ---------------------------------------------------------------------------

    def write_call_logs(self, logs: Sequence[CallLog]) -> list[WriteResult]:
        """Upsert ``logs`` keyed by CallSid, one transaction per :data:`WRITE_LIMIT` logs; a
        CallSid given twice takes the later log. Logs that cannot be stored (bad CallSid,
        direction or timestamp) get a per-record error and never hold back the others."""
        results: list[WriteResult] = []
        for start in range(0, len(logs), WRITE_LIMIT):
            results += self._write_batch(logs[start:start + WRITE_LIMIT])
        return results

    def _write_batch(self, logs: Sequence[CallLog]) -> list[WriteResult]:
        now = datetime.now(UTC)
        rows: dict[str, dict[str, Any]] = {}
        refused: dict[str, WriteResult] = {}
        for log in logs:
            try:
                rows[log.call_sid] = _row(log, now)
                refused.pop(log.call_sid, None)
            except _Refused as problem:
                rows.pop(log.call_sid, None)
                refused[log.call_sid] = WriteResult(log.call_sid, error=problem.message,
                                                    field=problem.field)
        ids: dict[str, int] = {}
        if rows:
            with database_errors("write call logs"), self.engine.begin() as conn:
                self._link_customers(conn, list(rows.values()))
                conn.execute(self._upsert(conn.dialect.name), list(rows.values()))
                ids = dict(conn.execute(
                    select(customer_call_logs.c.call_sid, customer_call_logs.c.id)
                    .where(customer_call_logs.c.call_sid.in_(list(rows)))).all())
        return [refused.get(log.call_sid)
                or WriteResult(log.call_sid, record_id=str(ids[log.call_sid]))
                for log in logs]

    def _link_customers(self, conn: Any, rows: list[dict[str, Any]]) -> None:
        """Keep ``customer_id`` only where that customer exists: a log is never lost because
        its customer was removed meanwhile (it still shows in the history by number)."""
        wanted = {row["customer_id"] for row in rows if row["customer_id"] is not None}
        if not wanted:
            return
        existing = set(conn.execute(select(customers.c.id)
                                    .where(customers.c.id.in_(wanted))).scalars())
        for row in rows:
            if row["customer_id"] is not None and row["customer_id"] not in existing:
                self.log.warning("call %s names unknown customer %s; stored without it",
                                 row["call_sid"], row["customer_id"])
                row["customer_id"] = None

    @staticmethod
    def _upsert(dialect: str) -> Any:
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        statement = insert(customer_call_logs)
        excluded = statement.excluded
        changes: dict[str, Any] = {
            column.name: excluded[column.name] for column in customer_call_logs.columns
            if column.name not in ("id", "call_sid", "created_at", "customer_id")}
        # A later write without a customer (none chosen at wrap-up) keeps the earlier link.
        changes["customer_id"] = func.coalesce(excluded.customer_id,
                                               customer_call_logs.c.customer_id)
        return statement.on_conflict_do_update(index_elements=["call_sid"], set_=changes)

    # -- connection check --------------------------------------------------------------------

    def check(self) -> list[Check]:
        """Is the database reachable and migrated? Says how many customers it holds."""
        try:
            with database_errors("check"), self.engine.connect() as conn:
                count = conn.execute(select(func.count()).select_from(customers)
                                     .where(customers.c.deleted_at.is_(None))).scalar_one()
                conn.execute(select(customer_call_logs.c.id).limit(1)).all()
        except AdapterError as error:
            return [Check("database", False, str(error))]
        verdicts = [Check("database", True, f"built-in CRM ready ({self.engine.dialect.name}, "
                                            f"{count} customers)", "info")]
        if not count:
            verdicts.append(Check("customers", True, "no customers yet: add them at /crm or "
                                  "import a CSV file (cti crm import)", "warning"))
        return verdicts


class _Refused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _row(log: CallLog, now: datetime) -> dict[str, Any]:
    """The ``customer_call_logs`` row for ``log``; :class:`_Refused` names a bad field."""
    if not log.call_sid:
        raise _Refused("call_sid", "call_sid: empty")
    if log.direction not in ("inbound", "outbound"):
        raise _Refused("direction", f"direction: must be inbound or outbound, "
                                    f"got {str(log.direction)[:20]!r}")
    row: dict[str, Any] = {
        "call_sid": log.call_sid, "direction": log.direction, "status": log.status,
        "from_number": log.from_number, "to_number": log.to_number,
        "customer_number": log.customer_number,
        "started_at": _timestamp("started_at", log.started_at),
        "answered_at": _timestamp("answered_at", log.answered_at),
        "ended_at": _timestamp("ended_at", log.ended_at),
        "duration_seconds": _seconds("duration_seconds", log.duration_seconds),
        "talk_seconds": _seconds("talk_seconds", log.talk_seconds),
        "agent_username": log.agent_username, "agent_name": log.agent_name,
        "disposition": log.disposition, "notes": log.notes,
        "recording_url": log.recording_url,
        "customer_id": _customer_id(log.customer_record_id),
        "created_at": now, "updated_at": now,
    }
    if row["started_at"] is None:
        raise _Refused("started_at", "started_at: required")
    for name, value in row.items():
        limit = max_length(customer_call_logs, name) if isinstance(value, str) else None
        if limit is not None and len(value) > limit:
            if name not in _TRUNCATED:
                raise _Refused(name, f"{name}: longer than {limit} characters")
            row[name] = value[:limit - 1] + "…"
    return row


def _timestamp(field: str, value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _Refused(field, f"{field}: not an ISO 8601 time: {str(value)[:40]!r}") from None
    return _aware(parsed)


def _aware(value: datetime) -> datetime:
    """Times without a zone are UTC, as everywhere in the adapter interface."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _seconds(field: str, value: Any) -> int:
    try:
        seconds = int(value or 0)
    except (TypeError, ValueError):
        raise _Refused(field, f"{field}: not a number of seconds") from None
    if seconds < 0:
        raise _Refused(field, f"{field}: negative")
    return seconds


def _customer_id(record_id: str) -> int | None:
    """Built-in record ids are the customers' integer ids; anything else links to nobody."""
    text = str(record_id or "").strip()
    return int(text) if text.isdigit() and len(text) < 16 else None
