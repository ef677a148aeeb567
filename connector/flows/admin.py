"""``/api/admin/flows`` and ``/api/admin/flow-audio``: flows, overrides and audio over HTTP.

* ``GET /api/admin/flows`` — every flow's newest version (admins);
* ``GET /api/admin/flows/<name>`` — its canonical TOML (``?version=N`` for an older one);
* ``PUT /api/admin/flows/<name>`` — import TOML (the body); 422 lists the problems, each
  with ``line``, ``node``, ``field`` and ``message``; ``POST /api/admin/flows/check`` only checks;
* ``PUT /api/admin/flows/<name>/overrides/<node>`` — ``{"goto", "minutes" | "until", "note"}``:
  the one-step "本日は臨時休業" (supervisors too); ``DELETE`` ends it early;
* ``GET|POST /api/admin/flow-audio``, ``GET /api/admin/flow-audio/<name>/content`` (the file),
  ``DELETE /api/admin/flow-audio/<name>`` — uploads
  (``file`` form field, ``name`` optional), checked by content (AD-6).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

from voice.flows import audio as audio_check
from voice.flows.model import FlowError

from .. import clock, db
from ..auth import current_agent, require_auth
from ..errors import APIError
from ..request_size import body_limit
from ..validation import fields, json_object
from . import store

bp = Blueprint("flow_admin", __name__, url_prefix="/api/admin")

#: A flow's TOML is a few kilobytes; this leaves room for a hundred nodes.
MAX_FLOW_BYTES = 256 * 1024
#: Longest override accepted, in minutes (a week: longer closures belong in company_days).
MAX_OVERRIDE_MINUTES = 7 * 24 * 60


def _problems(exc: FlowError) -> APIError:
    return APIError(422, "invalid_flow", str(exc), {"problems": [
        {"line": p.line, "node": p.node, "field": p.field, "message": p.message}
        for p in exc.problems]})


def _text_body() -> str:
    try:
        return request.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError:
        raise APIError(422, "invalid_flow", "the flow must be UTF-8 TOML") from None


@bp.get("/flows")
@require_auth("admin")
def list_flows() -> Any:
    with db.get_engine().connect() as conn:
        found = store.latest_all(conn)
    return jsonify({"flows": [s.public() for s in sorted(found.values(),
                                                         key=lambda s: s.flow.name)]})


@bp.get("/flows/<name>")
@require_auth("admin")
def export_flow(name: str) -> Any:
    version = request.args.get("version", type=int)
    with db.get_engine().connect() as conn:
        stored = store.get_flow(conn, name, version) if version else store.latest(conn, name)
    if stored is None:
        raise APIError(404, "not_found", "no such flow (or version)")
    return Response(stored.source, mimetype="application/toml")


@bp.post("/flows/check")
@require_auth("admin")
@body_limit(MAX_FLOW_BYTES)
def check_flow() -> Any:
    with db.get_engine().connect() as conn:
        try:
            flow = store.check_text(conn, _text_body())
        except FlowError as exc:
            raise _problems(exc) from None
    return jsonify({"ok": True, "name": flow.name, "nodes": len(flow.nodes)})


@bp.put("/flows/<name>")
@require_auth("admin")
@body_limit(MAX_FLOW_BYTES)
def import_flow(name: str) -> Any:
    with db.get_engine().begin() as conn:
        try:
            stored, changed = store.import_flow(conn, _text_body(), now=clock.now(),
                                                by=current_agent().username)
        except FlowError as exc:
            raise _problems(exc) from None
        if stored.flow.name != name:
            raise APIError(422, "invalid_flow", f"[flow] name is {stored.flow.name!r}, "
                           f"the URL says {name!r}")
    return jsonify({"flow": stored.public(), "changed": changed})


@bp.delete("/flows/<name>")
@require_auth("admin")
def delete_flow(name: str) -> Any:
    with db.get_engine().begin() as conn:
        try:
            deleted = store.delete_flow(conn, name)
        except FlowError as exc:
            raise APIError(409, "in_use", str(exc)) from None
        if not deleted:
            raise APIError(404, "not_found", "no such flow")
    return "", 204


@bp.put("/flows/<name>/overrides/<node>")
@require_auth("supervisor")
def set_override(name: str, node: str) -> Any:
    body = fields(json_object(), {"goto": str}, {"minutes": int, "until": str, "note": str})
    now = clock.now()
    until = _until(body, now)
    with db.get_engine().begin() as conn:
        try:
            override = store.set_override(conn, name, node, body["goto"], until, now=now,
                                          note=body.get("note", ""),
                                          by=current_agent().username)
        except FlowError as exc:
            raise _problems(exc) from None
    return jsonify({"override": {"flow": name, "node": node, "goto": override.goto,
                                 "until": override.until.isoformat(), "note": override.note}})


@bp.delete("/flows/<name>/overrides/<node>")
@require_auth("supervisor")
def clear_override(name: str, node: str) -> Any:
    with db.get_engine().begin() as conn:
        if not store.clear_override(conn, name, node):
            raise APIError(404, "not_found", "no override on that node")
    return "", 204


def _until(body: dict[str, Any], now: datetime) -> datetime:
    if ("minutes" in body) == ("until" in body):
        raise APIError(422, "invalid_fields", "give minutes or until",
                       {"fields": {"minutes": "give minutes or until (one of them)"}})
    if "minutes" in body:
        if not 1 <= body["minutes"] <= MAX_OVERRIDE_MINUTES:
            raise APIError(422, "invalid_fields", "minutes out of range", {"fields": {
                "minutes": f"must be from 1 to {MAX_OVERRIDE_MINUTES}"}})
        return now + timedelta(minutes=body["minutes"])
    try:
        until = datetime.fromisoformat(body["until"])
    except ValueError:
        until = None
    if until is None or until.tzinfo is None:
        raise APIError(422, "invalid_fields", "until is not a time", {"fields": {
            "until": "must be an ISO time with its offset, e.g. 2026-12-06T18:00+09:00"}})
    return until


@bp.get("/flow-audio")
@require_auth("admin")
def list_audio() -> Any:
    with db.get_engine().connect() as conn:
        return jsonify({"audio": [a.public() for a in store.list_audio(conn)]})


@bp.post("/flow-audio")
@require_auth("admin")
@body_limit(audio_check.MAX_BYTES + 64 * 1024)
def upload_audio() -> Any:
    upload = request.files.get("file")
    if upload is None:
        raise APIError(422, "invalid_fields", "no file", {"fields": {"file": "needed"}})
    name = (request.form.get("name") or upload.filename or "").strip()
    data = upload.read()
    try:
        info = audio_check.inspect(data)
        name = audio_check.check_name(name)
    except audio_check.AudioError as exc:
        raise APIError(422, "invalid_audio", str(exc), {"fields": {"file": str(exc)}}) from None
    with db.get_engine().begin() as conn:
        saved = store.save_audio(conn, name, info.content_type, info.description, data,
                                 now=clock.now())
    response = jsonify({"audio": saved.public(), "recommended": info.recommended})
    response.status_code = 201
    return response


@bp.get("/flow-audio/<name>/content")
@require_auth("admin")
def audio_content(name: str) -> Any:
    """The uploaded file itself, for an admin to listen to (the console's 再生)."""
    with db.get_engine().connect() as conn:
        found = store.audio_data(conn, name)
    if found is None:
        raise APIError(404, "not_found", "no such audio file")
    content_type, data = found
    return Response(data, mimetype=content_type, headers={"Cache-Control": "private, no-store"})


@bp.delete("/flow-audio/<name>")
@require_auth("admin")
def delete_audio(name: str) -> Any:
    with db.get_engine().begin() as conn:
        if not store.delete_audio(conn, name):
            raise APIError(404, "not_found", "no such audio file")
    return "", 204
