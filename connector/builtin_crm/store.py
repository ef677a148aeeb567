"""Reading and writing built-in CRM customers (``connector/schema.py``, "built-in CRM").

Every function takes an open connection inside the caller's transaction and, when it writes,
``now`` from the app's clock. Every change bumps ``customers.updated_at``, which the phone index
syncs by (``BuiltinCRMAdapter.contacts_changed_since``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select, update

from voice.numbering import NumberError, compact, parse_destination

from ..schema import customer_call_logs, customer_phones, customer_tags, customers
from .model import CustomerInput, kana

#: Most customers or calls one page of a list returns.
MAX_PAGE = 200

_NUMBER_QUERY = re.compile(r"\+?\d{2,}")


class Conflict(Exception):
    """The customer changed since the client read it (``updated_at`` differs)."""


def create_customer(conn: Connection, data: CustomerInput, now: datetime) -> int:
    """Store a new customer; return its id."""
    values = {"name_kana": "", "company": "", "notes": "", **data.values()}
    customer_id = conn.execute(insert(customers).values(
        **values, created_at=now, updated_at=now).returning(customers.c.id)).scalar_one()
    _replace_phones(conn, customer_id, data)
    _replace_tags(conn, customer_id, data)
    return int(customer_id)


def update_customer(conn: Connection, customer_id: int, data: CustomerInput, now: datetime,
                    *, expected_updated_at: datetime | None = None) -> bool:
    """Change the fields ``data`` holds; ``False`` if there is no such (live) customer.

    Raises:
        Conflict: ``expected_updated_at`` is given and the customer changed since.
    """
    current = conn.execute(select(customers.c.updated_at).where(
        customers.c.id == customer_id, customers.c.deleted_at.is_(None))
        .with_for_update()).scalar_one_or_none()
    if current is None:
        return False
    if expected_updated_at is not None and current != expected_updated_at:
        raise Conflict(customer_id)
    conn.execute(update(customers).where(customers.c.id == customer_id)
                 .values(**data.values(), updated_at=now))
    if "phones" in data.present:
        _replace_phones(conn, customer_id, data)
    if "tags" in data.present:
        _replace_tags(conn, customer_id, data)
    return True


def delete_customer(conn: Connection, customer_id: int, now: datetime) -> bool:
    """Mark a customer deleted (the call history keeps its link); ``False`` if unknown."""
    result = conn.execute(update(customers).where(
        customers.c.id == customer_id, customers.c.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now))
    return result.rowcount == 1


def _replace_phones(conn: Connection, customer_id: int, data: CustomerInput) -> None:
    conn.execute(delete(customer_phones).where(customer_phones.c.customer_id == customer_id))
    if data.phones:
        conn.execute(insert(customer_phones), [
            {"customer_id": customer_id, "position": position, "label": phone.label,
             "number": phone.number, "e164": phone.e164}
            for position, phone in enumerate(data.phones)])


def _replace_tags(conn: Connection, customer_id: int, data: CustomerInput) -> None:
    conn.execute(delete(customer_tags).where(customer_tags.c.customer_id == customer_id))
    if data.tags:
        conn.execute(insert(customer_tags),
                     [{"customer_id": customer_id, "tag": tag} for tag in data.tags])


# -- reading -----------------------------------------------------------------------------------

def get_customer(conn: Connection, customer_id: int) -> dict[str, Any] | None:
    """A live customer with numbers and tags, JSON-ready; ``None`` if unknown or deleted."""
    row = conn.execute(select(customers).where(
        customers.c.id == customer_id, customers.c.deleted_at.is_(None))).first()
    if row is None:
        return None
    return _details(conn, [row])[0]


def numbers_in_use(conn: Connection, e164s: Iterable[str], *,
                   exclude: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """Live customers holding each of ``e164s`` (other than ``exclude``): the duplicate check."""
    wanted = sorted(set(e164s))
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists for big imports
        query = (select(customer_phones.c.e164, customers.c.id, customers.c.name)
                 .join(customers, customers.c.id == customer_phones.c.customer_id)
                 .where(customer_phones.c.e164.in_(wanted[start:start + 500]),
                        customers.c.deleted_at.is_(None))
                 .order_by(customers.c.id))
        if exclude is not None:
            query = query.where(customers.c.id != exclude)
        for row in conn.execute(query):
            found.setdefault(row.e164, []).append({"id": row.id, "name": row.name})
    return found


def search(conn: Connection, query: str = "", *, tag: str = "", limit: int = 50,
           offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Live customers matching ``query`` (a name, reading, company or tag, or part of a number
    in any format — full-width digits too) and carrying ``tag``; by reading, then name.

    Returns:
        One page of customers (JSON-ready) and the number of all matches.
    """
    base = select(customers.c.id).where(customers.c.deleted_at.is_(None))
    if tag:
        base = base.where(customers.c.id.in_(
            select(customer_tags.c.customer_id).where(customer_tags.c.tag == tag)))
    condition = _query_condition(query.strip())
    if condition is not None:
        base = base.where(condition)
    total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    page = (select(customers).where(customers.c.id.in_(base))
            .order_by(case((customers.c.name_kana == "", 1), else_=0), customers.c.name_kana,
                      customers.c.name, customers.c.id)
            .limit(min(limit, MAX_PAGE)).offset(offset))
    return _details(conn, conn.execute(page).all()), int(total)


