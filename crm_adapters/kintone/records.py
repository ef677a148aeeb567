"""Conversions between the connector's data and kintone's record JSON, and query quoting.

kintone writes every field as ``{"<field code>": {"value": ...}}``: text as strings, NUMBER as a
numeric *string*, DATETIME as UTC ISO 8601 with ``Z``, USER_SELECT as ``[{"code": login}]``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..base import CallLog, Customer
from .settings import KintoneApp

#: kintone's record id, usable in queries, ``fields`` and ``order by``.
ID_FIELD = "$id"


def quote(value: str) -> str:
    """A string literal for a kintone query (double quotes; backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def kintone_datetime(value: str | None) -> str:
    """``2026-11-20T01:02:03Z`` (UTC) from any ISO 8601 text; ``""`` for none.

    Raises:
        ValueError: if ``value`` is not ISO 8601 with a time zone.
    """
    if not value:
        return ""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time without time zone: {value!r}")
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def call_log_values(log: CallLog, app: KintoneApp) -> dict[str, Any]:
    """``{CallLog attribute: kintone value}`` for every field the call-history app can hold."""
    return {
        "call_sid": log.call_sid,
        "direction": app.direction_labels.get(log.direction, log.direction),
        "status": log.status,
        "from_number": log.from_number,
        "to_number": log.to_number,
        "customer_number": log.customer_number,
        "started_at": kintone_datetime(log.started_at),
        "answered_at": kintone_datetime(log.answered_at),
        "ended_at": kintone_datetime(log.ended_at),
        "duration_seconds": str(int(log.duration_seconds)),
        "talk_seconds": str(int(log.talk_seconds)),
        "agent": log.agent_name or log.agent_username,
        "agent_user": [{"code": log.agent_crm_user}] if log.agent_crm_user else [],
        "customer_record_id": log.customer_record_id,
        "customer_name": log.customer_name,
        "disposition": log.disposition,
        "notes": log.notes,
        "recording_url": log.recording_url,
    }


def call_log_record(log: CallLog, app: KintoneApp) -> dict[str, dict[str, Any]]:
    """The record body for an upsert keyed on the CallSid field (which is not in the body:
    kintone takes it from ``updateKey``).

    Raises:
        ValueError: if a value cannot be written (for example a time without time zone).
    """
    assert app.fields is not None
    values = call_log_values(log, app)
    return {code: {"value": values[attr]} for attr, code in app.fields.mapped().items()
            if attr != "call_sid"}


def plain(record: dict[str, Any]) -> dict[str, Any]:
    """``{code: value}`` from kintone's ``{code: {"type": ..., "value": ...}}``."""
    return {code: cell.get("value") if isinstance(cell, dict) else cell
            for code, cell in record.items()}


def text_of(record: dict[str, Any], code: str) -> str:
    """A field's value as text ("" when absent or empty)."""
    if not code:
        return ""
    cell = record.get(code)
    value = cell.get("value") if isinstance(cell, dict) else cell
    return "" if value is None else str(value).strip()


def customer_from_record(record: dict[str, Any], app: KintoneApp, *, url: str,
                         adapter: str) -> Customer:
    """A :class:`Customer` from a record of the CRM app (fields restricted as in lookups)."""
    names = [text_of(record, code) for code in app.name_fields]
    phones = [text_of(record, code) for code in app.phone_fields]
    return Customer(
        adapter=adapter,
        record_id=text_of(record, ID_FIELD),
        display_name=" ".join(n for n in names if n),
        object_type=str(app.app_id),
        company=text_of(record, app.company_field),
        phone_numbers=tuple(p for p in phones if p),
        url=url,
        updated_at=text_of(record, app.updated_time_field),
    )


def crm_fields(app: KintoneApp) -> list[str]:
    """The fields a lookup or sync asks for: only what a :class:`Customer` needs."""
    codes = [ID_FIELD, *app.name_fields, *app.phone_fields, app.company_field,
             app.updated_time_field]
    return list(dict.fromkeys(c for c in codes if c))
