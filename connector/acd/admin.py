"""``/api/acd``: group ACD settings and the presence record (SPEC CF-5, ST-4).

* ``GET /api/acd/groups`` and ``GET /api/acd/groups/<name>`` (supervisors) — each group with
  its settings and members' skill levels.
* ``POST /api/acd/groups`` (admins) — ``{"name", "display_name", "members": [user…],
  "settings": {...}, "skills": {user: level}}``: a whole group in one transaction.
* ``PATCH /api/acd/groups/<name>`` (admins) — the same parts, each optional; settings are merged
  over the current ones. Errors name each field (``members``, ``settings.strategy``,
  ``skills.sato`` …); a target (overflow, timeout) that does not exist is refused.
* ``GET /api/acd/intervals?agent=<id>&since=<ISO time>`` (supervisors) — status intervals.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request

from voice.acd.settings import SettingsError

from .. import clock, db, presence
from ..auth import require_auth
from ..errors import APIError
from ..validation import fields, json_object
from ..voice import groups as group_store
from . import groups

bp = Blueprint("acd_admin", __name__, url_prefix="/api/acd")


@bp.get("/groups")
@require_auth("supervisor")
def list_groups() -> Any:
    with db.get_engine().connect() as conn:
        found = group_store.list_groups(conn)
    return jsonify({"groups": [groups.describe(group) for group in found]})


@bp.get("/groups/<name>")
@require_auth("supervisor")
def get_group(name: str) -> Any:
    with db.get_engine().connect() as conn:
        group = group_store.get_group(conn, name)
    if group is None:
        raise APIError(404, "not_found", f"no group named {name!r}")
    return jsonify({"group": groups.describe(group)})


_PARTS = {"display_name": str, "members": list, "settings": dict, "skills": dict}


@bp.post("/groups")
@require_auth("admin")
def create_group() -> Any:
    body = fields(json_object(), {"name": str}, _PARTS)
    group = _save(body.pop("name"), body, create=True)
    response = jsonify({"group": groups.describe(group)})
    response.status_code = 201
    return response


@bp.patch("/groups/<name>")
@require_auth("admin")
def change_group(name: str) -> Any:
    body = fields(json_object(), {}, _PARTS)
    return jsonify({"group": groups.describe(_save(name, body, create=False))})


def _save(name: str, body: dict[str, Any], *, create: bool) -> group_store.Group:
    with db.get_engine().begin() as conn:
        if not create and group_store.get_group(conn, name) is None:
            raise APIError(404, "not_found", f"no group named {name!r}")
        if create and group_store.get_group(conn, name) is not None:
            raise APIError(409, "exists", "this group exists already; change it with PATCH")
        try:
            return groups.save(conn, name, create=create, now=clock.now(), **body)
        except SettingsError as exc:
            raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                           {"fields": exc.problems}) from None


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
