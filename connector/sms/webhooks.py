"""``/twilio/sms/*``: the messaging webhooks Twilio calls (signature checked like voice's).

* ``POST /twilio/sms/inbound`` — a number's "A message comes in" URL: the reply is stored on
  the customer's history, notified and logged to the CRMs (by workers).
* ``POST /twilio/sms/status`` — status callbacks of the messages we send.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app

from voice import twiml
from voice.numbering import NumberError, national_format

from .. import clock, db, notify, phone_index
from ..voice.webhook import param, twilio_webhook
from . import service
from .dispatch import after_message

log = logging.getLogger("cti.sms")

_TOKYO = ZoneInfo("Asia/Tokyo")

bp = Blueprint("sms_webhooks", __name__, url_prefix="/twilio/sms")


@bp.post("/inbound")
@twilio_webhook(on_error="empty")
def inbound() -> str:
    now = clock.now()
    sid, from_, to = param("MessageSid"), param("From"), param("To")
    if not sid:
        return twiml.empty()
    segments = int(param("NumSegments") or "1") if param("NumSegments").isdigit() else 1
    with db.get_engine().begin() as conn:
        row, new = service.record_inbound(conn, message_sid=sid, from_=from_, to=to,
                                          body=param("Body"), segments=segments, now=now)
        found = phone_index.lookup(conn, row["customer_number"])
    if new:
        log.info("SMS received", extra={"message_sid": sid})
        best = found[0] if found else None
        notify.sms_received(sid, {
            "caller": _display(row["customer_number"]), "name": best.display_name if best
            else "", "company": best.company if best else "", "our_number": _display(to),
            "time": now.astimezone(_TOKYO).strftime("%Y-%m-%d %H:%M"), "body": row["body"]})
        after_message(current_app, row["id"])
    return twiml.empty()


@bp.post("/status")
@twilio_webhook(on_error="empty")
def status() -> str:
    with db.get_engine().begin() as conn:
        service.apply_status(conn, param("MessageSid"), param("MessageStatus"),
                             param("ErrorCode"), clock.now())
    return twiml.empty()


def _display(e164: str) -> str:
    try:
        return national_format(e164)
    except NumberError:
        return e164
