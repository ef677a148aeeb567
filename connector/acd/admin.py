"""``/api/acd``: group ACD settings and the presence record (SPEC CF-5, ST-4).

* ``GET /api/acd/groups/<name>`` (supervisors) — settings and members' skill levels.
* ``PATCH /api/acd/groups/<name>`` (admins) — ``{"settings": {...}, "skills": {user: level}}``;
  errors name each field (``settings.strategy``, ``skills.sato`` …).
* ``GET /api/acd/intervals?agent=<id>&since=<ISO time>`` (supervisors) — status intervals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request

from voice.acd.settings import SettingsError

from .. import db, presence
from ..auth import require_auth
from ..errors import APIError
from ..validation import fields, json_object
from ..voice import groups as group_store
from . import groups

bp = Blueprint("acd_admin", __name__, url_prefix="/api/acd")


@bp.get("/groups/<name>")
@require_auth("supervisor")
def get_group(name: str) -> Any:
    with db.get_engine().connect() as conn:
        group = group_store.get_group(conn, name)
    if group is None:
        raise APIError(404, "not_found", f"no group named {name!r}")
    return jsonify({"group": groups.describe(group)})


@bp.patch("/groups/<name>")
@require_auth("admin")
def change_group(name: str) -> Any:
    body = fields(json_object(), {}, {"settings": dict, "skills": dict})
    with db.get_engine().begin() as conn:
        if group_store.get_group(conn, name) is None:
            raise APIError(404, "not_found", f"no group named {name!r}")
        try:
            group = groups.configure(conn, name, settings=body.get("settings"),
                                     skills=body.get("skills"))
        except SettingsError as exc:
            problems = {(k if k.startswith("skills.") else f"settings.{k}"): v
                        for k, v in exc.problems.items()}
            raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                           {"fields": problems}) from None
    return jsonify({"group": groups.describe(group)})


@bp.get("/intervals")
@require_auth("supervisor")
def intervals() -> Any:
    agent = request.args.get("agent", "")
    since_text = request.args.get("since", "")
    problems = {}
    if not agent.isdigit():
        problems["agent"] = "an agent id"
    since = None
    if since_text:
        try:
            since = datetime.fromisoformat(since_text)
            if since.tzinfo is None:
                raise ValueError
        except ValueError:
            problems["since"] = "an ISO time with a time zone"
    if problems:
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": problems})
    with db.get_engine().connect() as conn:
        rows = presence.intervals(conn, int(agent), since)
    return jsonify({"intervals": [{
        "status": r.status, "stop_status_id": r.stop_status_id, "group_id": r.group_id,
        "call_sid": r.call_sid, "start": r.started_at.isoformat(),
        "end": r.ended_at.isoformat() if r.ended_at else None} for r in rows]})
