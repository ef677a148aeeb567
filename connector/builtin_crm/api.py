"""``/api/crm``: the built-in CRM's JSON API (customers, search, history, tags, CSV import).

Everyone signed in may read; supervisors and admins add, edit and delete customers; agents may
change a customer's notes only; admins import CSV files. Bad input gets a 422 whose
``details.fields`` names every bad field (``phones[1].number``) with a Japanese message and
``details.codes`` the same fields with stable codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request, url_for

from .. import clock, db
from ..auth import current_agent, require_auth
from ..auth.guard import ROLE_RANK
from ..errors import APIError
from ..request_size import body_limit
from ..validation import json_object
from . import csv_import, store
from .model import CustomerInput, Invalid, parse_customer

bp = Blueprint("builtin_crm_api", __name__, url_prefix="/api/crm")

#: Fields an agent (rather than a supervisor or admin) may change.
AGENT_FIELDS = frozenset({"notes"})


def _may(role: str) -> bool:
    return ROLE_RANK.get(current_agent().role, -1) >= ROLE_RANK[role]


def _not_found() -> APIError:
    return APIError(404, "not_found", "顧客が見つかりません。(No such customer.)")


def _invalid(error: Invalid) -> APIError:
    return APIError(422, "invalid_fields", "入力内容を確認してください。(Some fields are invalid.)",
                    {"fields": error.problems, "codes": error.codes})


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        message = f"{low}〜{high} の整数で指定してください。"
        raise APIError(422, "invalid_parameters", f"{name}: {message}",
                       {"fields": {name: message}})
    return int(raw)


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.pop(name, False)
    if not isinstance(value, bool):
        raise APIError(422, "invalid_fields", f"{name}: true か false で指定してください。",
                       {"fields": {name: "true か false で指定してください。"}})
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
@require_auth("supervisor")
def create_customer() -> Any:
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
        raise APIError(422, "invalid_fields", "変更する項目がありません。(Nothing to change.)",
                       {"fields": {}})
    _check_edit_rights(data)
    with db.get_engine().begin() as conn:
        if "phones" in data.present:
            _refuse_duplicates(conn, data, allow_duplicates, exclude=customer_id)
        try:
            changed = store.update_customer(conn, customer_id, data, clock.now(),
                                            expected_updated_at=expected)
        except store.Conflict:
            raise APIError(409, "conflict", "他の人がこの顧客を更新しました。画面を読み込み直して"
                                            "から、もう一度保存してください。(The customer was "
                                            "changed by someone else; reload and try again.)"
                           ) from None
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
    """The customer's call history, newest first (``limit``, ``offset``)."""
    limit = _int_arg("limit", 50, 1, store.MAX_PAGE)
    offset = _int_arg("offset", 0, 0, 10**9)
    with db.get_engine().connect() as conn:
        if store.get_customer(conn, customer_id) is None:
            raise _not_found()
        calls, total = store.history(conn, customer_id, limit=limit, offset=offset)
    return jsonify({"calls": calls, "total": total, "limit": limit, "offset": offset})


@bp.get("/tags")
@require_auth()
def tags() -> Any:
    with db.get_engine().connect() as conn:
        return jsonify({"tags": store.tags_in_use(conn)})


def _permissions() -> dict[str, bool]:
    return {"edit": _may("supervisor"), "edit_notes": True, "delete": _may("supervisor"),
            "import": _may("admin")}


def _check_edit_rights(data: CustomerInput) -> None:
    if _may("supervisor"):
        return
    refused = sorted(data.present - AGENT_FIELDS)
    if refused:
        raise APIError(403, "forbidden", "オペレーターが変更できるのはメモだけです。"
                                         "(Agents may change the notes only.)",
                       {"fields": {name: "変更する権限がありません。" for name in refused}})


def _expected_version(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise APIError(422, "invalid_fields", "updated_at: 取得した顧客の updated_at を"
                                              "そのまま指定してください。",
                       {"fields": {"updated_at": "ISO 8601 の日時（タイムゾーン付き）です。"}})
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
    fields = {f"phones[{p.source}].number": "この番号は既に " + "、".join(
        f"「{c['name']}」" for c in in_use[p.e164]) + " に登録されています。" for p in clashes}
    duplicates = [{"field": f"phones[{p.source}].number", "e164": p.e164,
                   "customers": [{**c, "url": f"/crm/customers/{c['id']}"}
                                 for c in in_use[p.e164]]} for p in clashes]
    raise APIError(409, "duplicate_number",
                   "他の顧客と同じ電話番号があります。同じ番号で登録するときは "
                   "allow_duplicate_numbers を true にしてください。",
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
        raise APIError(422, "invalid_fields", "CSV ファイルを file で送ってください。",
                       {"fields": {"file": "必須です。"}})
    data = upload.read(csv_import.MAX_BYTES + 1)
    mapping = [spec for spec in request.form.getlist("map") if spec.strip()]
    try:
        csv_import.parse_mapping(mapping)
    except csv_import.MappingError as error:
        raise APIError(422, "invalid_fields", "列の対応 (map) が正しくありません。",
                       {"fields": {"map": "; ".join(error.problems)}}) from None
    options = {name: _form_flag(name) for name in ("dry_run", "allow_duplicates")}
    with db.get_engine().begin() as conn:
        report = csv_import.import_customers(conn, data, mapping, now=clock.now(), **options)
    return jsonify(report.to_dict())


def _form_flag(name: str) -> bool:
    value = request.form.get(name, "false").strip().lower()
    if value not in ("true", "false", "1", "0", "on", "off", ""):
        raise APIError(422, "invalid_fields", f"{name}: true か false で指定してください。",
                       {"fields": {name: "true か false で指定してください。"}})
    return value in ("true", "1", "on")
