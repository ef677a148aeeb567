"""Notifications (SPEC NT-1): who hears about voicemails, missed and abandoned calls, calls the
IVR handled, SMS replies and call logs no CRM would take.

Nothing is sent on a webhook's path: :func:`emit` only queues one job per channel (rq, queue
``default``), with a job id made from the event, its key and the channel, so a replayed webhook
or a second worker queues nothing new. The worker renders the event's Japanese template and
delivers it (:mod:`.senders`), retrying ``[notify] max_attempts`` times with backoff; a message
that still fails stays in rq's failed-job registry, where ``cti jobs failed`` lists it (error
text scrubbed of secrets) and ``cti jobs retry --crashed`` sends it again.

Other parts of the connector call the functions below; each takes plain values and never
raises:

- :func:`call_final` — a call's record became final (missed calls and voicemails);
- :func:`ivr_handled` — a flow ended the call without an agent (``connector/flows``);
- :func:`abandoned_in_queue` — the caller hung up while queued (``connector/acd``);
- :func:`sms_received` — an SMS reply arrived (``connector/sms``);
- :func:`writeback_failed` — a call log was dead-lettered (the write-back worker).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, current_app
from rq import Retry

from .. import queue
from .settings import EVENT_FIELDS, NotifySettings

log = logging.getLogger("cti.notify")

QUEUE = "default"
JOB = "connector.notify.jobs.deliver"
FINAL_JOB = "connector.notify.jobs.call_final"
#: The events :func:`call_final` may send.
FINAL_EVENTS = ("missed", "voicemail", "ivr_handled", "abandoned")
#: Seconds before each retry of a failed delivery (the last value repeats).
RETRY_INTERVALS = [10, 60, 300, 900, 3600]


def settings(app: Flask | None = None) -> NotifySettings:
    return (app or current_app).config["CTI_SETTINGS"].notify


def emit(event: str, key: str, values: dict[str, Any], *, app: Flask | None = None) -> int:
    """Queue ``event`` (its ``values`` as its template uses them) to each of its channels.

    ``key`` identifies the occurrence (a CallSid, a MessageSid): the same event and key queue
    nothing new. Returns how many deliveries were queued. Never raises.
    """
    app = app or current_app
    try:
        if event not in EVENT_FIELDS:
            raise ValueError(f"unknown notification event {event!r}")
        config = settings(app)
        channels = config.channels_for(event)
        if not channels:
            return 0
        q = queue.get_queue(QUEUE, app)
        plain = {k: "" if v is None else str(v) for k, v in values.items()
                 if k in EVENT_FIELDS[event]}
        queued = 0
        for channel in channels:
            job_id = f"notify-{event}-{_safe(key)}-{channel}"
            if _live(q, job_id):
                continue
            q.enqueue(JOB, event, channel, plain, job_id=job_id, result_ttl=86400,
                      failure_ttl=7 * 86400, job_timeout=120,
                      retry=_retry(config.max_attempts))
            queued += 1
        return queued
    except Exception:  # a notification must never break the call it is about
        log.exception("notification hand-off failed", extra={"event": event})
        return 0


def call_final(call_sid: str, *, app: Flask | None = None) -> None:
    """A call is final: the worker checks whether it was missed, left a voicemail, ended in
    the IVR or was abandoned while a group rang (:func:`.jobs.call_final`)."""
    app = app or current_app
    try:
        config = settings(app)
        if not any(config.channels_for(event) for event in FINAL_EVENTS):
            return
        job_id = f"notify-final-{_safe(call_sid)}"
        q = queue.get_queue(QUEUE, app)
        if not _live(q, job_id):
            q.enqueue(FINAL_JOB, call_sid, job_id=job_id, result_ttl=86400,
                      failure_ttl=7 * 86400, job_timeout=60,
                      retry=Retry(max=3, interval=[5, 30, 120]))
    except Exception:
        log.exception("notification hand-off failed", extra={"call_sid": call_sid})


def ivr_handled(call_sid: str, *, summary: str = "", app: Flask | None = None) -> int:
    """For the flows: the IVR finished the call without an agent (``summary``: what the
    caller chose or left, in the flow's words)."""
    from .jobs import call_values

    return _emit_call("ivr_handled", call_sid, app, summary=summary, loader=call_values)


def abandoned_in_queue(call_sid: str, *, queue_name: str, wait_seconds: int,
                       app: Flask | None = None) -> int:
    """For the queues: the caller hung up after waiting ``wait_seconds`` in ``queue_name``."""
    from .jobs import call_values

    return _emit_call("abandoned", call_sid, app, queue=queue_name,
                      wait_seconds=wait_seconds, loader=call_values)


def sms_received(message_sid: str, values: dict[str, Any], *, app: Flask | None = None) -> int:
    """For SMS: a reply arrived (values: caller, name, company, our_number, time, body)."""
    return emit("sms_received", message_sid, {**values, "message_sid": message_sid}, app=app)


def writeback_failed(adapter: str, call_sid: str, error: str, *, time: str = "",
                     app: Flask | None = None) -> int:
    """For the write-back worker: a call log was dead-lettered."""
    return emit("writeback_failed", f"{adapter}-{call_sid}",
                {"adapter": adapter, "call_sid": call_sid, "error": error[:300], "time": time},
                app=app)


def _emit_call(event: str, call_sid: str, app: Flask | None, *, loader: Any,
               **extra: Any) -> int:
    app = app or current_app
    try:
        if not settings(app).channels_for(event):
            return 0
        with app.app_context():
            values = loader(call_sid)
    except Exception:
        log.exception("notification hand-off failed", extra={"call_sid": call_sid})
        return 0
    return emit(event, call_sid, {**values, **extra}, app=app)


def _retry(max_attempts: int) -> Retry | None:
    retries = max_attempts - 1
    if retries <= 0:
        return None
    intervals = (RETRY_INTERVALS + [RETRY_INTERVALS[-1]] * retries)[:retries]
    return Retry(max=retries, interval=intervals)


def _live(q: Any, job_id: str) -> bool:
    job = q.fetch_job(job_id)
    return job is not None and job.get_status(refresh=False) in (
        "queued", "scheduled", "started", "deferred", "finished")


def _safe(text: str) -> str:
    # rq job ids: letters, digits, "_" and "-" only.
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)[:80]


__all__ = ["abandoned_in_queue", "call_final", "emit", "ivr_handled", "sms_received",
           "writeback_failed"]

