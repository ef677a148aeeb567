"""The worker's side of notifications."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from voice.numbering import NumberError, national_format

from .. import clock, db
from ..schema import agent_groups, calls, phone_numbers
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


#: Which event an unanswered inbound call's final outcome is (``connector.voice.callstate``).
FINAL_EVENTS = {"missed": "missed", "voicemail": "voicemail", "ivr": "ivr_handled",
                "abandoned": "abandoned"}
#: The node kinds a flow's call can end in without an agent, as the IVR summary names them.
IVR_KINDS = {"menu": "メニュー", "announcement": "アナウンス", "hangup": "終話",
             "schedule": "営業時間", "crm": "CRM 分岐", "lookup": "CRM 検索",
             "update": "CRM 更新", "set": "変数"}


def call_final(call_sid: str) -> dict[str, Any]:
    """Notify a final inbound call nobody answered: missed, voicemail, handled by the IVR,
    or abandoned while a group rang (exactly one of them per call)."""
    with db.get_engine().connect() as conn:
        row = conn.execute(select(calls).where(calls.c.call_sid == call_sid)).first()
        if row is None or row.direction != "inbound" or row.parent_call_sid:
            return {"call_sid": call_sid, "notified": 0}
        event = FINAL_EVENTS.get(row.outcome)
        if event is None:
            return {"call_sid": call_sid, "notified": 0}
        extra = _event_values(conn, event, row)
    values = {**call_values(call_sid), **extra}
    return {"call_sid": call_sid, "event": event, "notified": emit(event, call_sid, values)}


def _event_values(conn: Any, event: str, row: Any) -> dict[str, Any]:
    if event == "voicemail":
        base = current_app.config["CTI_SETTINGS"].server.public_base_url
        return {"recording_url": f"{base}/crm/recordings/{row.call_sid}"}
    if event == "ivr_handled":
        return {"summary": ivr_summary(conn, row.detail or "")}
    if event == "abandoned":
        return {"queue": _group_name(conn, row.group_id), "wait_seconds": _wait_seconds(conn, row)}
    return {}


def ivr_summary(conn: Any, detail: str) -> str:
    """Where the flow ended the call, from the record's ``detail`` (``flow:<name>:<node>``)."""
    from ..flows import store  # the flows read notify's functions; import on use

    kind, name, node_id = (detail.split(":", 2) + ["", ""])[:3]
    if kind != "flow" or not name:
        return ""
    stored = store.latest(conn, name)
    node = stored.flow.nodes.get(node_id) if stored else None
    if node is None:
        return f"フロー「{name}」のノード「{node_id}」で終了しました。"
    label = node.get("label") or node.id
    what = IVR_KINDS.get(node.kind, node.kind)
    return f"フロー「{name}」の「{label}」（{what}）で終了しました。"


def _group_name(conn: Any, group_id: int | None) -> str:
    if group_id is None:
        return ""
    row = conn.execute(select(agent_groups.c.name, agent_groups.c.display_name).where(
        agent_groups.c.id == group_id)).first()
    return (row.display_name or row.name) if row else ""


def _wait_seconds(conn: Any, row: Any) -> int:
    """From the first ring of an agent for this call (else the call's start) to its end."""
    first_ring = conn.execute(select(func.min(calls.c.started_at)).where(
        calls.c.parent_call_sid == row.call_sid)).scalar()
    began = first_ring or row.started_at
    ended = row.ended_at or clock.now()
    if began is None:
        return 0
    return max(0, round((_aware(ended) - _aware(began)).total_seconds()))


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive UTC datetimes for columns PostgreSQL keeps with a time zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
