"""Call records in the database: opened by the webhooks, moved by Twilio's callbacks.

One row per leg in ``calls`` (child legs point at their parent with ``parent_call_sid``);
the changes themselves are :mod:`.callstate`. Every callback is first recorded in
``call_events`` under a unique ``dedupe_key``, in the same transaction as its effect, so a
repeated callback is recognised and changes nothing.

Concurrency: a callback's transaction locks the call record first (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the event insert has already taken the database's write lock), then
the leg. Events of one call are thus applied one at a time, and the decision that a call is
final — ``UPDATE … SET finalized_at = now WHERE finalized_at IS NULL`` — is taken exactly once.
The caller hands the call to the write-back *after* committing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update
from sqlalchemy.dialects import postgresql, sqlite

from voice import numbering
from voice.numbering import NumberError

from ..schema import agents, call_events, calls
from . import callstate
from .callstate import LegEvent

log = logging.getLogger("cti.voice.calls")


def e164_or_empty(number: str) -> str:
    """The E.164 form of a party's number, or "" (withheld, a browser, garbage)."""
    if not number or number.startswith("client:"):
        return ""
    return _e164_or_empty(number)


@functools.lru_cache(maxsize=4096)
def _e164_or_empty(number: str) -> str:
    # Our own numbers and repeat callers come back on every webhook; parsing is pure.
    try:
        return numbering.normalize(number)
    except NumberError:
        return ""


# --- writing ----------------------------------------------------------------------------------

def open_call(conn: Connection, *, call_sid: str, direction: str, leg: str, status: str,
              now: datetime, **values: Any) -> bool:
    """Create a call record unless it exists (a webhook retried by Twilio); True if created.

    ``values`` are other ``calls`` columns: ``from_number``, ``to_number``,
    ``customer_number``, ``our_number``, ``agent_id``, ``group_id``, ``customer``,
    ``outcome``, ``detail``.
    """
    if not call_sid:  # nothing to key a record on; the call is still answered
        log.warning("webhook without CallSid; no call record")
        return False
    row = _call_row(call_sid, now, {"direction": direction, "leg": leg, "status": status,
                                    **values})
    return _insert_ignore(conn, calls, row, "call_sid")


def open_calls(conn: Connection, records: Sequence[Mapping[str, Any]]) -> set[str]:
    """:func:`open_call` for many records at once (the call stream's consumer): one
    multi-row ``INSERT … ON CONFLICT DO NOTHING`` per set of columns; returns the SIDs
    created now (a SID repeated in ``records`` counts once, with its first record)."""
    rows: dict[str, dict[str, Any]] = {}
    for record in records:
        values = dict(record)
        sid, now = values.pop("call_sid", ""), values.pop("now")
        if not sid:
            log.warning("call event without CallSid; no call record")
            continue
        rows.setdefault(sid, _call_row(sid, now, values))
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows.values():  # executemany needs the same columns in every row
        by_columns.setdefault(tuple(sorted(row)), []).append(row)
    statement = _ignoring_insert_for(conn, calls)
    created: set[str] = set()
    for same in by_columns.values():
        created.update(conn.execute(statement, same).scalars())  # insertmanyvalues: batched
    return created


def _call_row(call_sid: str, now: datetime, values: Mapping[str, Any]) -> dict[str, Any]:
    return {"call_sid": call_sid, "started_at": now, "created_at": now, "updated_at": now,
            **values}


def update_call(conn: Connection, call_sid: str, now: datetime, **values: Any) -> None:
    conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(
        updated_at=now, **values))


def record_event(conn: Connection, call_sid: str, kind: str, status: str, key: str,
                 payload: Mapping[str, Any], now: datetime) -> bool:
    """Remember a callback; False if it was seen before (then it must change nothing)."""
    return _insert_ignore(conn, call_events, {
        "call_sid": call_sid, "kind": kind, "status": status, "dedupe_key": key[:160],
        "payload": dict(payload), "received_at": now}, "dedupe_key")


