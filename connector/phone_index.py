"""The local phone index: normalised number → CRM records (adapter, id, name, type).

Filled by syncing from the adapters (``connector/sync.py``) and by live lookups, read by the
inbound webhook so a known caller costs no CRM request while the phone rings. When several records
share a number, all are returned; the one an agent last chose for that number comes first
(SPEC idea "a multiple-match policy that learns").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from crm_adapters.base import Customer
from voice.numbering import NumberError, normalize

from . import commit_hooks
from .schema import number_choices, phone_index

#: The topic announced after commit (connector.phone_cache drops its answers for them).
CHANGED = "phone_index"


@dataclass
class IndexStats:
    records: int = 0
    numbers: int = 0
    invalid_numbers: int = 0

    def add(self, other: IndexStats) -> None:
        self.records += other.records
        self.numbers += other.numbers
        self.invalid_numbers += other.invalid_numbers


def _insert(conn: Connection):  # type: ignore[no-untyped-def]
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)


# Built once: the inbound webhook runs this for every call, and building SQLAlchemy statements
# costs more than executing this one against its index.
_LOOKUP = select(phone_index, number_choices.c.chosen_at).select_from(
    phone_index.outerjoin(number_choices, (number_choices.c.e164 == phone_index.c.e164)
                          & (number_choices.c.adapter == phone_index.c.adapter)
                          & (number_choices.c.record_id == phone_index.c.record_id))).where(
    phone_index.c.e164 == bindparam("e164"))
_CHOICES = select(number_choices).where(number_choices.c.e164 == bindparam("e164"))


def lookup(conn: Connection, e164: str) -> list[Customer]:
    """Every indexed record with this number, best first (one query)."""
    rows = conn.execute(_LOOKUP, {"e164": e164}).all()
    found = [(Customer(adapter=r.adapter, record_id=r.record_id, display_name=r.display_name,
                       object_type=r.object_type, company=r.company, phone_numbers=(e164,),
                       url=r.url, updated_at=r.updated_at), r.chosen_at) for r in rows]
    return _best_first(found)


def order(conn: Connection, e164: str, customers: Sequence[Customer]) -> list[Customer]:
    """Chosen-by-an-agent first, then the most recently changed records."""
    chosen = {(r.adapter, r.record_id): r.chosen_at
              for r in conn.execute(_CHOICES, {"e164": e164})}
    return _best_first([(c, chosen.get((c.adapter, c.record_id))) for c in customers])


def _best_first(found: Sequence[tuple[Customer, datetime | None]]) -> list[Customer]:
    unique = list({(c.adapter, c.record_id): (c, when) for c, when in found}.values())
    unique.sort(key=lambda item: item[0].updated_at or "", reverse=True)
    unique.sort(key=lambda item: item[1] is None)
    return [c for c, _ in unique]


def normalised_numbers(customer: Customer) -> tuple[set[str], int]:
    """The customer's numbers in E.164, and how many could not be understood."""
    numbers, invalid = set(), 0
    for raw in customer.phone_numbers:
        try:
            numbers.add(normalize(raw))
        except NumberError:
            invalid += 1
    return numbers, invalid


def upsert_customers(conn: Connection, adapter: str, customers: Iterable[Customer],
                     now: datetime) -> IndexStats:
    """Index each customer under all its numbers, replacing what was indexed for it before.

    One DELETE and one multi-row INSERT per call, so syncing a batch of 500 records costs two
    statements; a number removed in the CRM stops popping that record.
    """
    stats = IndexStats()
    rows: dict[tuple[str, str], dict[str, object]] = {}
    record_ids = set()
    for customer in customers:
        numbers, invalid = normalised_numbers(customer)
        stats.records += 1
        stats.invalid_numbers += invalid
        stats.numbers += len(numbers)
        record_ids.add(customer.record_id[:64])
        for e164 in numbers:
            rows[(customer.record_id, e164)] = _row(adapter, customer, e164, now)
    changed = {e164 for _, e164 in rows}
    for chunk in _chunks(sorted(record_ids), 500):
        removed = conn.execute(delete(phone_index).where(
            phone_index.c.adapter == adapter, phone_index.c.record_id.in_(chunk)).returning(
            phone_index.c.e164))
        changed.update(removed.scalars())  # numbers a record may have lost
    if rows:
        conn.execute(insert(phone_index), list(rows.values()))
    if changed:
        commit_hooks.note(conn, CHANGED, *changed)
    return stats


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def remember(conn: Connection, adapter: str, e164: str, customers: Iterable[Customer],
             now: datetime) -> None:
    """Index the result of a live lookup under the number that was looked up."""
    rows = []
    for customer in customers:
        numbers, _ = normalised_numbers(customer)
        rows.extend(_row(adapter, customer, number, now) for number in numbers | {e164})
    _upsert_rows(conn, rows)
    commit_hooks.note(conn, CHANGED, e164, *(row["e164"] for row in rows))


def _row(adapter: str, customer: Customer, e164: str, now: datetime) -> dict[str, object]:
    return {"e164": e164, "adapter": adapter, "record_id": customer.record_id[:64],
            "display_name": customer.display_name[:255], "object_type": customer.object_type[:64],
            "company": customer.company[:255], "url": customer.url[:1000],
            "updated_at": customer.updated_at[:40], "synced_at": now}


def _upsert_rows(conn: Connection, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    statement = _insert(conn)(phone_index)
    update_columns = {name: statement.excluded[name] for name in (
        "display_name", "object_type", "company", "url", "updated_at", "synced_at")}
    conn.execute(statement.on_conflict_do_update(
        index_elements=["adapter", "record_id", "e164"], set_=update_columns), rows)


def remove_unseen(conn: Connection, adapter: str, since: datetime) -> int:
    """After a full sync: drop the records the CRM no longer has (not seen since ``since``)."""
    result = conn.execute(delete(phone_index).where(
        phone_index.c.adapter == adapter, phone_index.c.synced_at < since))
    if result.rowcount:
        commit_hooks.note(conn, CHANGED, "*")
    return result.rowcount or 0


def record_choice(conn: Connection, e164: str, adapter: str, record_id: str,
                  agent_id: int | None, now: datetime) -> None:
    """Remember which record an agent chose for this number (it comes first next time)."""
    values = {"record_id": record_id, "agent_id": agent_id, "chosen_at": now}
    statement = _insert(conn)(number_choices).values(e164=e164, adapter=adapter, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["e164", "adapter"],
                                                 set_=values))
    commit_hooks.note(conn, CHANGED, e164)  # the order of its records changed


def count(conn: Connection, adapter: str | None = None) -> int:
    query = select(func.count()).select_from(phone_index)
    if adapter:
        query = query.where(phone_index.c.adapter == adapter)
    return conn.execute(query).scalar_one()
