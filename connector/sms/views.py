"""The SMS API: ``/api/sms`` (agents: send, preview, history, templates) and
``/api/admin/sms/templates`` (admins manage the texts)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy import delete, insert, select, update

from voice import sms_links, sms_segments
from voice.numbering import NumberError, normalize

from .. import clock, db
from ..auth import current_agent, require_auth
from ..errors import APIError
from ..messages import Text
from ..schema import sms_templates
from ..validation import fields, json_object
from . import service
from .dispatch import deliver_now

bp = Blueprint("sms", __name__)

NOT_FOUND = Text("テンプレート「{name}」はありません", "there is no template {name!r}")
EXISTS = Text("テンプレート「{name}」はもうあります", "a template {name!r} exists already")


def sms_error(exc: service.SmsError, status: int = 422) -> APIError:
    return APIError(status, exc.code, Text(exc.ja, exc.en), {"field": exc.field})


@bp.post("/api/sms")
@require_auth()
def send_sms() -> Any:
    body = fields(json_object(), {"to": str}, {"body": str, "template": str, "from": str,
                                              "call_sid": str})
    agent = current_agent()
    try:
        row = deliver_now(current_app, to=body["to"], body=body.get("body", ""),
                          template=body.get("template", ""), our_number=body.get("from", ""),
                          agent_id=agent.id, agent_name=agent.display_name,
                          call_sid=body.get("call_sid") or None)
    except service.SmsError as exc:
        raise sms_error(exc, 502 if exc.code == "twilio_refused" else 422) from None
    return jsonify({"message": row, "segments": sms_segments.count(row["body"]).to_dict()}), 201


@bp.post("/api/sms/preview")
@require_auth()
def preview() -> Any:
    """The text as it will go out and what it costs — the 70-character rule, shown as typed."""
    body = fields(json_object(), {}, {"to": str, "body": str, "template": str, "from": str})
    settings = current_app.config["CTI_SETTINGS"].sms
    text = body.get("body", "")
    if body.get("template"):
        with db.get_engine().connect() as conn:
            try:
                text = service.preview_text(conn, settings, template=body["template"],
                                            to=body.get("to", ""),
                                            our_number=body.get("from", ""),
                                            agent_name=current_agent().display_name,
                                            now=clock.now())
            except service.SmsError as exc:
                raise sms_error(exc) from None
    if settings.short_urls:  # counted as sent: each long address as a short URL
        base = current_app.config["CTI_SETTINGS"].server.public_base_url
        text, _ = sms_links.shorten(text, base, code=lambda: "*" * sms_links.CODE_LENGTH)
    segments = sms_segments.count(text)
    return jsonify({"body": text, "segments": segments.to_dict(),
                    "max_segments": settings.max_segments,
                    "too_long": segments.count > settings.max_segments})


@bp.get("/api/sms")
@require_auth()
def sms_history() -> Any:
    try:
        number = normalize(request.args.get("number", ""))
    except NumberError as exc:
        raise APIError(422, "invalid_number", Text(f"number が正しくありません: {exc}",
                                                   f"number is not valid: {exc}"),
                       {"field": "number"}) from None
    with db.get_engine().connect() as conn:
        return jsonify({"number": number, "messages": service.history(conn, number)})


@bp.get("/api/sms/templates")
@require_auth()
def list_templates() -> Any:
    with db.get_engine().connect() as conn:
        rows = conn.execute(select(sms_templates.c.name, sms_templates.c.body)
                            .order_by(sms_templates.c.name)).all()
    return jsonify({"templates": [
        {"name": r.name, "body": r.body, "segments": sms_segments.count(r.body).to_dict()}
        for r in rows], "placeholders": list(service.FIELDS)})


@bp.post("/api/admin/sms/templates")
@require_auth("admin")
def create_template() -> Any:
    body = fields(json_object(), {"name": str, "body": str})
    _check(body["name"], body["body"])
    now = clock.now()
    with db.get_engine().begin() as conn:
        if conn.execute(select(sms_templates.c.id).where(
                sms_templates.c.name == body["name"])).first():
            raise APIError(409, "exists", EXISTS.format(name=body["name"]), {"field": "name"})
        conn.execute(insert(sms_templates).values(name=body["name"], body=body["body"],
                                                  created_at=now, updated_at=now))
    return jsonify({"name": body["name"], "body": body["body"]}), 201


@bp.put("/api/admin/sms/templates/<name>")
@require_auth("admin")
def update_template(name: str) -> Any:
    body = fields(json_object(), {"body": str})
    _check(name, body["body"])
    with db.get_engine().begin() as conn:
        changed = conn.execute(update(sms_templates).where(sms_templates.c.name == name).values(
            body=body["body"], updated_at=clock.now())).rowcount
    if not changed:
        raise APIError(404, "not_found", NOT_FOUND.format(name=name))
    return jsonify({"name": name, "body": body["body"]})


@bp.delete("/api/admin/sms/templates/<name>")
@require_auth("admin")
def delete_template(name: str) -> Any:
    with db.get_engine().begin() as conn:
        gone = conn.execute(delete(sms_templates).where(sms_templates.c.name == name)).rowcount
    if not gone:
        raise APIError(404, "not_found", NOT_FOUND.format(name=name))
    return "", 204


def _check(name: str, text: str) -> None:
    try:
        service.check_template(name, text)
    except service.SmsError as exc:
        raise sms_error(exc) from None
