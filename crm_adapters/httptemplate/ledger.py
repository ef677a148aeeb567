"""Which event templates were already sent for which call: exactly once per (call, event).

A template fires at most once per call and event even when its job runs again — a retry after
another event of the same call failed, a second worker taking over, the sweeper re-queuing, a
wrap-up rewriting the log. Before a request the sender claims the row; after a 2xx it marks it
sent; after a failure it releases it, so a retry may send again.

A worker killed *during* a request leaves a claim behind; once the claim is older than
:data:`CLAIM_SECONDS` the next attempt sends again, because nobody can know whether the CRM got
it — the one case of "at least once", which is why every request carries the CallSid
(``{CALLSID}`` and the ``Idempotency-Key`` header) for the CRM to deduplicate.

``connector/schema.py`` declares the same table (its migration creates it); this package may not
import ``connector``, so the columns are repeated here, and a test checks the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from ..builtin.tables import UTCDateTime

#: A claim older than this is taken to be from a dead worker (the job timeout is 300 s).
CLAIM_SECONDS = 360

metadata = MetaData()

http_template_sent = Table(
    "http_template_sent", metadata,
    Column("adapter", String(64), primary_key=True),
    Column("call_sid", String(34), primary_key=True),
    Column("event", String(16), primary_key=True),
    Column("state", String(8), nullable=False),  # "sending" | "sent"
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
)


class AlreadyInFlight(Exception):
    """Another worker is sending this (call, event) right now."""


class Ledger:
    """The ledger of one adapter instance."""

    def __init__(self, engine: Engine, adapter: str,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.adapter = adapter
        self.now = clock or _now

    def claim(self, call_sid: str, event: str) -> bool:
        """True if this process should send; False if it was sent already.

        Raises:
            AlreadyInFlight: another worker claimed it less than CLAIM_SECONDS ago.
        """
        now = self.now()
        key = self._key(call_sid, event)
        with self.engine.begin() as conn:
            row = conn.execute(select(http_template_sent.c.state,
                                      http_template_sent.c.claimed_at).where(*key)).first()
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(insert(http_template_sent).values(
                            adapter=self.adapter, call_sid=call_sid, event=event,
                            state="sending", claimed_at=now))
                    return True
                except IntegrityError:
                    raise AlreadyInFlight(f"{event} of {call_sid} is being sent") from None
            if row.state == "sent":
                return False
            if row.claimed_at > now - timedelta(seconds=CLAIM_SECONDS):
                raise AlreadyInFlight(f"{event} of {call_sid} is being sent")
            taken = conn.execute(update(http_template_sent).where(
                *key, http_template_sent.c.claimed_at == row.claimed_at).values(
                claimed_at=now)).rowcount
            if not taken:
                raise AlreadyInFlight(f"{event} of {call_sid} is being sent")
            return True

    def sent(self, call_sid: str, event: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(http_template_sent).where(*self._key(call_sid, event)).values(
                state="sent", sent_at=self.now()))

    def release(self, call_sid: str, event: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(http_template_sent).where(
                *self._key(call_sid, event), http_template_sent.c.state == "sending"))

    def was_sent(self, call_sid: str, event: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(http_template_sent.c.state).where(
                *self._key(call_sid, event))).scalar() == "sent"

    def _key(self, call_sid: str, event: str) -> tuple:
        c = http_template_sent.c
        return (c.adapter == self.adapter, c.call_sid == call_sid, c.event == event)


def _now() -> datetime:
    return datetime.now(UTC)