def _query_condition(query: str) -> Any:
    if not query:
        return None
    pattern = _number_pattern(query)
    if pattern is not None:
        return customers.c.id.in_(select(customer_phones.c.customer_id).where(
            customer_phones.c.e164.like(pattern, escape="\\")))
    # Spaces are ignored on both sides: 「山田太郎」 finds 「山田 太郎」 and the other way round.
    text = f"%{_escape_like(_squeeze(query.lower()))}%"
    reading = f"%{_escape_like(_squeeze(kana(query)))}%"
    return or_(_squeezed(func.lower(customers.c.name)).like(text, escape="\\"),
               _squeezed(customers.c.name_kana).like(reading, escape="\\"),
               _squeezed(func.lower(customers.c.company)).like(text, escape="\\"),
               customers.c.id.in_(select(customer_tags.c.customer_id)
                                  .where(customer_tags.c.tag == query)))


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _squeezed(column: Any) -> Any:
    # Stored names have single ASCII spaces (model.py normalises them), so one REPLACE does.
    return func.replace(column, " ", "")


def _number_pattern(query: str) -> str | None:
    """A LIKE pattern on E.164 for a query that is (part of) a number, else ``None``.

    ``03-1234`` (national) and ``+8131`` (E.164) match numbers starting so; bare digits
    (``5678``) match anywhere in the number.
    """
    try:
        compacted = compact(query)
    except NumberError:
        return None
    if not _NUMBER_QUERY.fullmatch(compacted):
        return None
    if compacted.startswith("+"):
        return compacted + "%"
    if compacted.startswith("0") and not compacted.startswith("00"):
        return "+81" + compacted[1:] + "%"
    return f"%{compacted}%"


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _details(conn: Connection, rows: list[Any]) -> list[dict[str, Any]]:
    ids = [row.id for row in rows]
    phones: dict[int, list[dict[str, str]]] = {i: [] for i in ids}
    tags: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for phone in conn.execute(select(customer_phones)
                                  .where(customer_phones.c.customer_id.in_(ids))
                                  .order_by(customer_phones.c.position, customer_phones.c.id)):
            phones[phone.customer_id].append(
                {"number": phone.number, "e164": phone.e164, "display": display(phone.e164),
                 "label": phone.label})
        for tag in conn.execute(select(customer_tags).where(customer_tags.c.customer_id.in_(ids))
                                .order_by(customer_tags.c.tag)):
            tags[tag.customer_id].append(tag.tag)
    return [{"id": row.id, "name": row.name, "name_kana": row.name_kana,
             "company": row.company, "notes": row.notes, "tags": tags[row.id],
             "phones": phones[row.id], "created_at": iso(row.created_at),
             "updated_at": iso(row.updated_at), "url": f"/crm/customers/{row.id}"}
            for row in rows]


def history(conn: Connection, customer_id: int, *, limit: int = 50, offset: int = 0,
            visible: Any = None) -> tuple[list[dict[str, Any]], int]:
    """The customer's calls, newest first: those logged for them, and unattributed calls
    from or to one of their numbers.

    Args:
        visible: the CallSids the reader may see (:func:`connector.call_access.
            visible_call_sids`); ``None``: every call.

    Returns:
        One page of calls (JSON-ready) and the number of all of them.
    """
    numbers = select(customer_phones.c.e164).where(customer_phones.c.customer_id == customer_id)
    log = customer_call_logs.c
    condition = or_(log.customer_id == customer_id,
                    and_(log.customer_id.is_(None), log.customer_number != "",
                         log.customer_number.in_(numbers)))
    if visible is not None:
        condition = and_(condition, log.call_sid.in_(visible))
    total = conn.execute(select(func.count()).select_from(customer_call_logs)
                         .where(condition)).scalar_one()
    rows = conn.execute(select(customer_call_logs).where(condition)
                        .order_by(log.started_at.desc(), log.id.desc())
                        .limit(min(limit, MAX_PAGE)).offset(offset)).all()
    return [_call(row, customer_id) for row in rows], int(total)


def _call(row: Any, customer_id: int) -> dict[str, Any]:
    return {
        "call_sid": row.call_sid, "direction": row.direction, "status": row.status,
        "from_number": row.from_number, "to_number": row.to_number,
        "customer_number": row.customer_number,
        "customer_number_display": display(row.customer_number) if row.customer_number else "",
        "started_at": iso(row.started_at), "answered_at": iso(row.answered_at),
        "ended_at": iso(row.ended_at), "duration_seconds": row.duration_seconds,
        "talk_seconds": row.talk_seconds, "agent_username": row.agent_username,
        "agent_name": row.agent_name, "disposition": row.disposition, "notes": row.notes,
        "recording_url": row.recording_url, "linked": row.customer_id == customer_id,
    }


def tags_in_use(conn: Connection) -> list[dict[str, Any]]:
    """Every tag of a live customer with its count, most used first."""
    count = func.count().label("count")
    rows = conn.execute(select(customer_tags.c.tag, count)
                        .join(customers, customers.c.id == customer_tags.c.customer_id)
                        .where(customers.c.deleted_at.is_(None))
                        .group_by(customer_tags.c.tag).order_by(count.desc(),
                                                                customer_tags.c.tag))
    return [{"tag": row.tag, "count": row.count} for row in rows]


def count_customers(conn: Connection, *, include_deleted: bool = False) -> int:
    query = select(func.count()).select_from(customers)
    if not include_deleted:
        query = query.where(customers.c.deleted_at.is_(None))
    return int(conn.execute(query).scalar_one())


def display(e164: str) -> str:
    """``+81312345678`` → ``03-1234-5678``; foreign numbers in international form."""
    try:
        return parse_destination(e164).display
    except NumberError:
        return e164


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
