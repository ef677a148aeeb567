"""Filling the phone index from the CRMs: full and incremental syncs (SPEC KT-7).

An incremental sync asks an adapter for records changed since the last cursor (the newest
modification time seen, minus a small overlap because CRMs compare times at second or minute
precision); a full sync reads everything and then removes what the CRM no longer has. Both write in
batches of 500 records, one transaction each, so a crash loses at most one batch of progress and
the next run resumes from the saved cursor.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from crm_adapters.base import CRMAdapter
from crm_adapters.errors import AdapterError

from . import phone_index
from .schema import crm_sync_state

log = logging.getLogger("cti.sync")

BATCH = 500
#: Re-read this much before the cursor: CRMs compare at second (Salesforce) or minute (kintone)
#: precision, and re-indexing a few records is harmless.
OVERLAP = timedelta(seconds=61)


@dataclass
class SyncReport:
    adapter: str
    full: bool
    stats: phone_index.IndexStats = field(default_factory=phone_index.IndexStats)
    removed: int = 0
    cursor: str = ""
    seconds: float = 0.0
    error: str = ""


Progress = Callable[[SyncReport], None]


def sync_adapter(engine: Engine, adapter: CRMAdapter, *, now: Callable[[], datetime],
                 full: bool = False, progress: Progress | None = None) -> SyncReport:
    """Sync one adapter into the index; raises the adapter's error after saving it."""
    started_at, started = now(), time.monotonic()
    state = _state(engine, adapter.name)
    cursor = state.get("cursor", "") if not full else ""
    report = SyncReport(adapter.name, full=full or not cursor, cursor=cursor)
    since = _parse(cursor) - OVERLAP if cursor else None
    try:
        records = adapter.contacts_changed_since(since)
        while batch := list(itertools.islice(records, BATCH)):
            with engine.begin() as conn:
                report.stats.add(phone_index.upsert_customers(conn, adapter.name, batch, now()))
                newest = max((c.updated_at for c in batch if c.updated_at), default="")
                report.cursor = max(report.cursor, newest)
                _save(conn, adapter.name, cursor=report.cursor)
            report.seconds = time.monotonic() - started
            if progress:
                progress(report)
        if report.full:
            with engine.begin() as conn:
                report.removed = phone_index.remove_unseen(conn, adapter.name, started_at)
    except AdapterError as exc:
        report.error = str(exc)
        with engine.begin() as conn:
            _save(conn, adapter.name, last_error=report.error[:2000])
        raise
    report.seconds = time.monotonic() - started
    with engine.begin() as conn:
        values: dict[str, object] = {"cursor": report.cursor, "last_sync_at": now(),
                                     "last_error": "",
                                     "records_seen": report.stats.records}
        if report.full:
            values["last_full_sync_at"] = now()
        _save(conn, adapter.name, **values)
    log.info("synced %s: %d records, %d numbers (%d not understood), %d removed in %.1f s",
             adapter.name, report.stats.records, report.stats.numbers,
             report.stats.invalid_numbers, report.removed, report.seconds)
    return report


def state(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        return {r.adapter: dict(r._mapping) for r in conn.execute(select(crm_sync_state))}


def _state(engine: Engine, adapter: str) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(select(crm_sync_state).where(
            crm_sync_state.c.adapter == adapter)).first()
    return dict(row._mapping) if row else {}


def _save(conn, adapter: str, **values: object) -> None:  # type: ignore[no-untyped-def]
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)
    statement = insert(crm_sync_state).values(adapter=adapter, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["adapter"], set_=values))


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
