"""The inbound webhook's call record, written off the ringing path but never lost.

While the phone rings, the webhook does not write the call record (nor the agents' 着信中
presence rows) to the database: it appends one *call event* to a Redis stream and keeps a
copy under the call's SID (``pending:<sid>``), in one ``MULTI``/``EXEC`` round trip. A worker
thread (:class:`Consumer`, started by ``cti worker``) writes the events to the database in
batches and only then acknowledges them, so a consumer killed mid-batch leaves its events
pending and the next consumer (or the same one restarted) writes them again — the call
insert is ``INSERT … ON CONFLICT DO NOTHING`` and the presence rows follow only a call that
was inserted just now, so a replay changes nothing.

Whoever needs the record before the consumer ran applies the pending copy first, in its own
transaction (:func:`materialize`): the status and dial-action callbacks, the softphone's
call API, the server-side integrations. The call record is thus always there for what
reads it, and the call-state machine (:mod:`connector.voice.callstate`) sees events in the
order Twilio sent them.

The stream is only as durable as Redis: with ``[voice] call_records = "auto"`` (the default)
it is used only when Redis writes an append-only file (``appendonly yes``), else — and
whenever Redis does not answer — the webhook writes the record itself, as before.
``/healthz`` says which (``checks.call_records``).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis
from flask import Flask, current_app, g, has_app_context
from sqlalchemy import Connection, Engine

from .redis_wire import exec_failure, round_trip

log = logging.getLogger("cti.callstream")

#: How long a pending copy outlives its event (the consumer deletes it once written).
PENDING_TTL_SECONDS = 7 * 86400
#: Events a consumer that died held for this long are taken over by another one.
RECLAIM_IDLE_MS = 30_000
BATCH = 500
#: The worker's consumer looks for unacknowledged and abandoned events this often (and after
#: any failure); abandoned ones are only taken after RECLAIM_IDLE_MS anyway.
RECOVER_SECONDS = 5.0
#: How long the worker's consumer waits for more events after a short read (see consume()).
LINGER_MS = 20
GROUP = "writers"
#: How often ``auto`` asks Redis again whether it persists.
PERSISTENCE_RECHECK_SECONDS = 60.0
MODES = ("auto", "stream", "sync")


@dataclass
class CallEvent:
    """One new call: the ``calls`` row and the agents claimed (rung) for it."""

    call_sid: str
    record: dict[str, Any]  # open_call's keyword arguments, ``now`` included
    ringing: list[tuple[int, int | None]] = field(default_factory=list)  # (agent, group)

    def dumps(self) -> str:
        record = {**self.record, "now": self.record["now"].isoformat()}
        return json.dumps({"sid": self.call_sid, "record": record, "ringing": self.ringing},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def loads(cls, raw: str | bytes) -> CallEvent:
        data = json.loads(raw)
        record = {**data["record"], "now": datetime.fromisoformat(data["record"]["now"])}
        return cls(data["sid"], record, [tuple(r) for r in data["ringing"]])  # type: ignore[misc]


def apply(conn: Connection, event: CallEvent) -> bool:
    """Write the event (idempotent): the call record, then — only if it was new — the rung
    agents' 着信中 presence. True if the record was created now."""
    return apply_many(conn, [event]) == 1


def apply_many(conn: Connection, events: Iterable[CallEvent]) -> int:
    """:func:`apply` for a batch: one multi-row insert for the records, then the 着信中 rows
    of the calls created now. Returns how many records were created."""
    from . import presence
    from .voice import calls

    first = {}  # a replayed event's copy changes nothing
    for event in events:
        first.setdefault(event.call_sid, event)
    created = calls.open_calls(conn, [e.record for e in first.values()])
    for sid, event in first.items():  # in the stream's order
        if sid not in created:
            continue
        for agent_id, group_id in event.ringing:
            presence.set_status(conn, agent_id, "ringing", now=event.record["now"],
                                call_sid=sid, group_id=group_id)
    return len(created)


