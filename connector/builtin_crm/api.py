"""``/api/crm``: the built-in CRM's JSON API (customers, search, history, tags, CSV import).

Everyone signed in may read; who may add customers is ``[crm.builtin] add_customer_role``
(default: agents too, so an agent can register an unknown caller); supervisors and admins edit
and delete customers; agents may change a customer's notes only; admins import CSV files. Bad
input gets a 422 whose ``details.fields`` names every bad field (``phones[1].number``) with a
message in the reader's language (:mod:`connector.messages`) and ``details.codes`` the same
fields with stable codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from .. import call_access, clock, crm, db
from ..auth import current_agent, require_auth
from ..auth.guard import ROLE_NAMES, ROLE_RANK
from ..errors import APIError
from ..messages import Text, localized, request_language
from ..request_size import body_limit
from ..validation import invalid_fields, json_object
from . import csv_import, store
from .model import CustomerInput, Invalid, parse_customer

bp = Blueprint("builtin_crm_api", __name__, url_prefix="/api/crm")

#: Fields an agent (rather than a supervisor or admin) may change.
AGENT_FIELDS = frozenset({"notes"})

NOT_FOUND = Text("顧客が見つかりません。", "No such customer.")
NOTHING_TO_CHANGE = Text("変更する項目がありません。", "Nothing to change.")
CONFLICT = Text("他の人がこの顧客を更新しました。画面を読み込み直してから、"
                "もう一度保存してください。",
                "The customer was changed by someone else; reload and try again.")
AGENTS_NOTES_ONLY = Text("オペレーターが変更できるのはメモだけです。",
                         "Agents may change the notes only.")
NO_RIGHT = Text("変更する権限がありません。", "You may not change this.")
MAY_NOT_ADD = Text("顧客を登録できるのは{role}以上です（[crm.builtin] add_customer_role）。",
                   "Only the {role} role or above may add customers ([crm.builtin] "
                   "add_customer_role).")
BAD_UPDATED_AT = Text("取得した顧客の updated_at（タイムゾーン付きの ISO 8601 日時）をそのまま"
                      "指定してください。", "Send the updated_at you read (an ISO 8601 date-time "
                                         "with a time zone).")
NOT_A_FLAG = Text("true か false で指定してください。", "Give true or false.")
NOT_IN_RANGE = Text("{low}〜{high} の整数で指定してください。",
                    "Give a whole number from {low} to {high}.")
DUPLICATE_NUMBER = Text("他の顧客と同じ電話番号があります。同じ番号で登録するときは "
                        "allow_duplicate_numbers を true にしてください。",
                        "Another customer has the same phone number; to save it anyway, set "
                        "allow_duplicate_numbers to true.")
NUMBER_IN_USE = Text("この番号は既に {names} に登録されています。",
                     "This number is already registered to {names}.")
NO_FILE = Text("CSV ファイルを file で送ってください。", "Send the CSV file as file.")
REQUIRED = Text("必須です。", "Required.")
BAD_MAPPING = Text("列の対応 (map) が正しくありません: {problems}",
                   "The column mapping (map) is not usable: {problems}")


def _may(role: str) -> bool:
    return ROLE_RANK.get(current_agent().role, -1) >= ROLE_RANK[role]


def add_customer_role() -> str:
    """``[crm.builtin] add_customer_role`` (its default when the adapter is not enabled)."""
    adapter = crm.get_layer().adapters.get("builtin")
    settings = getattr(adapter, "settings", None)
    return getattr(settings, "add_customer_role", "agent")


def _not_found() -> APIError:
    return APIError(404, "not_found", NOT_FOUND)


def _invalid(error: Invalid) -> APIError:
    return invalid_fields(error.problems, error.codes)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid_fields({name: NOT_IN_RANGE.format(low=low, high=high)},
                             {name: "out_of_range"}, code="invalid_parameters")
    return int(raw)


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.pop(name, False)
    if not isinstance(value, bool):
        raise invalid_fields({name: NOT_A_FLAG}, {name: "not_a_flag"})
    return value


# -- customers ---------------------------------------------------------------------------------

@bp.get("/customers")
@require_auth()
def list_customers() -> Any:
    """Search: ``q`` (name, reading, company, tag or part of a number), ``tag``, ``limit``,
    ``offset``."""
    limit = _int_arg("limit", 50, 1, store.MAX_PAGE)
    offset = _int_arg("offset", 0, 0, 10**9)
    with db.get_engine().connect() as conn:
        found, total = store.search(conn, request.args.get("q", ""),
                                    tag=request.args.get("tag", ""), limit=limit, offset=offset)
    return jsonify({"customers": found, "total": total, "limit": limit, "offset": offset})


@bp.post("/customers")
@require_auth()
def create_customer() -> Any:
    role = add_customer_role()
    if not _may(role):
        raise APIError(403, "forbidden", MAY_NOT_ADD.format(role=ROLE_NAMES[role]))
    body = json_object()
    allow_duplicates = _flag(body, "allow_duplicate_numbers")
    try:
        data = parse_customer(body)
    except Invalid as error:
        raise _invalid(error) from None
    with db.get_engine().begin() as conn:
        _refuse_duplicates(conn, data, allow_duplicates)
        customer_id = store.create_customer(conn, data, clock.now())
        customer = store.get_customer(conn, customer_id)
    response = jsonify({"customer": customer, "permissions": _permissions()})
    response.status_code = 201
    response.headers["Location"] = url_for(".get_customer", customer_id=customer_id)
    return response


@bp.get("/customers/<int:customer_id>")
@require_auth()
def get_customer(customer_id: int) -> Any:
    with db.get_engine().connect() as conn:
        customer = store.get_customer(conn, customer_id)
    if customer is None:
        raise _not_found()
    return jsonify({"customer": customer, "permissions": _permissions()})


@bp.patch("/customers/<int:customer_id>")
@require_auth()
def update_customer(customer_id: int) -> Any:
    """Change the fields given; ``updated_at`` (as last read) guards against lost updates."""
    body = json_object()
    allow_duplicates = _flag(body, "allow_duplicate_numbers")
    expected = _expected_version(body.pop("updated_at", None))
    try:
        data = parse_customer(body, partial=True)
    except Invalid as error:
        raise _invalid(error) from None
    if not data.present:
        raise APIError(422, "invalid_fields", NOTHING_TO_CHANGE, {"fields": {}})
    _check_edit_rights(data)
    with db.get_engine().begin() as conn:
        if "phones" in data.present:
            _refuse_duplicates(conn, data, allow_duplicates, exclude=customer_id)
        try:
            changed = store.update_customer(conn, customer_id, data, clock.now(),
                                            expected_updated_at=expected)
        except store.Conflict:
            raise APIError(409, "conflict", CONFLICT) from None
        customer = store.get_customer(conn, customer_id) if changed else None
    if customer is None:
        raise _not_found()
    return jsonify({"customer": customer, "permissions": _permissions()})


@bp.delete("/customers/<int:customer_id>")
@require_auth("supervisor")
def delete_customer(customer_id: int) -> Any:
    with db.get_engine().begin() as conn:
        if not store.delete_customer(conn, customer_id, clock.now()):
            raise _not_found()
    return "", 204


@bp.get("/customers/<int:customer_id>/calls")
@require_auth()
def customer_calls(customer_id: int) -> Any:
    """The customer's call history, newest first (``limit``, ``offset``): agents see their
    own calls only, as in the calls API (:mod:`connector.call_access`)."""
    limit = _int_arg("limit", 50, 1, store.MAX_PAGE)
    offset = _int_arg("offset", 0, 0, 10**9)
    with db.get_engine().connect() as conn:
        if store.get_customer(conn, customer_id) is None:
            raise _not_found()
        calls, total = store.history(conn, customer_id, limit=limit, offset=offset,
                                     visible=call_access.visible_call_sids(current_agent()))
    return jsonify({"calls": calls, "total": total, "limit": limit, "offset": offset})


@bp.get("/tags")
@require_auth()
def tags() -> Any:
    with db.get_engine().connect() as conn:
        return jsonify({"tags": store.tags_in_use(conn)})


@bp.get("/permissions")
@require_auth()
def permissions() -> Any:
    """What the signed-in agent may do here (the pages show only what is allowed)."""
    return jsonify({"permissions": _permissions()})


def _permissions() -> dict[str, bool]:
    return {"create": _may(add_customer_role()), "edit": _may("supervisor"),
            "edit_notes": True, "delete": _may("supervisor"), "import": _may("admin")}


def _check_edit_rights(data: CustomerInput) -> None:
    if _may("supervisor"):
        return
    refused = sorted(data.present - AGENT_FIELDS)
    if refused:
        raise APIError(403, "forbidden", AGENTS_NOTES_ONLY,
                       {"fields": {name: localized(NO_RIGHT) for name in refused}})


def _expected_version(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise invalid_fields({"updated_at": BAD_UPDATED_AT}, {"updated_at": "invalid_datetime"})
    return parsed


def _refuse_duplicates(conn: Any, data: CustomerInput, allowed: bool, *,
                       exclude: int | None = None) -> None:
    """409 when another customer has one of the numbers, unless the client said it is fine
    (a family, a company switchboard); the details link the customers that have it."""
    if allowed or not data.phones:
        return
    in_use = store.numbers_in_use(conn, (p.e164 for p in data.phones), exclude=exclude)
    clashes = [p for p in data.phones if p.e164 in in_use]
    if not clashes:
        return
    fields = {f"phones[{p.source}].number": localized(NUMBER_IN_USE.format(names="、".join(
        f"「{c['name']}」" for c in in_use[p.e164]))) for p in clashes}
    duplicates = [{"field": f"phones[{p.source}].number", "e164": p.e164,
                   "customers": [{**c, "url": f"/crm/customers/{c['id']}"}
                                 for c in in_use[p.e164]]} for p in clashes]
    raise APIError(409, "duplicate_number", DUPLICATE_NUMBER,
                   {"fields": fields, "duplicates": duplicates})


# -- CSV import --------------------------------------------------------------------------------

@bp.post("/import")
@require_auth("admin")
@body_limit(csv_import.MAX_BYTES)
def import_csv() -> Any:
    """``multipart/form-data``: ``file``, ``map`` (repeatable ``field=column``), ``dry_run`` and
    ``allow_duplicates`` (``true``/``false``). Answers with the import report."""
    upload = request.files.get("file")
    if upload is None:
        raise APIError(422, "invalid_fields", NO_FILE, {"fields": {"file": localized(REQUIRED)},
                                                        "codes": {"file": "required"}})
    data = upload.read(csv_import.MAX_BYTES + 1)
    mapping = [spec for spec in request.form.getlist("map") if spec.strip()]
    try:
        csv_import.parse_mapping(mapping)
    except csv_import.MappingError as error:
        problems = Text.join(error.problems, "、", "; ")
        raise APIError(422, "invalid_fields", BAD_MAPPING.format(problems=problems),
                       {"fields": {"map": localized(problems)}}) from None
    options = {name: _form_flag(name) for name in ("dry_run", "allow_duplicates")}
    with db.get_engine().begin() as conn:
        report = csv_import.import_customers(conn, data, mapping, now=clock.now(), **options)
    return jsonify(report.to_dict(request_language()))


def _form_flag(name: str) -> bool:
    value = request.form.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0", "on", "off", ""):
        raise invalid_fields({name: NOT_A_FLAG}, {name: "not_a_flag"})
    return value in ("true", "1", "on")
