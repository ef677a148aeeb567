"""Sending from the app (API, softphone) and from a flow node; and what follows a message."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app
from rq import Retry

from crm_adapters.base import CallLog
from crm_adapters.httptemplate import HTTPTemplateAdapter

from .. import clock, crm, db, queue
from ..voice import rest_client
from . import service

log = logging.getLogger("cti.sms")

STATUS_PATH = "/twilio/sms/status"


def deliver_now(app: Flask, *, to: str, body: str = "", template: str = "",
                our_number: str = "", agent_id: int | None = None, agent_name: str = "",
                call_sid: str | None = None) -> dict[str, Any]:
    """Send one SMS through Twilio (or the simulator) and record it; raise SmsError."""
    settings = app.config["CTI_SETTINGS"]
    simulated = app.extensions.get("cti.simulated_mode")
    attached = app.extensions.get("cti.simulator")
    if simulated is not None and (attached is None or simulated.owns(attached)):
        simulated.sync_numbers()  # the simulated account sends from the configured numbers
    client = rest_client(app)
    if client is None:
        raise service.SmsError("no_twilio", "Twilio（またはシミュレーター）に接続していません",
                               "no Twilio account (or simulator) is connected")
    now = clock.now(app)
    with db.get_engine(app).begin() as conn:
        outgoing = service.prepare(conn, settings.sms, to=to, body=body, template=template,
                                   our_number=our_number, agent_name=agent_name, now=now,
                                   link_base=settings.server.public_base_url)
    with db.get_engine(app).begin() as conn:
        row = service.send(conn, outgoing, client, now=now, agent_id=agent_id,
                           call_sid=call_sid, link_days=settings.sms.short_url_days,
                           status_callback=settings.server.public_base_url + STATUS_PATH)
    log.info("SMS sent", extra={"message_sid": row.get("message_sid", ""),
                                "segments": outgoing.segments.count})
    after_message(app, row["id"])
    return row


def send_from_flow(call_sid: str, *, to: str = "", template: str = "", body: str = "",
                   our_number: str = "", app: Flask | None = None) -> bool:
    """For a flow node: queue an SMS to the caller of ``call_sid`` (or ``to``); never raises
    and never waits for Twilio on the webhook's path. True if queued."""
    app = app or current_app
    try:
        queue.get_queue("default", app).enqueue(
            "connector.sms.dispatch.flow_job", call_sid, to, template, body, our_number,
            job_id=f"sms-flow-{call_sid}-{template or 'text'}", failure_ttl=7 * 86400,
            retry=Retry(max=3, interval=[10, 60, 300]))
        return True
    except Exception:
        log.exception("SMS hand-off from a flow failed", extra={"call_sid": call_sid})
        return False


def flow_job(call_sid: str, to: str, template: str, body: str, our_number: str) -> dict:
    from ..schema import calls

    with db.get_engine().connect() as conn:
        row = conn.execute(calls.select().where(calls.c.call_sid == call_sid)).first()
    target = to or (row.customer_number if row is not None else "")
    ours = our_number or (row.our_number if row is not None else "")
    try:
        sent = deliver_now(current_app, to=target, body=body, template=template,
                           our_number=ours, call_sid=call_sid)
    except service.SmsError as exc:
        log.warning("SMS from a flow not sent", extra={"call_sid": call_sid, "code": exc.code})
        if exc.code in ("twilio_refused", "no_twilio"):
            raise
        return {"call_sid": call_sid, "sent": False, "code": exc.code}
    return {"call_sid": call_sid, "sent": True, "message_sid": sent.get("message_sid")}


def after_message(app: Flask, message_id: int) -> None:
    """Queue the CRM logs of a message (one job per CRM); never raises."""
    if not app.config["CTI_SETTINGS"].sms.log_to_crm:
        return
    try:
        q = queue.get_queue("writeback", app)
        for name in sms_adapters(app):
            q.enqueue("connector.sms.dispatch.log_job", name, message_id,
                      job_id=f"sms-log-{name}-{message_id}", failure_ttl=7 * 86400,
                      retry=Retry(max=5, interval=[10, 60, 300, 900, 3600]))
    except Exception:
        log.exception("SMS CRM hand-off failed", extra={"message_id": message_id})


def sms_adapters(app: Flask) -> list[str]:
    """CRMs an SMS is logged to: the server-side ones, except URL-template integrations
    (their templates describe calls)."""
    layer = app.extensions.get("cti.crm")
    adapters = getattr(layer, "server_side", None) or {}
    return [n for n, a in adapters.items() if not isinstance(a, HTTPTemplateAdapter)]


def log_job(adapter_name: str, message_id: int) -> dict[str, Any]:
    """Write one message to one CRM as a call-less log keyed by its MessageSid."""
    adapter = crm.get_layer().adapters.get(adapter_name)
    with db.get_engine().connect() as conn:
        message = service.get(conn, message_id)
        if adapter is None or not message.get("message_sid"):
            return {"adapter": adapter_name, "skipped": True}
        from .. import phone_index

        matches = [c for c in phone_index.lookup(conn, message["customer_number"])
                   if c.adapter == adapter_name]
    result = adapter.write_call_logs([sms_log(message, matches[0] if len(matches) == 1
                                              else None)])[0]
    if not result.ok:
        log.warning("SMS log refused by the CRM", extra={"adapter": adapter_name,
                                                          "error": result.error})
    return {"adapter": adapter_name, "ok": result.ok}


def sms_log(message: dict[str, Any], customer: Any) -> CallLog:
    inbound = message["direction"] == "inbound"
    ours, theirs = message["our_number"], message["customer_number"]
    return CallLog(
        call_sid=message["message_sid"], direction=message["direction"], status="completed",
        from_number=theirs if inbound else (message["sender_id"] or ours),
        to_number=ours if inbound else theirs, customer_number=theirs,
        started_at=message["created_at"], ended_at=message["created_at"],
        customer_record_id=customer.record_id if customer else "",
        customer_object_type=customer.object_type if customer else "",
        customer_name=customer.display_name if customer else "",
        disposition="SMS受信" if inbound else "SMS送信", notes=message["body"])
