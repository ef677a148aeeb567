"""The softphone's voice API (SPEC SP-1, SP-2, SP-3, SP-8, CF-10).

* ``POST /api/token`` → ``{token, identity, expires_in, mode, edge}``
* ``POST /api/dial/check`` ``{to, caller_id?}`` → ``{allowed, code, message_ja, message_en,
  destination: {e164, display, kind} | null, caller_id, customer: {name, company, matches}}``
  — ``customer`` is the dialed number looked up like an inbound caller (:mod:`.lookup`)
* ``GET /api/me/caller-ids`` → ``[{e164, display, label, default}]`` (the default first)
* ``GET /api/calls?limit=&before=`` → ``{"calls": [...], "next_before": cursor | null}``
* ``GET /api/calls/<sid>`` → ``{"call": {..., "legs": [...]}}``
* ``GET /api/calls/<sid>/recording`` → the audio; ``GET /api/calls/<sid>/recording-link`` →
  ``{url, expires_in}``; ``GET /recordings/<sid>?exp=&sig=`` → the audio (signed link)
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from voice.tokens import voice_access_token

from .. import callstream, clock, db
from ..auth import current_agent, require_auth
from ..errors import APIError
from ..validation import fields, json_object
from . import call_views, numbers, outbound, recordings
from . import calls as call_store
from .lookup import customer_of
from .runtime import get_runtime

bp = Blueprint("voice_api", __name__)


@bp.post("/api/token")
@require_auth()
def token() -> Any:
    """A Twilio access token for the signed-in agent's browser (SP-1)."""
    runtime, agent = get_runtime(), current_agent()
    issued = voice_access_token(
        account_sid=runtime.account_sid, api_key_sid=runtime.api_key_sid,
        api_key_secret=runtime.api_key_secret.reveal(), identity=agent.identity,
        application_sid=runtime.application_sid, ttl=runtime.token_ttl,
        now=int(clock.now().timestamp()))
    return jsonify({"token": issued.token, "identity": issued.identity,
                    "expires_in": issued.ttl, "mode": runtime.mode, "edge": runtime.edge})


@bp.post("/api/dial/check")
@require_auth()
def dial_check() -> Any:
    """Would this call be placed? The softphone shows the refusal before dialling."""
    body = fields(json_object(), {"to": str}, {"caller_id": str})
    with db.get_engine().connect() as conn:
        decision = outbound.decide(conn, get_runtime(), current_agent().id, body["to"],
                                   body.get("caller_id") or None)
    e164 = decision.destination.e164 if decision.allowed and decision.destination else ""
    found = customer_of(e164 or "")
    customer = {key: found[key] for key in ("name", "company", "matches")}
    return jsonify({**decision.public(), "customer": customer})


@bp.get("/api/me/caller-ids")
@require_auth()
def my_caller_ids() -> Any:
    """The numbers the agent may call from, the default first (SP-3)."""
    with db.get_engine().connect() as conn:
        found = numbers.caller_ids(conn, current_agent().id)
    return jsonify([c.public() for c in found])


@bp.get("/api/calls")
@require_auth()
def list_calls() -> Any:
    limit = _limit(request.args.get("limit"))
    callstream.write_queued()  # ringing calls whose records are still in Redis
    with db.get_engine().connect() as conn:
        rows = call_views.page(conn, current_agent(), limit + 1, request.args.get("before"))
        more = len(rows) > limit
        rows = rows[:limit]
        body = call_views.render(conn, rows)
    return jsonify({"calls": body,
                    "next_before": call_views.cursor(rows[-1]) if more and rows else None})


@bp.get("/api/calls/<call_sid>")
@require_auth()
def get_call(call_sid: str) -> Any:
    callstream.write_pending(call_sid)  # a ringing call's record may still be in Redis
    with db.get_engine().connect() as conn:
        record = call_views.find_record(conn, current_agent(), call_sid)
        return jsonify({"call": call_views.render(conn, [record], with_legs=True)[0]})


@bp.get("/api/calls/<call_sid>/recording")
@require_auth()
def call_recording(call_sid: str) -> Any:
    with db.get_engine().connect() as conn:
        record = call_views.find_record(conn, current_agent(), call_sid)
    return recordings.stream(_recording_sid(record), request.headers.get("Range"))


@bp.get("/api/calls/<call_sid>/recording-link")
@require_auth()
def recording_link(call_sid: str) -> Any:
    with db.get_engine().connect() as conn:
        record = call_views.find_record(conn, current_agent(), call_sid)
    _recording_sid(record)
    ttl = recordings.DEFAULT_LINK_SECONDS
    return jsonify({"url": recordings.signed_recording_url(record["call_sid"], ttl),
                    "expires_in": ttl})


@bp.get("/recordings/<call_sid>")
def signed_recording(call_sid: str) -> Any:
    recordings.check_signed(call_sid, request.args.get("exp", ""), request.args.get("sig", ""))
    with db.get_engine().connect() as conn:
        record = call_store.get_row(conn, call_sid)
    if record is None:
        raise APIError(404, "not_found", "no such call")
    return recordings.stream(_recording_sid(record), request.headers.get("Range"))


def _recording_sid(record: Any) -> str:
    if not record["recording_sid"]:
        raise APIError(404, "no_recording", "this call has no recording")
    return record["recording_sid"]


def _limit(raw: str | None) -> int:
    if raw is None:
        return call_views.DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= call_views.MAX_PAGE:
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": {"limit": f"a number from 1 to {call_views.MAX_PAGE}"}})
    return int(raw)
