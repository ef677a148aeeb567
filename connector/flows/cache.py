"""Each process's compiled flows and overrides, reloaded when the ``flows`` version moves.

The same pattern as ``connector.voice.cache``: while the configuration token in Redis is the
one seen last (every committed version bump, flows' included, changes it) no query at all, for
at most ``MAX_TRUST_SECONDS``; else one small query, and a reload only after a change. Without
the token the inbound webhook of a flow number would open a database connection that a number
routed to a group does not need (bench/webhook.py --compare-flow). Older versions are loaded
on demand, for calls that entered a flow before it was re-imported (their URLs carry the
version they started with).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from voice.flows.calendar import HolidayCalendar
from voice.flows.engine import Override

from ..schema import voice_versions
from ..voice.cache import MAX_TRUST_SECONDS
from . import store


@dataclass(frozen=True)
class FlowSnapshot:
    flows: dict[str, store.StoredFlow] = field(default_factory=dict)
    overrides: dict[str, dict[str, Override]] = field(default_factory=dict)


class FlowCache:
    """Flows of this process (``app.extensions["cti.flows"]``), the holiday calendar and the
    threads of lookup nodes."""

    def __init__(self, token: Callable[[], bytes | None] | None = None) -> None:
        self.calendar = HolidayCalendar()
        self._token_source = token
        self._token: bytes | None = None  # the token the snapshot was checked under
        self._checked_at = 0.0
        self._version: int | None = None
        self._snapshot = FlowSnapshot()
        self._older: dict[tuple[str, int], store.StoredFlow] = {}
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        """Threads for the CRM requests of lookup nodes (bounded waits, see ``crm_steps``)."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=4,
                                                thread_name_prefix="cti-flow-lookup")
            return self._pool

    def changed(self) -> None:
        """After a commit in this process that bumped a version: check again next time."""
        self._token = None

    def refresh(self, conn: Connection) -> FlowSnapshot:
        token = self._token_source() if self._token_source is not None else None
        if (token is not None and token == self._token and self._version is not None
                and time.monotonic() - self._checked_at < MAX_TRUST_SECONDS):
            return self._snapshot
        snapshot = self._refresh_from(conn)
        self._token, self._checked_at = token, time.monotonic()
        return snapshot

    def _refresh_from(self, conn: Connection) -> FlowSnapshot:
        version = conn.execute(select(voice_versions.c.version).where(
            voice_versions.c.name == store.VERSION_KEY)).scalar_one_or_none() or 0
        if version == self._version:
            return self._snapshot
        with self._lock:
            self._snapshot = FlowSnapshot(store.latest_all(conn), store.overrides(conn))
            self._version = version
            return self._snapshot

    @property
    def snapshot(self) -> FlowSnapshot:
        """What the last :meth:`refresh` gave (for reads later in the same webhook)."""
        return self._snapshot

    def flow(self, conn: Connection, name: str, version: int | None = None
             ) -> store.StoredFlow | None:
        """The flow ``name`` (its newest version, or ``version``)."""
        current = self.refresh(conn).flows.get(name)
        if version is None or (current is not None and current.version == version):
            return current
        key = (name, version)
        if key not in self._older:
            older = store.get_flow(conn, name, version)
            if older is None:
                return current  # deleted meanwhile: the newest is the best guess
            with self._lock:
                self._older[key] = older
        return self._older[key]
