"""``/api/admin``: numbers, groups, caller IDs, block and restriction lists (admins only).

* ``GET|POST /api/admin/numbers``, ``GET|PATCH|DELETE /api/admin/numbers/<id>`` — fields
  ``e164``, ``label``, ``route``, ``fallback`` (``agent:<user>``, ``group:<name>``,
  ``voicemail``, ``external:<number>``, ``none``), ``caller_id_name``, ``recording``,
  ``active``, ``transfer_caller_id``, ``max_channels`` (0: no limit), ``overflow`` (where calls
  over the limit go; ``none``: a busy announcement), ``ring_popup_url``, ``answer_popup_url``
  (``@@@@`` → the caller's number)
* ``GET|POST /api/admin/groups``, ``GET|PATCH|DELETE /api/admin/groups/<name>`` — ``name``,
  ``display_name``, ``members`` (user IDs in ring order)
* ``GET|PUT /api/admin/agents/<username>/caller-ids`` — ``{"numbers": [...], "default": …}``
* ``GET|POST /api/admin/number-lists/<block|restrict>``,
  ``DELETE /api/admin/number-lists/<list>/<rule id>``,
  ``POST /api/admin/number-lists/<list>/import`` (CSV as the body or a ``file`` form field;
  ``?dry_run=1`` previews, writing nothing) →
  ``{added, existing, dry_run, errors: [{row, code, value, message_ja, message_en}]}``
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from voice.numbering import NumberError

from .. import clock, db
from ..auth import current_agent, require_auth
from ..errors import APIError
from ..request_size import body_limit
from ..validation import fields, json_object
from . import groups, number_lists, numbers
from .groups import GroupError
from .numbers import NumberChanges, Route, RoutingError

bp = Blueprint("voice_admin", __name__, url_prefix="/api/admin")

_NUMBER_FIELDS = {"label": str, "route": str, "fallback": str, "caller_id_name": str,
                  "recording": bool, "active": bool, "transfer_caller_id": str,
                  "max_channels": int, "overflow": str, "ring_popup_url": str,
                  "answer_popup_url": str}
#: Largest CSV upload accepted (a list of 100,000 numbers is about 2 MB).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _invalid(problems: dict[str, str]) -> APIError:
    return APIError(422, "invalid_fields", "some fields are missing or invalid",
                    {"fields": problems})


# --- numbers ----------------------------------------------------------------------------------

@bp.get("/numbers")
@require_auth("admin")
def list_numbers() -> Any:
    with db.get_engine().connect() as conn:
        return jsonify({"numbers": [n.public() for n in numbers.list_numbers(conn)]})


@bp.post("/numbers")
@require_auth("admin")
def create_number() -> Any:
    body = fields(json_object(), {"e164": str}, _NUMBER_FIELDS)
    with db.get_engine().begin() as conn:
        e164 = _normalized(body["e164"])
        if numbers.get_number(conn, e164) is not None:
            raise APIError(409, "exists", "this number exists already; change it with PATCH")
        saved = _save(conn, e164, body)
    response = jsonify({"number": saved.public()})
    response.status_code = 201
    return response


@bp.get("/numbers/<int:number_id>")
@require_auth("admin")
def get_number(number_id: int) -> Any:
    with db.get_engine().connect() as conn:
        return jsonify({"number": _number_or_404(conn, number_id).public()})


@bp.patch("/numbers/<int:number_id>")
@require_auth("admin")
def change_number(number_id: int) -> Any:
    body = fields(json_object(), {}, _NUMBER_FIELDS)
    with db.get_engine().begin() as conn:
        saved = _save(conn, _number_or_404(conn, number_id).e164, body)
    return jsonify({"number": saved.public()})


@bp.delete("/numbers/<int:number_id>")
@require_auth("admin")
def delete_number(number_id: int) -> Any:
    with db.get_engine().begin() as conn:
        numbers.delete_number(conn, _number_or_404(conn, number_id).e164)
    return "", 204


def _number_or_404(conn: Any, number_id: int) -> numbers.PhoneNumber:
    number = numbers.get_number_by_id(conn, number_id)
    if number is None:
        raise APIError(404, "not_found", "no such number")
    return number


def _normalized(e164: str) -> str:
    try:
        return numbers.normalize_number(e164)
    except RoutingError as exc:
        raise _invalid(exc.problems) from None


def _save(conn: Any, e164: str, body: dict[str, Any]) -> numbers.PhoneNumber:
    routes: dict[str, Route] = {}
    for name in ("route", "fallback", "overflow"):
        if name in body:
            try:
                routes[name] = Route.parse(body[name])
            except ValueError as exc:
                raise _invalid({name: str(exc)}) from None
    changes = NumberChanges(label=body.get("label"), route=routes.get("route"),
                            fallback=routes.get("fallback"),
                            caller_id_name=body.get("caller_id_name"),
                            recording=body.get("recording"), active=body.get("active"),
                            transfer_caller_id=body.get("transfer_caller_id"),
                            max_channels=body.get("max_channels"),
                            overflow=routes.get("overflow"),
                            ring_popup_url=body.get("ring_popup_url"),
                            answer_popup_url=body.get("answer_popup_url"))
    try:
        return numbers.save_number(conn, e164, changes, now=clock.now())
    except RoutingError as exc:
        raise _invalid(exc.problems) from None


# --- groups -----------------------------------------------------------------------------------

@bp.get("/groups")
@require_auth("admin")
def list_groups() -> Any:
    with db.get_engine().connect() as conn:
        return jsonify({"groups": [g.public() for g in groups.list_groups(conn)]})


@bp.post("/groups")
@require_auth("admin")
def create_group() -> Any:
    body = fields(json_object(), {"name": str}, {"display_name": str, "members": list})
    with db.get_engine().begin() as conn:
        if groups.get_group(conn, body["name"]) is not None:
            raise APIError(409, "exists", "this group exists already; change it with PATCH")
        group = _save_group(conn, body["name"], body)
    response = jsonify({"group": group.public()})
    response.status_code = 201
    return response


@bp.get("/groups/<name>")
@require_auth("admin")
def get_group(name: str) -> Any:
    with db.get_engine().connect() as conn:
        return jsonify({"group": _group_or_404(conn, name).public()})


@bp.patch("/groups/<name>")
@require_auth("admin")
def change_group(name: str) -> Any:
    body = fields(json_object(), {}, {"display_name": str, "members": list})
    with db.get_engine().begin() as conn:
        _group_or_404(conn, name)
        group = _save_group(conn, name, body)
    return jsonify({"group": group.public()})


@bp.delete("/groups/<name>")
@require_auth("admin")
def delete_group(name: str) -> Any:
    with db.get_engine().begin() as conn:
        _group_or_404(conn, name)
        try:
            groups.delete_group(conn, name)
        except GroupError as exc:
            raise APIError(409, "in_use", str(exc), {"fields": exc.problems}) from None
    return "", 204


def _group_or_404(conn: Any, name: str) -> groups.Group:
    group = groups.get_group(conn, name)
    if group is None:
        raise APIError(404, "not_found", "no such group")
    return group


def _save_group(conn: Any, name: str, body: dict[str, Any]) -> groups.Group:
    members = body.get("members")
    if members is not None and not all(isinstance(m, str) for m in members):
        raise _invalid({"members": "must be a list of user IDs"})
    try:
        return groups.save_group(conn, name, display_name=body.get("display_name"),
                                 members=members, now=clock.now())
    except GroupError as exc:
        raise _invalid(exc.problems) from None


# --- caller IDs -------------------------------------------------------------------------------

@bp.get("/agents/<username>/caller-ids")
@require_auth("admin")
def agent_caller_ids(username: str) -> Any:
    with db.get_engine().connect() as conn:
        agent_id = _agent_id(conn, username)
        return jsonify({"caller_ids": [c.public() for c in numbers.caller_ids(conn, agent_id)]})


@bp.put("/agents/<username>/caller-ids")
@require_auth("admin")
def set_agent_caller_ids(username: str) -> Any:
    body = fields(json_object(), {"numbers": list}, {"default": str})
    if not all(isinstance(n, str) for n in body["numbers"]):
        raise _invalid({"numbers": "must be a list of phone numbers"})
    with db.get_engine().begin() as conn:
        agent_id = _agent_id(conn, username)
        try:
            numbers.set_caller_ids(conn, username, body["numbers"], body.get("default"))
        except RoutingError as exc:
            raise _invalid(exc.problems) from None
        found = numbers.caller_ids(conn, agent_id)
    return jsonify({"caller_ids": [c.public() for c in found]})


def _agent_id(conn: Any, username: str) -> int:
    from ..auth import accounts

    agent = accounts.find_agent(conn, username)
    if agent is None:
        raise APIError(404, "not_found", "no such agent")
    return agent.id


# --- block and restriction lists (CF-9) -------------------------------------------------------

@bp.get("/number-lists/<list_name>")
@require_auth("admin")
def list_rules(list_name: str) -> Any:
    with db.get_engine().connect() as conn:
        rules = number_lists.list_rules(conn, _list(list_name))
    return jsonify({"list": list_name, "label": number_lists.LABELS[list_name],
                    "rules": [r.public() for r in rules]})


@bp.post("/number-lists/<list_name>")
@require_auth("admin")
def add_rule(list_name: str) -> Any:
    body = fields(json_object(), {"pattern": str}, {"note": str})
    with db.get_engine().begin() as conn:
        try:
            rule, created = number_lists.add_rule(conn, _list(list_name), body["pattern"],
                                                  body.get("note", ""), now=clock.now(),
                                                  by=current_agent().id)
        except NumberError as exc:
            raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                           {"fields": {"pattern": exc.message_en}, "code": exc.code,
                            "message_ja": exc.message_ja}) from None
    response = jsonify({"rule": rule.public(), "created": created})
    response.status_code = 201 if created else 200
    return response


@bp.delete("/number-lists/<list_name>/<int:rule_id>")
@require_auth("admin")
def delete_rule(list_name: str, rule_id: int) -> Any:
    with db.get_engine().begin() as conn:
        if not number_lists.remove_rule(conn, _list(list_name), rule_id=rule_id):
            raise APIError(404, "not_found", "no such rule")
    return "", 204


@bp.post("/number-lists/<list_name>/import")
@require_auth("admin")
@body_limit(MAX_UPLOAD_BYTES)
def import_rules(list_name: str) -> Any:
    upload = request.files.get("file")
    data = upload.read(MAX_UPLOAD_BYTES + 1) if upload else request.get_data(cache=False)
    if not data:
        raise APIError(400, "empty_upload", "send the CSV as the request body or as 'file'")
    if len(data) > MAX_UPLOAD_BYTES:
        raise APIError(413, "too_large", f"the file is larger than {MAX_UPLOAD_BYTES} bytes")
    with db.get_engine().begin() as conn:
        report = number_lists.import_csv(conn, _list(list_name), data, now=clock.now(),
                                         by=current_agent().id, dry_run=is_dry_run())
    return jsonify(report.public())


def is_dry_run() -> bool:
    """``?dry_run=1``: check an upload and report what it would do, writing nothing.

    Raises:
        APIError: A value other than 1/0/true/false.
    """
    value = request.args.get("dry_run", "0").lower()
    if value not in ("0", "1", "true", "false"):
        raise APIError(400, "invalid_query", "dry_run must be 1 or 0")
    return value in ("1", "true")


def _list(name: str) -> str:
    try:
        return number_lists.check_list(name)
    except number_lists.UnknownList as exc:
        raise APIError(404, "not_found", str(exc)) from None
