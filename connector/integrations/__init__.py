"""The HTTP adapter's call events (SPEC HT-1, HT-2) as the rest of the connector sees them.

The voice webhooks hand over ``incoming`` (a number's call rings), ``answered`` (a leg
answered) and ``click`` (an agent's outgoing call) with :func:`call_event`; it only queues one
job per (integration, CallSid, event) — nothing slow runs on the webhook path. The job
(:func:`.jobs.fire_event`) renders the template from the call record and sends it once
(the adapter's ledger), retrying temporary failures with backoff. ``hangup`` and ``wrapup`` go
through the CRM write-back queue like every CRM's call log.

Templates run in the agent's browser, and the per-number pop-ups, are served to the softphone
by ``GET /api/integrations/pops`` (:mod:`.views`).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, current_app
from rq import Retry

from crm_adapters.httptemplate import HTTPTemplateAdapter

from .. import queue

log = logging.getLogger("cti.integrations")

QUEUE = "writeback"
JOB = "connector.integrations.jobs.fire_event"
#: Seconds between attempts of a failing event template (then rq's failed-job registry:
#: ``cti jobs failed`` lists it, ``cti jobs retry --crashed`` runs it again).
RETRY_INTERVALS = [10, 60, 300, 900, 3600]
#: Events the voice webhooks hand over; hang-up and wrap-up come from the write-back.
CALL_EVENTS = ("click", "incoming", "answered")


def template_adapters(app: Flask | None = None) -> dict[str, HTTPTemplateAdapter]:
    """The enabled HTTP integrations by adapter name."""
    layer = (app or current_app).extensions.get("cti.crm")
    adapters = getattr(layer, "adapters", None) or {}  # tests may stand in a bare CRM layer
    return {n: a for n, a in adapters.items() if isinstance(a, HTTPTemplateAdapter)}


def call_event(event: str, call_sid: str, *, app: Flask | None = None) -> int:
    """Queue the server-side templates of ``event`` for ``call_sid``; never raises.

    Call it after the transaction that recorded the call has committed. Returns how many jobs
    were queued (a job already waiting for the same call and event is kept).
    """
    app = app or current_app
    if event not in CALL_EVENTS or not call_sid:
        return 0
    queued = 0
    try:
        for name, adapter in template_adapters(app).items():
            template = adapter.settings.templates().get(event)
            if template is None or template.run != "server":
                continue
            _enqueue(app, name, event, call_sid, template.delay_seconds)
            queued += 1
    except Exception:  # the webhook must answer Twilio whatever happens here
        log.exception("integration event hand-off failed", extra={"call_sid": call_sid})
    return queued


def _enqueue(app: Flask, adapter: str, event: str, call_sid: str, delay: float) -> None:
    q = queue.get_queue(QUEUE, app)
    # rq job ids: letters, digits, "_" and "-" only; the same id twice keeps one job.
    job_id = f"http-{adapter}-{call_sid}-{event}"
    existing = q.fetch_job(job_id)
    if existing is not None and existing.get_status(refresh=False) in (
            "queued", "scheduled", "started", "deferred"):
        return
    options = {"job_id": job_id, "result_ttl": 600, "failure_ttl": 7 * 86400,
               "job_timeout": 120, "retry": Retry(max=len(RETRY_INTERVALS),
                                                  interval=RETRY_INTERVALS)}
    if delay > 0:
        q.enqueue_in(timedelta(seconds=delay), JOB, adapter, event, call_sid, **options)
    else:
        q.enqueue(JOB, adapter, event, call_sid, **options)


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
    for adapter in template_adapters(app).values():
        adapter.clock = app.extensions["cti.clock"]  # the ledger's claims age by the app's clock


__all__ = ["CALL_EVENTS", "call_event", "init_app", "template_adapters"]
