"""Retention (SPEC AD-5): delete what is older than the configured days, and say what went.

* ``log_days``: audit-log entries and raw Twilio callbacks (``call_events``);
* ``call_days``: call records (every leg) with their call-control rows; recordings are
  referenced by the records only, so with ``recordings`` on, their Twilio recording SIDs are
  returned for deletion at Twilio (:func:`run` does not call Twilio itself: the caller does, with
  its own timeout and credentials), else the media stay at Twilio but are no longer reachable
  through the connector.

Runs from ``cti serve``'s worker every ``[console] retention_interval_hours`` and on the
security screen's "run now"; each run writes a ``retention.run`` audit entry with the counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select

from ..schema import audit_log, call_controls, call_events, calls
from . import audit, store

BATCH = 5000


def run(conn: Connection, now: datetime, *, actor: str = "retention") -> dict[str, Any]:
    """Delete what the settings say is too old; returns the counts (and recording SIDs)."""
    policy = store.get(conn, "retention")
    report: dict[str, Any] = {"audit_log": 0, "call_events": 0, "calls": 0,
                              "recordings": [], "policy": policy}
    if policy["log_days"]:
        cutoff = now - timedelta(days=policy["log_days"])
        report["audit_log"] = conn.execute(delete(audit_log).where(
            audit_log.c.at < cutoff)).rowcount
        report["call_events"] = conn.execute(delete(call_events).where(
            call_events.c.received_at < cutoff)).rowcount
    if policy["call_days"]:
        cutoff = now - timedelta(days=policy["call_days"])
        old = select(calls.c.call_sid).where(calls.c.started_at < cutoff)
        if policy["recordings"]:
            report["recordings"] = [r.recording_sid for r in conn.execute(
                select(calls.c.recording_sid).where(calls.c.started_at < cutoff,
                                                    calls.c.recording_sid.is_not(None)))]
        conn.execute(delete(call_controls).where(call_controls.c.call_sid.in_(old)))
        report["calls"] = conn.execute(delete(calls).where(calls.c.started_at < cutoff)).rowcount
    audit.record(conn, at=now, action="retention.run", actor=actor, details={
        k: (len(v) if isinstance(v, list) else v) for k, v in report.items()})
    return report


def run_if_due(app: Any) -> dict[str, Any] | None:
    """The maintenance round's hook: run once per ``retention_interval_hours`` across workers.

    A Redis key with that lifetime marks the last run, so however many workers share Redis, one
    runs it per interval; a flushed Redis just means one extra (harmless) run.
    """
    from .. import clock, db, queue

    hours = app.config["CTI_SETTINGS"].console.retention_interval_hours
    if not queue.get_redis(app).set("cti:console:retention", "1", nx=True, ex=hours * 3600):
        return None
    with db.get_engine(app).begin() as conn:
        report = run(conn, clock.now(app))
    report["recordings"] = len(report["recordings"])
    return report