def apply_status(conn: Connection, params: Mapping[str, str], now: datetime) -> str | None:
    """Apply one status callback; returns the call record's SID if the call became final."""
    sid, status = params.get("CallSid", ""), params.get("CallStatus", "")
    if not sid or not status:
        return None
    if not record_event(conn, sid, "status", status, f"status:{sid}:{status}", params, now):
        return None
    # A leg we recorded ourselves as part of a call (the softphone's resume and consult calls
    # come through the TwiML App, so Twilio sends no ParentCallSid) reports to that call.
    parent_sid = params.get("ParentCallSid") or conn.execute(select(calls.c.parent_call_sid).where(
        calls.c.call_sid == sid)).scalar() or None
    parent = _locked(conn, parent_sid) if parent_sid else None
    row = _locked(conn, sid) or _create_leg(conn, sid, parent_sid, parent, params, now)
    duration = params.get("CallDuration", "")
    event = LegEvent(status, callstate.event_time(params.get("Timestamp"), now),
                     int(duration) if duration.isdigit() else None)
    own_answer = row["parent_call_sid"] is not None or row["leg"] == "other"
    changes = callstate.leg_changes(row, event, own_answer=own_answer)
    if changes:
        update_call(conn, sid, now, **changes)
    if parent is None:
        return sid if finalize(conn, sid, now) else None
    child = {**row, **changes}
    parent_update = callstate.parent_changes(parent, child)
    if parent_update and parent["finalized_at"] is None:
        update_call(conn, parent["call_sid"], now, **parent_update)
    return parent["call_sid"] if finalize(conn, parent["call_sid"], now) else None


def note_dial_result(conn: Connection, params: Mapping[str, str], now: datetime) -> bool:
    """Remember a ``<Dial>`` action (see :func:`finalize_overdue`); False if seen before.

    The call record itself learns from the dialed legs' callbacks, so the result is the same
    whichever arrives first.
    """
    sid, status = params.get("CallSid", ""), params.get("DialCallStatus", "")
    key = f"dial:{sid}:{params.get('DialCallSid') or status}"
    return bool(sid) and record_event(conn, sid, "dial", status, key, params, now)


def expect_legs(conn: Connection, call_sid: str, count: int, now: datetime) -> None:
    """The TwiML just served dials ``count`` more legs for this call."""
    if count:
        conn.execute(update(calls).where(calls.c.call_sid == call_sid).values(
            expected_legs=calls.c.expected_legs + count, updated_at=now))


def apply_recording(conn: Connection, params: Mapping[str, str], now: datetime) -> str | None:
    """Store a finished recording on its call (``CallSid`` is always the parent leg).

    Returns the call's SID when the call was already final — its record changed, so it must
    be handed to the write-back again.
    """
    sid, recording_sid = params.get("CallSid", ""), params.get("RecordingSid", "")
    status = params.get("RecordingStatus", "completed")
    key = f"recording:{recording_sid}:{status}"
    if not sid or not recording_sid or not record_event(conn, sid, "recording", status, key,
                                                        params, now):
        return None
    row = _locked(conn, sid)
    if row is None or status != "completed" or row["recording_sid"]:
        return None
    duration = params.get("RecordingDuration", "")
    update_call(conn, sid, now, recording_sid=recording_sid,
                recording_duration=int(duration) if duration.isdigit() else None)
    return sid if row["finalized_at"] is not None else None


def finalize(conn: Connection, call_sid: str, now: datetime) -> bool:
    """Mark the call final if it and all its legs have ended; True only the first time."""
    parent = get_row(conn, call_sid)
    if parent is None or parent["finalized_at"] is not None:
        return False
    children = child_rows(conn, call_sid)
    if not callstate.ready_to_finalize(parent, children):
        return False
    outcome = callstate.final_outcome(parent, children)
    done = conn.execute(update(calls).where(
        calls.c.call_sid == call_sid, calls.c.finalized_at.is_(None)).values(
        finalized_at=now, outcome=outcome, updated_at=now))
    return done.rowcount == 1


def finalize_overdue(conn: Connection, now: datetime,
                     grace: timedelta = timedelta(minutes=10)) -> list[str]:
    """Finalize ended calls whose legs' last callbacks never came (lost in transit).

    What the legs would have said is taken from the ``<Dial>`` action instead. Run it now and
    then (``connector.voice.jobs.finalize_overdue_calls``); returns the SIDs to hand to the
    write-back after commit.
    """
    rows = conn.execute(select(calls.c.call_sid).where(
        calls.c.parent_call_sid.is_(None), calls.c.finalized_at.is_(None),
        calls.c.status.in_(callstate.TERMINAL), calls.c.ended_at <= now - grace)).scalars()
    done = []
    for sid in rows.all():
        parent = _locked(conn, sid)
        if parent is None or parent["finalized_at"] is not None:
            continue
        dial = conn.execute(select(call_events.c.payload).where(
            call_events.c.call_sid == sid, call_events.c.kind == "dial").order_by(
            call_events.c.id.desc())).scalars().first() or {}
        changes = callstate.dial_changes(parent, dial, parent["ended_at"])
        parent = {**parent, **changes}
        outcome = callstate.final_outcome(parent, child_rows(conn, sid))
        result = conn.execute(update(calls).where(
            calls.c.call_sid == sid, calls.c.finalized_at.is_(None)).values(
            finalized_at=now, outcome=outcome, updated_at=now, **changes))
        if result.rowcount == 1:
            done.append(sid)
    return done


