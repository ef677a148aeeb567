"""``/api/stop-statuses``: admin-defined kinds of 停止 (paused) — 昼休憩, 研修 … (SPEC SP-6).

Agents list the active ones to choose from; admins create, change and retire them. Retiring
(``DELETE``) keeps the row, so statistics about past pauses still have a name to show.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify, request
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import clock, db
from ..auth import current_agent, require_auth
from ..auth.guard import ROLE_RANK
from ..errors import APIError
from ..schema import stop_statuses
from ..validation import fields, json_object

bp = Blueprint("stop_statuses", __name__, url_prefix="/api/stop-statuses")

COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")
_FIELDS = {"name": str, "icon": str, "color": str, "sort_order": int, "active": bool}


def _json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "icon": row.icon, "color": row.color,
            "sort_order": row.sort_order, "active": row.active}


def _check(values: dict[str, Any], *, creating: bool = False) -> None:
    problems = {}
    if creating and "name" not in values:
        problems["name"] = "required"
    elif "name" in values and not 1 <= len(values["name"].strip()) <= 50:
        problems["name"] = "1 to 50 characters"
    if "icon" in values and len(values["icon"]) > 50:
        problems["icon"] = "at most 50 characters"
    if values.get("color") and not COLOR_RE.fullmatch(values["color"]):
        problems["color"] = "a colour like #1E88E5, or empty"
    if problems:
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": problems})
    if "name" in values:
        values["name"] = values["name"].strip()


def _get(conn: Connection, status_id: int) -> Any:
    row = conn.execute(select(stop_statuses).where(stop_statuses.c.id == status_id)).first()
    if row is None:
        raise APIError(404, "not_found", f"no stop status with id {status_id}")
    return row


def _duplicate(name: str) -> APIError:
    return APIError(409, "duplicate", f"a stop status named {name!r} already exists",
                    {"fields": {"name": "already used"}})


@bp.get("")
@require_auth()
def list_stop_statuses() -> Any:
    everything = request.args.get("all") == "1" and ROLE_RANK[current_agent().role] >= 2
    query = select(stop_statuses).order_by(stop_statuses.c.sort_order, stop_statuses.c.id)
    if not everything:
        query = query.where(stop_statuses.c.active.is_(True))
    with db.get_engine().connect() as conn:
        return jsonify({"stop_statuses": [_json(r) for r in conn.execute(query)]})


@bp.post("")
@require_auth("admin")
def create_stop_status() -> Any:
    body = fields(json_object(), {}, _FIELDS)
    _check(body, creating=True)
    try:
        with db.get_engine().begin() as conn:
            new_id = conn.execute(insert(stop_statuses).values(
                created_at=clock.now(), **body)).inserted_primary_key[0]
            row = _get(conn, new_id)
    except IntegrityError:
        raise _duplicate(body["name"]) from None
    return jsonify(_json(row)), 201


@bp.patch("/<int:status_id>")
@require_auth("admin")
def change_stop_status(status_id: int) -> Any:
    body = fields(json_object(), {}, _FIELDS)
    _check(body)
    try:
        with db.get_engine().begin() as conn:
            _get(conn, status_id)
            if body:
                conn.execute(update(stop_statuses).where(
                    stop_statuses.c.id == status_id).values(**body))
            row = _get(conn, status_id)
    except IntegrityError:
        raise _duplicate(body.get("name", "")) from None
    return jsonify(_json(row))


@bp.delete("/<int:status_id>")
@require_auth("admin")
def retire_stop_status(status_id: int) -> Any:
    with db.get_engine().begin() as conn:
        _get(conn, status_id)
        conn.execute(update(stop_statuses).where(stop_statuses.c.id == status_id).values(
            active=False))
    return "", 204
