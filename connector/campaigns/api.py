"""``/api/campaigns`` for supervisors (reading, running) and admins (changing).

* ``GET /api/campaigns`` · ``POST /api/campaigns`` ``{"name", "settings": {...}}`` (admins)
* ``GET|PATCH|DELETE /api/campaigns/<id>`` (PATCH/DELETE: admins; DELETE only when not running)
* ``POST /api/campaigns/<id>/start|pause|resume|stop`` (supervisors)
* ``POST /api/campaigns/<id>/contacts/import`` — the CSV as the body or form field ``file``;
  query ``mapping`` (JSON, field → header or column), ``header`` (``true``/``false``),
  ``skip_invalid`` (``true``: keep the valid rows; default all or nothing) (admins)
* ``GET /api/campaigns/<id>/contacts?state=&after=&limit=`` (supervisors)
* ``GET /api/campaigns/<id>/stats`` and ``/stats.csv?encoding=utf-8|cp932`` (supervisors)
* ``GET|POST /api/campaigns/do-not-call``, ``DELETE /api/campaigns/do-not-call/<number>``
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from voice import numbering
from voice.campaigns import calllist
from voice.campaigns.calllist import ListError
from voice.campaigns.settings import SettingsError, parse_settings
from voice.dialing_rules import check_outbound
from voice.numbering import Destination, NumberError

from .. import clock, db
from ..auth import current_agent, require_auth
from ..console.csvout import ENCODINGS, encode_csv
from ..errors import APIError
from ..messages import Text
from ..validation import fields, invalid_fields, json_object
from ..voice import groups as group_store
from ..voice import numbers
from ..voice.runtime import get_runtime
from . import dialer, stats, store, texts
from .agent_api import contact_json
from .store import Campaign

bp = Blueprint("campaigns_admin", __name__, url_prefix="/api/campaigns")

#: status → the actions allowed from it, and where each leads.
TRANSITIONS = {"start": ({"draft"}, "running"), "pause": ({"running"}, "paused"),
               "resume": ({"paused"}, "running"),
               "stop": ({"draft", "running", "paused"}, "stopped")}


@bp.get("")
@require_auth("supervisor")
def list_campaigns() -> Any:
    with db.get_engine().connect() as conn:
        found = store.all_campaigns(conn)
    return jsonify({"campaigns": [c.public() for c in found]})


@bp.post("")
@require_auth("admin")
def create_campaign() -> Any:
    body = fields(json_object(), {"name": str, "settings": dict})
    now = clock.now()
    with db.get_engine().begin() as conn:
        settings = _checked_settings(conn, body["settings"], None)
        name = body["name"].strip()[:100]
        if store.by_name(conn, name) is not None:
            raise invalid_fields({"name": texts.NAME_TAKEN}, {"name": "taken"})
        campaign = store.create(conn, name, settings, now=now, by=current_agent().id)
    return jsonify({"campaign": campaign.public()}), 201


@bp.get("/<int:campaign_id>")
@require_auth("supervisor")
def get_campaign(campaign_id: int) -> Any:
    with db.get_engine().connect() as conn:
        campaign = find_campaign(conn, campaign_id)
    return jsonify({"campaign": campaign.public()})


@bp.patch("/<int:campaign_id>")
@require_auth("admin")
def change_campaign(campaign_id: int) -> Any:
    body = fields(json_object(), {}, {"name": str, "settings": dict})
    with db.get_engine().begin() as conn:
        campaign = find_campaign(conn, campaign_id)
        settings = (_checked_settings(conn, body["settings"], campaign)
                    if "settings" in body else None)
        name = body["name"].strip()[:100] if "name" in body else None
        if name and name != campaign.name and store.by_name(conn, name) is not None:
            raise invalid_fields({"name": texts.NAME_TAKEN}, {"name": "taken"})
        store.change(conn, campaign_id, now=clock.now(), name=name, settings=settings)
        campaign = find_campaign(conn, campaign_id)
    return jsonify({"campaign": campaign.public()})


@bp.delete("/<int:campaign_id>")
@require_auth("admin")
def delete_campaign(campaign_id: int) -> Any:
    with db.get_engine().begin() as conn:
        campaign = find_campaign(conn, campaign_id)
        if campaign.status == "running":
            raise APIError(409, "running", texts.BAD_TRANSITION.format(status=campaign.status))
        store.remove(conn, campaign_id)
    return "", 204


@bp.post("/<int:campaign_id>/<any(start, pause, resume, stop):action>")
@require_auth("supervisor")
def transition(campaign_id: int, action: str) -> Any:
    allowed_from, target = TRANSITIONS[action]
    now = clock.now()
    with db.get_engine().begin() as conn:
        campaign = find_campaign(conn, campaign_id)
        if campaign.status not in allowed_from:
            raise APIError(409, "bad_transition",
                           texts.BAD_TRANSITION.format(status=campaign.status))
        store.change(conn, campaign_id, now=now, status=target)
        if action == "stop":
            store.stop_contacts(conn, campaign_id, now)
        campaign = find_campaign(conn, campaign_id)
    if target == "running":
        dialer.nudge()
    return jsonify({"campaign": campaign.public()})


# --- call lists -----------------------------------------------------------------------------

@bp.post("/<int:campaign_id>/contacts/import")
@require_auth("admin")
def import_contacts(campaign_id: int) -> Any:
    data = _uploaded()
    mapping = _mapping()
    header = {"true": True, "false": False}.get(request.args.get("header", ""))
    skip_invalid = request.args.get("skip_invalid") == "true"
    now = clock.now()
    with db.get_engine().begin() as conn:
        campaign = find_campaign(conn, campaign_id)
        check = dial_check(conn, campaign)
        try:
            parsed = calllist.parse_call_list(data, mapping=mapping, has_header=header,
                                              check=check,
                                              existing=store.numbers_of(conn, campaign_id))
        except ListError as exc:
            raise invalid_fields({exc.field: Text(exc.message_ja, exc.message_en)},
                                 {exc.field: exc.code}) from None
        rejected = [r.public() for r in parsed.rejected]
        report = {"encoding": parsed.encoding, "delimiter": parsed.delimiter,
                  "header": list(parsed.header) if parsed.header else None,
                  "rejected": rejected}
        if rejected and not skip_invalid:
            raise APIError(422, "rows_rejected",
                           texts.IMPORT_REJECTED.format(count=len(rejected)),
                           {**report, "imported": 0, "valid": len(parsed.rows)})
        added = store.add_contacts(conn, campaign_id, parsed.rows, now=now)
    return jsonify({**report, "imported": added})


def _uploaded() -> bytes:
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data(cache=False)
    if not data:
        raise invalid_fields({"file": texts.NO_CONTACTS_FILE}, {"file": "required"})
    return data


def _mapping() -> dict[str, Any] | None:
    raw = request.args.get("mapping")
    if not raw:
        return None
    try:
        mapping = json.loads(raw)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict):
        raise invalid_fields({"mapping": Text("JSON オブジェクト（項目 → 見出しか列番号）で"
                                              "指定してください",
                                              "a JSON object: field → header or column")},
                             {"mapping": "invalid_mapping"})
    return mapping


def dial_check(conn: Any, campaign: Campaign) -> calllist.Check:
    """May the campaign call this number: CF-12 from its caller ID, the restriction and the
    block lists, the do-not-call marks."""
    runtime = get_runtime()
    lists = runtime.cache.refresh(conn)
    never = store.do_not_call_numbers(conn)
    caller_id = campaign.settings.caller_id

    def check(destination: Destination) -> calllist.Refusal | None:
        verdict = check_outbound(caller_id, destination, prefix_refusals={},
                                 allowed_countries=runtime.settings.allowed_countries)
        if not verdict.allowed:
            return verdict.code, verdict.message_ja, verdict.message_en
        if lists.restrict.match(destination.dial_string) is not None:
            return ("restricted", "発信規制リストにある番号です。",
                    "on the restriction list (発信規制)")
        if lists.block.match(destination.dial_string) is not None:
            return ("blocked", "着信拒否リストにある番号です。", "on the block list (着信拒否)")
        if destination.e164 in never:
            return ("do_not_call", "発信停止の番号です。", "marked do not call (発信停止)")
        return None
    return check


@bp.get("/<int:campaign_id>/contacts")
@require_auth("supervisor")
def list_contacts(campaign_id: int) -> Any:
    state = request.args.get("state") or None
    after = request.args.get("after", "0")
    limit = request.args.get("limit", "100")
    if not after.isdigit() or not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise invalid_fields({"after" if not after.isdigit() else "limit": Text(
            "整数で指定してください（limit は 1〜1000）", "an integer (limit: 1 to 1000)")})
    with db.get_engine().connect() as conn:
        find_campaign(conn, campaign_id)
        rows = store.contacts(conn, campaign_id, state=state, limit=int(limit),
                              after_id=int(after))
    return jsonify({"contacts": [contact_json(r) for r in rows],
                    "next_after": rows[-1].id if len(rows) == int(limit) else None})


# --- statistics -----------------------------------------------------------------------------

@bp.get("/<int:campaign_id>/stats")
@require_auth("supervisor")
def campaign_stats(campaign_id: int) -> Any:
    with db.get_engine().connect() as conn:
        campaign = find_campaign(conn, campaign_id)
        return jsonify({"campaign": stats.campaign_stats(conn, campaign),
                        "agents": stats.agent_stats(conn, campaign)})


@bp.get("/<int:campaign_id>/stats.csv")
@require_auth("supervisor")
def campaign_stats_csv(campaign_id: int) -> Any:
    encoding = request.args.get("encoding", "utf-8")
    if encoding not in ENCODINGS:
        raise invalid_fields({"encoding": Text("utf-8 か cp932 です", "utf-8 or cp932")})
    with db.get_engine().connect() as conn:
        campaign = find_campaign(conn, campaign_id)
        header, rows = stats.csv_rows(stats.campaign_stats(conn, campaign),
                                      stats.agent_stats(conn, campaign))
    body = encode_csv(header, rows, encoding)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="campaign-{campaign_id}-stats.csv"'})


# --- do not call ----------------------------------------------------------------------------

@bp.get("/do-not-call")
@require_auth("supervisor")
def list_do_not_call() -> Any:
    with db.get_engine().connect() as conn:
        rows = store.do_not_call_list(conn)
    return jsonify({"numbers": [{"e164": r.e164, "note": r.note,
                                 "created_at": r.created_at.isoformat()} for r in rows]})


@bp.post("/do-not-call")
@require_auth("supervisor")
def add_do_not_call() -> Any:
    body = fields(json_object(), {"number": str}, {"note": str})
    e164 = _e164(body["number"])
    now = clock.now()
    with db.get_engine().begin() as conn:
        added = store.mark_do_not_call(conn, e164, body.get("note", ""), now=now,
                                       by=current_agent().id)
        ended = store.end_do_not_call_contacts(conn, e164, now)
    return jsonify({"e164": e164, "added": added, "contacts_ended": ended}), 201 if added else 200


@bp.delete("/do-not-call/<path:number>")
@require_auth("supervisor")
def remove_do_not_call(number: str) -> Any:
    e164 = _e164(number)
    with db.get_engine().begin() as conn:
        if not store.unmark_do_not_call(conn, e164):
            raise APIError(404, "not_found", Text("発信停止の番号ではありません。",
                                                  "This number is not marked do not call."))
    return "", 204


def _e164(number: str) -> str:
    try:
        return numbering.normalize(number)
    except NumberError as exc:
        raise invalid_fields({"number": Text.of(exc)}, {"number": exc.code}) from None


# --- helpers --------------------------------------------------------------------------------

def find_campaign(conn: Any, campaign_id: int) -> Campaign:
    """The campaign, or 404."""
    campaign = store.get(conn, campaign_id)
    if campaign is None:
        raise APIError(404, "not_found", texts.NOT_FOUND)
    return campaign


def _checked_settings(conn: Any, data: dict[str, Any], campaign: Campaign | None) -> Any:
    try:
        settings = parse_settings(data, campaign.settings if campaign else None)
    except SettingsError as exc:
        raise invalid_fields({f"settings.{k}": Text(v[1], v[2]) for k, v in exc.problems.items()},
                             {f"settings.{k}": v[0] for k, v in exc.problems.items()}) from None
    problems: dict[str, Text] = {}
    if numbers.get_number(conn, settings.caller_id) is None:
        problems["settings.caller_id"] = texts.NOT_OUR_NUMBER
    known = store.agent_ids(conn, settings.agents)
    missing = [n for n in settings.agents if n not in known]
    if missing:
        problems["settings.agents"] = texts.UNKNOWN_AGENTS.format(names=", ".join(missing))
    missing = [g for g in settings.groups if group_store.get_group(conn, g) is None]
    if missing:
        problems["settings.groups"] = texts.UNKNOWN_GROUPS.format(names=", ".join(missing))
    if problems:
        raise invalid_fields(problems)
    return settings
