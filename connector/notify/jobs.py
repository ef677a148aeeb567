"""The worker's side of notifications."""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from voice.numbering import NumberError, national_format

from .. import clock, db
from ..schema import calls, phone_numbers
from . import emit, settings
from .senders import DeliveryError, send

log = logging.getLogger("cti.notify")

#: Times in messages are Japan's (the product's users); UNVERIFIED for other deployments.
TIMEZONE = ZoneInfo("Asia/Tokyo")


def deliver(event: str, channel: str, values: dict[str, str]) -> dict[str, Any]:
    """Render ``event``'s message and send it to ``channel``; raise to be retried."""
    config = settings()
    target = config.channels.get(channel)
    if target is None:
        return {"event": event, "channel": channel, "skipped": "channel no longer configured"}
    from .settings import render

    chosen = config.events.get(event)
    title = (chosen.title if chosen and chosen.title else config.title)
    body = render(config.template(event), values)
    try:
        send(target.url.reveal(), title, body, timeout=config.timeout_seconds,
             chatwork_api=config.chatwork_api)
    except DeliveryError as exc:
        log.warning("notification not delivered", extra={"event": event, "channel": channel,
                                                           "error": str(exc)})
        raise
    log.info("notification sent", extra={"event": event, "channel": channel})
    return {"event": event, "channel": channel, "sent": True}


def call_final(call_sid: str) -> dict[str, Any]:
    """Notify a final call that was missed or left a voicemail."""
    with db.get_engine().connect() as conn:
        row = conn.execute(select(calls.c.outcome, calls.c.direction, calls.c.parent_call_sid)
                           .where(calls.c.call_sid == call_sid)).first()
    if row is None or row.direction != "inbound" or row.parent_call_sid:
        return {"call_sid": call_sid, "notified": 0}
    if row.outcome not in ("missed", "voicemail"):
        return {"call_sid": call_sid, "notified": 0}
    values = call_values(call_sid)
    if row.outcome == "voicemail":
        base = current_app.config["CTI_SETTINGS"].server.public_base_url
        values["recording_url"] = f"{base}/crm/recordings/{call_sid}"
    return {"call_sid": call_sid, "notified": emit(row.outcome, call_sid, values)}


def call_values(call_sid: str) -> dict[str, Any]:
    """The values every call event's template may use."""
    with db.get_engine().connect() as conn:
        row = conn.execute(select(calls).where(calls.c.call_sid == call_sid)).first()
        if row is None:
            return {"call_sid": call_sid}
        label = conn.execute(select(phone_numbers.c.label).where(
            phone_numbers.c.e164 == row.our_number)).scalar() if row.our_number else None
    customer = row.customer or {}
    started = row.started_at or clock.now()
    return {
        "caller": _display(row.customer_number) or "非通知",
        "name": customer.get("name", ""),
        "company": customer.get("company", ""),
        "our_number": _display(row.our_number),
        "number_label": label or _display(row.our_number),
        "time": started.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M"),
        "call_sid": call_sid,
        "duration": row.recording_duration or row.duration_seconds or 0,
    }


def _display(e164: str | None) -> str:
    if not e164:
        return ""
    try:
        return national_format(e164)
    except NumberError:
        return e164
