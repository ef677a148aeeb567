"""``GET /s/<code>``: the short URLs of sent SMS (SPEC SM-1) — a redirect that counts taps.

Public (the customer taps it on their phone), so it says nothing about the message: an
unknown code is a plain 404, an expired one a 410 with a short Japanese page. The count is
one UPDATE; a link never points anywhere but the address the agent or template wrote.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect
from sqlalchemy import select, update

from voice import sms_links

from .. import clock, db
from ..schema import sms_links as links

bp = Blueprint("sms_links", __name__)

_GONE = ("<!doctype html><html lang=\"ja\"><meta charset=\"utf-8\"><title>リンクの有効期限切れ"
         "</title><p>このリンクは有効期限が切れています。 (This link has expired.)</p></html>")


@bp.get("/s/<code>")
def follow(code: str) -> Any:
    if not sms_links.is_code(code):
        return _plain(404, "not found")
    now = clock.now()
    with db.get_engine().begin() as conn:
        row = conn.execute(select(links.c.url, links.c.expires_at).where(
            links.c.code == code)).first()
        if row is None:
            return _plain(404, "not found")
        if row.expires_at <= now:
            return Response(_GONE, status=410, mimetype="text/html")
        conn.execute(update(links).where(links.c.code == code).values(
            clicks=links.c.clicks + 1, last_clicked_at=now))
    answer = redirect(row.url, code=302)
    answer.headers["Cache-Control"] = "no-store"  # each tap reaches us and is counted
    answer.headers["Referrer-Policy"] = "no-referrer"
    return answer


def _plain(status: int, text: str) -> Response:
    return Response(text, status=status, mimetype="text/plain")