class CallStream:
    """This deployment's stream of call events in Redis (``app.extensions["cti.callstream"]``)."""

    def __init__(self, client: redis.Redis, prefix: str, mode: str = "auto") -> None:
        if mode not in MODES:
            raise ValueError(f"call_records: {mode!r} is not one of {', '.join(MODES)}")
        self.redis, self.prefix, self.mode = client, prefix, mode
        self.stream_key = f"{prefix}stream"
        self._persists: tuple[float, bool] = (0.0, False)
        self._group_ready = False
        self.last_failure = ""  # why the last append fell back to a synchronous write

    def pending_key(self, call_sid: str) -> str:
        return f"{self.prefix}pending:{call_sid}"

    # --- the webhook's side ---------------------------------------------------------------

    def active(self) -> bool:
        """Whether webhooks should append (the mode, and for ``auto`` Redis's persistence)."""
        if self.mode != "auto":
            return self.mode == "stream"
        checked_at, persists = self._persists
        if time.monotonic() - checked_at > PERSISTENCE_RECHECK_SECONDS:
            try:
                persists = bool(self.redis.info("persistence").get("aof_enabled"))
            except redis.RedisError:
                persists = False
            self._persists = (time.monotonic(), persists)
        return persists

    def append(self, event: CallEvent) -> bool:
        """Append the event and its pending copy in one round trip; False if Redis failed
        (the caller then writes the record itself)."""
        raw = event.dumps()
        try:
            failure = exec_failure(round_trip(self.redis, [
                ("MULTI",), ("XADD", self.stream_key, "*", "e", raw),
                ("SET", self.pending_key(event.call_sid), raw, "EX", PENDING_TTL_SECONDS),
                ("EXEC",)]))
            if failure is not None:
                raise failure
        except redis.RedisError as exc:
            self.last_failure = f"{type(exc).__name__}: {exc}"[:200]
            log.warning("call event not queued; writing the call record now",
                        extra={"call_sid": event.call_sid, "error": self.last_failure})
            return False
        self.last_failure = ""
        return True

    # --- readers' side --------------------------------------------------------------------

    def materialize(self, conn: Connection, call_sids: Iterable[str | None]) -> int:
        """Write the pending events of these calls (if any) in ``conn``'s transaction."""
        keys = [self.pending_key(sid) for sid in dict.fromkeys(call_sids) if sid]
        if not keys:
            return 0
        try:
            found = self.redis.mget(keys)
        except redis.RedisError:
            return 0  # Redis is gone: so are the events; the webhook wrote newer ones itself
        return apply_many(conn, [CallEvent.loads(raw) for raw in found if raw])

    def write_pending(self, engine: Engine, call_sids: Iterable[str | None]) -> int:
        """:meth:`materialize` in a transaction of its own, opened only if one is pending."""
        keys = [self.pending_key(sid) for sid in dict.fromkeys(call_sids) if sid]
        try:
            found = [raw for raw in self.redis.mget(keys) if raw] if keys else []
        except redis.RedisError:
            return 0
        if not found:
            return 0
        with engine.begin() as conn:
            return apply_many(conn, [CallEvent.loads(raw) for raw in found])

    def write_queued(self, engine: Engine, limit: int = 2 * BATCH) -> int:
        """Write the oldest queued events now (before listing calls), leaving them queued
        for the consumer, which finds them written."""
        try:
            entries = self.redis.xrange(self.stream_key, count=limit)
        except redis.RedisError:
            return 0
        if not entries:
            return 0
        with engine.begin() as conn:
            return apply_many(conn, [CallEvent.loads(fields[b"e"])
                                     for _, fields in entries if fields])

    # --- the consumer's side --------------------------------------------------------------

    def ensure_group(self) -> None:
        """Create the consumer group once per process (again after a ``NOGROUP`` error)."""
        if self._group_ready:
            return
        try:
            self.redis.xgroup_create(self.stream_key, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    def consume(self, engine: Engine, consumer: str, *, block_ms: int = 1000,
                count: int = BATCH, recover: bool = True, linger_ms: int = 0) -> int:
        """Write one batch: this consumer's unacknowledged events, others' abandoned ones,
        then new ones. Returns how many events were written.

        Args:
            recover: look for unacknowledged and abandoned events first (two round trips;
                the worker's loop does it every few seconds, not for every batch).
            linger_ms: when fewer than ``count`` new events came, wait this long once for
                more, so a steady trickle is written in batches, not one transaction per call
                (readers never wait for it: they write a call's pending copy themselves).
        """
        self.ensure_group()
        try:
            entries = (self._own_pending(consumer, count) or self._reclaimed(consumer, count)
                       if recover else [])
            if not entries:
                entries = self._new(consumer, count, block_ms)
                if entries and linger_ms and len(entries) < count:
                    time.sleep(linger_ms / 1000)
                    entries += self._new(consumer, count - len(entries), None)
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # the stream is gone (Redis emptied): create it again
                self._group_ready = False
            raise
        if not entries:
            return 0
        events = [(entry_id, CallEvent.loads(fields[b"e"])) for entry_id, fields in entries
                  if fields]
        written = self._write(engine, [e for _, e in events])
        done = [entry_id for entry_id, _ in entries]
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream_key, GROUP, *done)
            pipe.xdel(self.stream_key, *done)
            for _, event in events:
                pipe.delete(self.pending_key(event.call_sid))
            pipe.execute()
        return written

    def _new(self, consumer: str, count: int, block_ms: int | None) -> list[Any]:
        reply = self.redis.xreadgroup(GROUP, consumer, {self.stream_key: ">"},
                                      count=count, block=block_ms)
        return reply[0][1] if reply else []

    def _own_pending(self, consumer: str, count: int) -> list[Any]:
        reply = self.redis.xreadgroup(GROUP, consumer, {self.stream_key: "0"}, count=count)
        return [e for e in (reply[0][1] if reply else []) if e[1]]

    def _reclaimed(self, consumer: str, count: int) -> list[Any]:
        reply = self.redis.xautoclaim(self.stream_key, GROUP, consumer, RECLAIM_IDLE_MS,
                                      start_id="0-0", count=count)
        return [e for e in reply[1] if e[1]]

    def _write(self, engine: Engine, events: list[CallEvent]) -> int:
        try:
            with engine.begin() as conn:
                return apply_many(conn, events)
        except Exception:
            if len(events) == 1:
                raise  # left unacknowledged: retried on the next round
            log.exception("a batch of call events failed; writing them one by one")
        return sum(self._write(engine, [event]) for event in events)

    def backlog(self) -> dict[str, Any]:
        """Events not yet written (``/healthz``)."""
        return {"queued": self.redis.xlen(self.stream_key)}