# --- reading ----------------------------------------------------------------------------------

def get_row(conn: Connection, call_sid: str) -> RowMapping | None:
    return conn.execute(select(calls).where(calls.c.call_sid == call_sid)).mappings().first()


def child_rows(conn: Connection, call_sid: str) -> list[RowMapping]:
    return list(conn.execute(select(calls).where(calls.c.parent_call_sid == call_sid).order_by(
        calls.c.started_at, calls.c.call_sid)).mappings())


def children_of(conn: Connection, call_sids: list[str]) -> dict[str, list[RowMapping]]:
    """The legs of several call records, in one query."""
    found: dict[str, list[RowMapping]] = {}
    if not call_sids:
        return found
    rows = conn.execute(select(calls).where(calls.c.parent_call_sid.in_(call_sids)).order_by(
        calls.c.started_at, calls.c.call_sid)).mappings()
    for row in rows:
        found.setdefault(row["parent_call_sid"], []).append(row)
    return found


# --- helpers ----------------------------------------------------------------------------------

def _locked(conn: Connection, call_sid: str) -> RowMapping | None:
    query = select(calls).where(calls.c.call_sid == call_sid)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).mappings().first()


def _create_leg(conn: Connection, sid: str, parent_sid: str | None, parent: RowMapping | None,
                params: Mapping[str, str], now: datetime) -> RowMapping:
    """A row for a leg first seen in a callback: a dialed leg, or a call we did not open."""
    to, from_ = params.get("To", ""), params.get("From", "")
    values: dict[str, Any] = {"from_number": from_[:64], "to_number": to[:64],
                              "parent_call_sid": parent_sid}
    if parent is not None:
        values.update(our_number=parent["our_number"], group_id=parent["group_id"])
        direction = parent["direction"]
        if to.startswith("client:"):
            leg = "agent"
            values.update(agent_id=_agent_id(conn, to), customer_number=parent["customer_number"])
        elif direction == "outbound":
            leg = "customer"
            values["customer_number"] = e164_or_empty(to)
        else:
            leg = "external"
            values["customer_number"] = parent["customer_number"]
    else:
        direction = "inbound" if params.get("Direction") == "inbound" else "outbound"
        leg = "other"
    _insert_ignore(conn, calls, {
        "call_sid": sid, "direction": direction, "leg": leg, "status": "queued",
        "started_at": now, "created_at": now, "updated_at": now, **values}, "call_sid")
    row = _locked(conn, sid)
    assert row is not None
    return row


def _agent_id(conn: Connection, client: str) -> int | None:
    username = client.removeprefix("client:")
    return conn.execute(select(agents.c.id).where(agents.c.username == username)
                        ).scalar_one_or_none()


def _ignoring_insert(dialect: Any, table: Any, key: str) -> Any:
    return dialect.insert(table).on_conflict_do_nothing(index_elements=[key]).returning(
        table.c[key])


# Built once: INSERT … ON CONFLICT DO NOTHING RETURNING <key>, per dialect and table. Passing
# the row as parameters (not .values()) lets SQLAlchemy reuse the compiled statement, which
# matters on the webhook path.
_INSERT_IGNORING = {
    (name, table.name): _ignoring_insert(dialect, table, key)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
    for table, key in ((calls, "call_sid"), (call_events, "dedupe_key"))}


def _insert_ignore(conn: Connection, table: Any, values: Mapping[str, Any], key: str) -> bool:
    """Insert unless a row with the same ``key`` exists; True if this call inserted it."""
    return conn.execute(_ignoring_insert_for(conn, table), dict(values)).first() is not None


def _ignoring_insert_for(conn: Connection, table: Any) -> Any:
    dialect = "postgresql" if conn.dialect.name == "postgresql" else "sqlite"
    return _INSERT_IGNORING[dialect, table.name]


__all__ = ["apply_recording", "apply_status", "child_rows", "children_of", "e164_or_empty",
           "expect_legs", "finalize", "finalize_overdue", "get_row", "note_dial_result",
           "open_call", "open_calls", "record_event", "update_call"]
