"""Hand-off from the call records to the CRM write-back pipeline.

The voice layer calls :func:`call_finished` once a call has reached its final state (and again
after a wrap-up changes it). The pipeline then writes the call log to every enabled CRM exactly
once per revision, keyed by CallSid — see ``connector/writeback_jobs.py``.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

log = logging.getLogger("cti.writeback")


def call_finished(call_sid: str, *, app: Flask | None = None) -> None:
    """Queue the CRM write-back of a final call. Idempotent; never raises.

    Must be called after the transaction that recorded the final state has committed.
    """
    app = app or current_app
    pipeline = app.extensions.get("cti.writeback")
    if pipeline is None:
        return
    try:
        pipeline.call_finished(call_sid)
    except Exception:  # a lost hand-off is repaired by the sweeper; the webhook must answer
        log.exception("write-back hand-off failed", extra={"call_sid": call_sid})