class Consumer(threading.Thread):
    """The worker's thread writing call events to the database (``cti worker``)."""

    def __init__(self, app: Flask, *, block_ms: int = 1000) -> None:
        super().__init__(name="cti-callstream", daemon=True)
        self.app, self.block_ms = app, block_ms
        self.name_in_group = f"{socket.gethostname()}-{os.getpid()}"
        self.stopped = threading.Event()

    def run(self) -> None:
        from . import db

        stream, engine = get_stream(self.app), db.get_engine(self.app)
        recover_at = 0.0  # at start: this consumer's own unacknowledged events first
        while not self.stopped.is_set():
            recover = time.monotonic() >= recover_at
            try:
                with self.app.app_context():
                    stream.consume(engine, self.name_in_group, block_ms=self.block_ms,
                                   recover=recover, linger_ms=LINGER_MS)
            except Exception:  # Redis restarting, the database away: try again shortly
                log.exception("writing call events failed; retrying")
                recover_at = 0.0  # what failed is unacknowledged: take it up first
                self.stopped.wait(1.0)
                continue
            if recover:
                recover_at = time.monotonic() + RECOVER_SECONDS

    def stop(self) -> None:
        self.stopped.set()


# --- the app's stream, and the webhook's batch --------------------------------------------

def init_app(app: Flask) -> None:
    from . import queue

    settings = app.config["CTI_SETTINGS"]
    prefix = f"cti:calls:{queue.deployment_id(app)}:"
    app.extensions["cti.callstream"] = CallStream(queue.get_redis(app), prefix,
                                                  settings.voice.call_records)


def get_stream(app: Flask | None = None) -> CallStream:
    return (app or current_app).extensions["cti.callstream"]


def materialize(conn: Connection, *call_sids: str | None, app: Flask | None = None) -> int:
    """Apply the pending events of these calls before reading or changing their records."""
    stream = (app or current_app).extensions.get("cti.callstream")
    return stream.materialize(conn, call_sids) if stream is not None else 0


def write_pending(*call_sids: str | None, app: Flask | None = None) -> int:
    """Before reading these calls' records outside a callback: write what is still queued."""
    from . import db

    app = app or current_app
    stream = app.extensions.get("cti.callstream")
    return stream.write_pending(db.get_engine(app), call_sids) if stream is not None else 0


def write_queued(app: Flask | None = None) -> int:
    """Before listing call records: write the queued events."""
    from . import db

    app = app or current_app
    stream = app.extensions.get("cti.callstream")
    return stream.write_queued(db.get_engine(app)) if stream is not None else 0


def begin_event(call_sid: str) -> CallEvent | None:
    """Start collecting this request's call event (in stream mode); ``None`` otherwise."""
    stream = current_app.extensions.get("cti.callstream")
    if not call_sid or stream is None or not stream.active():
        return None
    event = CallEvent(call_sid, {})
    g.cti_call_event = event
    return event


def defer_ringing(agent_id: int, call_sid: str, group_id: int | None) -> bool:
    """Called by the ACD's claim: note 着信中 on the request's event instead of writing it
    now; False when there is no event to note it on (then it is written at once)."""
    event = g.get("cti_call_event") if has_app_context() else None
    if event is None or event.call_sid != call_sid:
        return False
    event.ringing.append((agent_id, group_id))
    return True


def finish_event(conn: Connection, event: CallEvent | None, record: dict[str, Any]) -> None:
    """Record the new call: in the stream (``event``), or — no stream, or Redis failing —
    in ``conn``'s transaction as before."""
    from .voice import calls

    g.pop("cti_call_event", None)
    if event is None:
        calls.open_call(conn, **record)
        return
    event.record = record
    if not get_stream().append(event):
        apply(conn, event)


def health(app: Flask) -> dict[str, Any]:
    """``/healthz``'s ``call_records`` check: how webhooks write call records now."""
    stream: CallStream = app.extensions["cti.callstream"]
    active = stream.active()
    check: dict[str, Any] = {"ok": True, "mode": "stream" if active else "sync",
                             "setting": stream.mode}
    if stream.mode == "auto" and not active:
        check["reason"] = "Redis does not persist (appendonly no) or is unavailable"
    if stream.last_failure:
        check["last_failure"] = stream.last_failure
    if active:
        try:
            check.update(stream.backlog())
        except redis.RedisError as exc:
            check.update(ok=False, error=str(exc)[:200])
    return check
