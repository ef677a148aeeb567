"""Sending and recording SMS (SPEC SM-1): templates, the sender, the segment rule, storage.

Flask-free: callers pass the connection, the settings, a Twilio REST client and the time.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update
from twilio.base.exceptions import TwilioRestException

from voice import sms_links, sms_segments
from voice.numbering import NumberError, national_format, normalize

from .. import phone_index
from ..schema import phone_numbers, sms_messages, sms_templates
from ..schema import sms_links as sms_link_rows
from .settings import SmsSettings

#: Placeholders of SMS templates.
FIELDS = ("name", "company", "agent", "our_number", "customer_number", "date")
#: Status order: a late "sent" callback never overwrites "delivered".
_RANK = {"queued": 0, "accepted": 0, "sending": 1, "sent": 2, "receiving": 1, "received": 3,
         "delivered": 3, "undelivered": 3, "failed": 3}
_NAME = re.compile(r"[a-z0-9_\-]{1,64}")


class SmsError(ValueError):
    """A message cannot be sent; ``field`` names the input at fault, ``code`` is stable."""

    def __init__(self, code: str, message_ja: str, message_en: str, field: str = "") -> None:
        super().__init__(message_en)
        self.code, self.ja, self.en, self.field = code, message_ja, message_en, field


@dataclass(frozen=True)
class Outgoing:
    """A message ready to send."""

    to: str  # E.164
    our_number: str  # E.164
    sender: str  # what Twilio gets as From: the sender ID, else our number
    body: str
    segments: sms_segments.Segments
    template: str = ""
    links: tuple[sms_links.Link, ...] = ()  # short URLs in ``body``, stored when it is sent


def template_problem(body: str) -> str:
    """Why a template body cannot be used ("" when it can)."""
    try:
        parts = list(string.Formatter().parse(body))
    except ValueError as exc:
        return f"{exc} (write {{{{ and }}}} for literal braces)"
    for _literal, name, spec, conversion in parts:
        if name is not None and (name not in FIELDS or spec or conversion):
            return f"unknown placeholder {{{name}}} (known: " + \
                ", ".join("{" + f + "}" for f in FIELDS) + ")"
    return ""


def render(body: str, values: dict[str, str]) -> str:
    class Blank(dict):
        def __missing__(self, key: str) -> str:
            return ""

    return body.format_map(Blank(values))


def prepare(conn: Connection, settings: SmsSettings, *, to: str, body: str = "",
            template: str = "", our_number: str = "", agent_name: str = "",
            now: datetime, link_base: str = "") -> Outgoing:
    """Check and render a message; raise :class:`SmsError` naming the field at fault.
    With ``link_base`` (the public base URL) and ``short_urls`` on, long web addresses are
    replaced by short ones before the segments are counted."""
    try:
        to_e164 = normalize(to)
    except NumberError as exc:
        raise SmsError("invalid_number", f"宛先の電話番号が正しくありません: {exc}",
                       f"the destination number is not valid: {exc}", "to") from None
    ours = sending_numbers(conn)
    chosen = our_number or settings.default_from or (ours[0] if ours else "")
    if chosen and chosen not in ours:
        raise SmsError("invalid_from", f"{chosen} は SMS を送信できる番号ではありません",
                       f"{chosen} is not one of our numbers that send SMS", "from")
    if not chosen:
        raise SmsError("no_sender", "SMS を送信できる番号が登録されていません",
                       "no number of ours can send SMS", "from")
    if template:
        found = conn.execute(select(sms_templates.c.body).where(
            sms_templates.c.name == template)).scalar()
        if found is None:
            raise SmsError("unknown_template", f"テンプレート「{template}」はありません",
                           f"there is no template {template!r}", "template")
        body = render(found, _values(conn, to_e164, chosen, agent_name, now))
    if not body.strip():
        raise SmsError("empty_body", "本文を入力してください", "the message has no text", "body")
    links: tuple[sms_links.Link, ...] = ()
    if settings.short_urls and link_base:
        body, links = sms_links.shorten(body, link_base)
    segments = sms_segments.count(body)
    if segments.count > settings.max_segments:
        raise SmsError("too_long", f"本文が長すぎます（{segments.count} 通分。最大 "
                                   f"{settings.max_segments} 通分）",
                       f"the message needs {segments.count} segments; at most "
                       f"{settings.max_segments} are allowed", "body")
    return Outgoing(to_e164, chosen, settings.sender_ids.get(chosen, chosen), body, segments,
                    template, links)


def preview_text(conn: Connection, settings: SmsSettings, *, template: str, to: str = "",
                 our_number: str = "", agent_name: str = "", now: datetime) -> str:
    """A template as it would go out to ``to`` (placeholders of an unknown or missing
    recipient stay empty)."""
    found = conn.execute(select(sms_templates.c.body).where(
        sms_templates.c.name == template)).scalar()
    if found is None:
        raise SmsError("unknown_template", f"テンプレート「{template}」はありません",
                       f"there is no template {template!r}", "template")
    try:
        to_e164 = normalize(to) if to else ""
    except NumberError:
        to_e164 = ""
    ours = our_number or settings.default_from or next(iter(sending_numbers(conn)), "")
    values = _values(conn, to_e164, ours, agent_name, now) if to_e164 else {
        "agent": agent_name, "our_number": _display(ours) if ours else "",
        "date": now.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d")}
    return render(found, values)


def send(conn: Connection, outgoing: Outgoing, client: Any, *, status_callback: str,
         now: datetime, agent_id: int | None = None, call_sid: str | None = None,
         link_days: int = 90) -> dict[str, Any]:
    """Hand ``outgoing`` to Twilio and record it (also when Twilio refuses it), with its
    short URLs — stored before Twilio gets the text, so a link works from the first tap."""
    row = {"direction": "outbound", "our_number": outgoing.our_number,
           "customer_number": outgoing.to, "sender_id": outgoing.sender
           if outgoing.sender != outgoing.our_number else "", "body": outgoing.body,
           "segments": outgoing.segments.count, "template": outgoing.template,
           "agent_id": agent_id, "call_sid": call_sid, "created_at": now, "updated_at": now}
    new_id = conn.execute(insert(sms_messages).values(
        **row, status="queued")).inserted_primary_key[0]
    if outgoing.links:
        conn.execute(insert(sms_link_rows), [
            {"code": link.code, "url": link.url, "message_id": new_id, "created_at": now,
             "expires_at": now + timedelta(days=link_days)} for link in outgoing.links])
    try:
        message = client.messages.create(to=outgoing.to, from_=outgoing.sender,
                                         body=outgoing.body, status_callback=status_callback)
    except TwilioRestException as exc:
        conn.execute(update(sms_messages).where(sms_messages.c.id == new_id).values(
            status="failed", error_code=str(exc.code or "")))
        raise SmsError("twilio_refused", f"Twilio が送信を拒否しました（{exc.code}）: {exc.msg}",
                       f"Twilio refused the message ({exc.code}): {exc.msg}", "to") from None
    conn.execute(update(sms_messages).where(sms_messages.c.id == new_id).values(
        message_sid=message.sid, status=message.status or "queued"))
    return get(conn, new_id)


def record_inbound(conn: Connection, *, message_sid: str, from_: str, to: str, body: str,
                   segments: int, now: datetime) -> tuple[dict[str, Any], bool]:
    """Store a received SMS once; (row, True if new)."""
    existing = conn.execute(select(sms_messages.c.id).where(
        sms_messages.c.message_sid == message_sid)).scalar()
    if existing is not None:
        return get(conn, existing), False
    try:
        customer = normalize(from_)
    except NumberError:
        customer = from_[:20]
    new_id = conn.execute(insert(sms_messages).values(
        message_sid=message_sid, direction="inbound", our_number=to[:20],
        customer_number=customer, body=body, segments=max(1, segments), status="received",
        created_at=now, updated_at=now)).inserted_primary_key[0]
    return get(conn, new_id), True


def apply_status(conn: Connection, message_sid: str, status: str, error_code: str,
                 now: datetime) -> bool:
    """A status callback: move the message forward (never backward); True if it changed."""
    row = conn.execute(select(sms_messages.c.id, sms_messages.c.status).where(
        sms_messages.c.message_sid == message_sid)).first()
    if row is None or _RANK.get(status, -1) < _RANK.get(row.status, 0):
        return False
    return bool(conn.execute(update(sms_messages).where(sms_messages.c.id == row.id).values(
        status=status[:16], error_code=error_code[:16], updated_at=now)).rowcount)


def history(conn: Connection, e164: str, limit: int = 100) -> list[dict[str, Any]]:
    rows = [dict(r._mapping) for r in conn.execute(
        select(sms_messages).where(sms_messages.c.customer_number == e164)
        .order_by(sms_messages.c.created_at.desc(), sms_messages.c.id.desc()).limit(limit))]
    found = _links(conn, [r["id"] for r in rows])
    return [_public(r, found.get(r["id"], [])) for r in rows]


def get(conn: Connection, message_id: int) -> dict[str, Any]:
    row = conn.execute(select(sms_messages).where(sms_messages.c.id == message_id)).first()
    if row is None:
        return {}
    return _public(dict(row._mapping), _links(conn, [message_id]).get(message_id, []))


def _links(conn: Connection, message_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each message's short URLs: where they lead and how often they were tapped."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not message_ids:
        return found
    for r in conn.execute(select(sms_link_rows).where(
            sms_link_rows.c.message_id.in_(message_ids)).order_by(sms_link_rows.c.code)):
        found.setdefault(r.message_id, []).append({
            "code": r.code, "url": r.url, "clicks": r.clicks,
            "last_clicked_at": _iso(r.last_clicked_at), "expires_at": _iso(r.expires_at)})
    return found


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def sending_numbers(conn: Connection) -> list[str]:
    return list(conn.execute(select(phone_numbers.c.e164).where(
        phone_numbers.c.active.is_(True)).order_by(phone_numbers.c.id)).scalars())


def check_template(name: str, body: str) -> None:
    if not _NAME.fullmatch(name or ""):
        raise SmsError("invalid_request", "name は英小文字・数字・-・_ の 1〜64 文字です",
                       "name: 1 to 64 lower-case letters, digits, - or _", "name")
    if not body.strip():
        raise SmsError("invalid_request", "本文を入力してください", "body: required", "body")
    problem = template_problem(body)
    if problem:
        raise SmsError("invalid_request", f"本文: {problem}", f"body: {problem}", "body")


def _values(conn: Connection, to: str, our_number: str, agent_name: str,
            now: datetime) -> dict[str, str]:
    found = phone_index.lookup(conn, to)
    best = found[0] if found else None
    return {"name": best.display_name if best else "", "company": best.company if best else "",
            "agent": agent_name, "our_number": _display(our_number),
            "customer_number": _display(to),
            "date": now.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d")}


def _display(e164: str) -> str:
    try:
        return national_format(e164)
    except NumberError:
        return e164


def _public(row: dict[str, Any], links: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out = {k: v for k, v in row.items()}
    for key in ("created_at", "updated_at"):
        if out.get(key) is not None:
            out[key] = _iso(out[key])
    out["links"] = links or []
    return out
