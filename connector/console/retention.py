"""Retention (SPEC AD-5): delete what is older than the configured days, and say what went.

* ``log_days``: audit-log entries and raw Twilio callbacks (``call_events``);
* ``call_days``: call records (every leg) with their call-control rows. With ``recordings``
  on, each expired record's recording is deleted at Twilio first (:mod:`connector.voice.
  recording_deletes`, outside any transaction) and the record goes only once Twilio confirmed
  (204, or 404 = already gone): a record whose delete failed keeps its ``recording_sid`` and is
  tried again on the next run, so no recording is ever lost track of. With ``recordings`` off
  the media stay at Twilio but are no longer reachable through the connector.

Runs from ``cti serve``'s worker every ``[console] retention_interval_hours`` and on the
security screen's "run now" (:func:`purge` both times); each run writes a ``retention.run``
audit entry with the counts, recordings deleted and failed included.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import ColumnElement, Connection, and_, delete, or_, select

from ..schema import audit_log, call_controls, call_events, calls
from ..voice import recording_deletes
from . import audit, store

BATCH = 5000
#: Recordings deleted at Twilio per run at most (one request each); the rest wait a run.
MAX_RECORDINGS_PER_RUN = 2000
_IN_CHUNK = 500


def expired_recordings(conn: Connection, now: datetime,
                       limit: int = MAX_RECORDINGS_PER_RUN) -> list[str]:
    """Recording SIDs of the call records retention would delete now (none if it keeps them)."""
    policy = store.get(conn, "retention")
    if not (policy["call_days"] and policy["recordings"]):
        return []
    cutoff = now - timedelta(days=policy["call_days"])
    return list(dict.fromkeys(conn.execute(
        select(calls.c.recording_sid).where(calls.c.started_at < cutoff,
                                            calls.c.recording_sid.is_not(None))
        .order_by(calls.c.started_at).limit(limit)).scalars()))


def purge(app: Flask, now: datetime, *, actor: str = "retention") -> dict[str, Any]:
    """A whole run: recordings deleted at Twilio first, then the database rows (and audit)."""
    from .. import db

    engine = db.get_engine(app)
    with engine.connect() as conn:
        sids = expired_recordings(conn, now)
    outcome = recording_deletes.delete_all(app, sids)
    with engine.begin() as conn:
        return run(conn, now, actor=actor, recordings=outcome)


def _gone(cutoff: datetime, keep_recorded: bool, deleted: list[str]) -> ColumnElement[bool]:
    """Records to delete: expired, and (with ``recordings`` on) without a recording Twilio
    still has — no recording, or one whose deletion Twilio confirmed."""
    expired = calls.c.started_at < cutoff
    if not keep_recorded:
        return expired
    confirmed = [calls.c.recording_sid.in_(deleted[i:i + _IN_CHUNK])
                 for i in range(0, len(deleted), _IN_CHUNK)]
    return and_(expired, or_(calls.c.recording_sid.is_(None), *confirmed))


def run(conn: Connection, now: datetime, *, actor: str = "retention",
        recordings: recording_deletes.Outcome | None = None) -> dict[str, Any]:
    """Delete what the settings say is too old; returns the counts.

    ``recordings``: what Twilio confirmed for :func:`expired_recordings` (:func:`purge`). With
    ``recordings`` on, a record with a recording goes only if its SID is in ``deleted``.
    """
    policy = store.get(conn, "retention")
    outcome = recordings or recording_deletes.Outcome()
    report: dict[str, Any] = {"audit_log": 0, "call_events": 0, "calls": 0,
                              "policy": policy, **outcome.counts(), "recordings_kept": 0}
    if policy["log_days"]:
        cutoff = now - timedelta(days=policy["log_days"])
        report["audit_log"] = conn.execute(delete(audit_log).where(
            audit_log.c.at < cutoff)).rowcount
        report["call_events"] = conn.execute(delete(call_events).where(
            call_events.c.received_at < cutoff)).rowcount
    if policy["call_days"]:
        cutoff = now - timedelta(days=policy["call_days"])
        gone = _gone(cutoff, bool(policy["recordings"]), outcome.deleted)
        old = select(calls.c.call_sid).where(gone)
        conn.execute(delete(call_controls).where(call_controls.c.call_sid.in_(old)))
        report["calls"] = conn.execute(delete(calls).where(gone)).rowcount
        if policy["recordings"]:  # waiting for Twilio: tried again next run
            report["recordings_kept"] = len(conn.execute(select(calls.c.call_sid).where(
                calls.c.started_at < cutoff, calls.c.recording_sid.is_not(None))).all())
    audit.record(conn, at=now, action="retention.run", actor=actor, details=report)
    return report


def run_if_due(app: Any) -> dict[str, Any] | None:
    """The maintenance round's hook: run once per ``retention_interval_hours`` across workers.

    A Redis key with that lifetime marks the last run, so however many workers share Redis, one
    runs it per interval; a flushed Redis just means one extra (harmless) run.
    """
    from .. import clock, queue

    hours = app.config["CTI_SETTINGS"].console.retention_interval_hours
    if not queue.get_redis(app).set("cti:console:retention", "1", nx=True, ex=hours * 3600):
        return None
    return purge(app, clock.now(app))
