"""Work that must run only after a transaction's changes are visible to other processes.

A change noted with :func:`note` inside a transaction is announced when its connection goes
back to the pool — after ``COMMIT`` (or ``ROLLBACK``) — by the callbacks :func:`install`
registered for the engine. Announcing before the commit would let another process read the
announcement, then the database before the commit, and cache the old state for good.

Used for invalidations only (the voice configuration's Redis token, the phone-index cache),
so a rolled-back transaction announcing a change costs one extra reload, never a stale read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import Connection, Engine, event

log = logging.getLogger("cti.db")

_INFO_KEY = "cti.after_commit"
Callback = Callable[[set[Hashable]], None]


def note(conn: Connection, topic: str, *values: Hashable) -> None:
    """Remember that this transaction changed ``values`` of ``topic`` (announced after it)."""
    pending = conn.info.setdefault(_INFO_KEY, {})
    pending.setdefault(topic, set()).update(values or ("*",))


def install(engine: Engine, topic: str, callback: Callback) -> None:
    """Call ``callback(values)`` whenever a connection of ``engine`` that noted ``topic`` is
    returned to the pool. A failing callback is logged; the caller's work already committed."""
    callbacks: dict[str, list[Callback]] = engine.__dict__.setdefault("_cti_after_commit", {})
    if not callbacks:  # one listener per engine; it survives engine.dispose()
        event.listen(engine, "checkin", lambda _dbapi, record: _announce(record, callbacks))
    callbacks.setdefault(topic, []).append(callback)


def _announce(record: Any, callbacks: dict[str, list[Callback]]) -> None:
    if record is None:
        return
    pending = record.info.pop(_INFO_KEY, None)
    for topic, values in (pending or {}).items():
        for callback in callbacks.get(topic, ()):
            try:
                callback(values)
            except Exception:  # an invalidation lost here is caught by the caches' max age
                log.exception("after-commit announcement failed", extra={"topic": topic})
