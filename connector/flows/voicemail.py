"""Voicemail boxes of flows (SPEC CF-7): messages, e-mail notices, supervisors' marks.

A flow's voicemail node records like the ``voicemail`` route; its ``<Record action>`` comes
here (:func:`record_left`), which files the message in the box and queues the e-mail notice.
The notice (:func:`send_notice`, an rq job run by ``cti worker``) tells the node's ``notify``
addresses who called, when, for how long, with a signed link that plays the recording only
until it expires (``[mail] link_hours``). Sending is retried by the job system when the SMTP
server fails; a message is noticed once.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Connection, insert, select, update

from .. import clock, db, queue
from ..config import MailSettings
from ..schema import calls, voicemails
from ..voice.recordings import signed_recording_url

log = logging.getLogger("cti.flows.voicemail")

NOTICE_JOB = "connector.flows.voicemail.send_notice"
#: How the notice shows times: the flows' default zone.
NOTICE_ZONE = ZoneInfo("Asia/Tokyo")
MAX_BULK = 500


def record_left(conn: Connection, call_sid: str, flow: str, node: str, box: str,
                notify: tuple[str, ...], now: datetime) -> bool:
    """File the message of ``call_sid``; False when it was filed before (a repeated action)."""
    exists = conn.execute(select(voicemails.c.call_sid).where(
        voicemails.c.call_sid == call_sid)).first()
    if exists:
        return False
    conn.execute(insert(voicemails).values(call_sid=call_sid, flow=flow, node=node,
                                           box=box[:100], notify=list(notify), created_at=now))
    return True


def queue_notice(call_sid: str) -> None:
    """Hand the e-mail notice to the worker; never raises (the caller is still on the line)."""
    try:
        queue.get_queue("default").enqueue(NOTICE_JOB, call_sid, retry=_retry())
    except Exception:
        log.exception("could not queue a voicemail notice", extra={"call_sid": call_sid})


def _retry() -> Any:
    from rq import Retry

    return Retry(max=3, interval=[60, 300, 900])


def send_notice(call_sid: str) -> str:
    """The job: e-mail the box's ``notify`` addresses about the message (once)."""
    settings: MailSettings = current_app.config["CTI_SETTINGS"].mail
    with db.get_engine().connect() as conn:
        row = conn.execute(select(voicemails, calls.c.customer_number, calls.c.from_number,
                                  calls.c.started_at, calls.c.recording_duration,
                                  calls.c.customer).join(
            calls, calls.c.call_sid == voicemails.c.call_sid).where(
            voicemails.c.call_sid == call_sid)).mappings().first()
    if row is None or row["notified_at"] is not None or not row["notify"]:
        return "nothing to send"
    if not settings.configured:
        _note(call_sid, error="[mail] host is not set")
        return "no SMTP server configured"
    message = notice_message(row, settings, signed_recording_url(
        call_sid, settings.link_hours * 3600))
    try:
        _send(settings, message)
    except (OSError, smtplib.SMTPException) as exc:
        _note(call_sid, error=f"{type(exc).__name__}: {exc}"[:200])
        raise  # rq retries it
    _note(call_sid, sent=True)
    log.info("voicemail notice sent", extra={"call_sid": call_sid,
                                             "recipients": len(row["notify"])})
    return "sent"


def notice_message(row: Any, settings: MailSettings, link: str) -> EmailMessage:
    caller = row["customer_number"] or row["from_number"] or "非通知"
    name = (row["customer"] or {}).get("name") or ""
    when = row["started_at"].astimezone(NOTICE_ZONE).strftime("%Y-%m-%d %H:%M")
    seconds = row["recording_duration"] or 0
    message = EmailMessage()
    message["Subject"] = f"[留守番電話] {row['box']}: {name or caller}"
    message["From"] = settings.from_address
    message["To"] = ", ".join(row["notify"])
    message.set_content(
        f"留守番電話にメッセージがあります。\n\n"
        f"ボックス: {row['box']}\n発信者: {caller}{f'（{name}）' if name else ''}\n"
        f"日時: {when}\n長さ: {seconds // 60}分{seconds % 60:02d}秒\n\n"
        f"再生（{settings.link_hours}時間有効）: {link}\n")
    return message


def _send(settings: MailSettings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username and settings.password is not None:
            smtp.login(settings.username, settings.password.reveal())
        smtp.send_message(message)


def _note(call_sid: str, *, sent: bool = False, error: str = "") -> None:
    with db.get_engine().begin() as conn:
        values: dict[str, Any] = {"notice_error": error}
        if sent:
            values["notified_at"] = clock.now()
        conn.execute(update(voicemails).where(voicemails.c.call_sid == call_sid).values(
            **values))


# --- history -----------------------------------------------------------------------------

def history(conn: Connection, *, box: str = "", handled: bool | None = None,
            limit: int = 100) -> list[dict[str, Any]]:
    """Messages, newest first, without deleted ones; each with a short-lived playback link."""
    query = select(voicemails, calls.c.customer_number, calls.c.from_number,
                   calls.c.started_at, calls.c.recording_sid, calls.c.recording_duration,
                   calls.c.customer).join(calls, calls.c.call_sid == voicemails.c.call_sid).where(
        voicemails.c.deleted_at.is_(None))
    if box:
        query = query.where(voicemails.c.box == box)
    if handled is not None:
        query = query.where(voicemails.c.handled_at.isnot(None) if handled
                            else voicemails.c.handled_at.is_(None))
    rows = conn.execute(query.order_by(voicemails.c.created_at.desc()).limit(limit)).mappings()
    return [_public(r) for r in rows]


def _public(row: Any) -> dict[str, Any]:
    return {"call_sid": row["call_sid"], "box": row["box"], "flow": row["flow"],
            "caller": row["customer_number"] or row["from_number"],
            "caller_name": (row["customer"] or {}).get("name", ""),
            "started_at": row["started_at"].isoformat(), "seconds": row["recording_duration"],
            "recording_url": signed_recording_url(row["call_sid"]) if row["recording_sid"]
            else None,
            "notified": row["notified_at"] is not None, "notice_error": row["notice_error"],
            "handled": row["handled_at"] is not None, "handled_by": row["handled_by"]}


def mark_handled(conn: Connection, call_sids: list[str], handled: bool, by: str,
                 now: datetime) -> int:
    values = {"handled_at": now, "handled_by": by} if handled else {"handled_at": None,
                                                                     "handled_by": ""}
    return conn.execute(update(voicemails).where(
        voicemails.c.call_sid.in_(call_sids), voicemails.c.deleted_at.is_(None)).values(
        **values)).rowcount


def delete(conn: Connection, call_sids: list[str], now: datetime) -> int:
    """Take messages out of the history (the call records keep their recordings)."""
    return conn.execute(update(voicemails).where(
        voicemails.c.call_sid.in_(call_sids), voicemails.c.deleted_at.is_(None)).values(
        deleted_at=now)).rowcount
