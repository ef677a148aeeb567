"""``/api/voicemail``: the voicemail history of flows' boxes, for supervisors (CF-7).

* ``GET /api/voicemail?box=&handled=true|false&limit=`` — messages, newest first, each with a
  signed ``recording_url`` for playback (``<audio src>``);
* ``POST /api/voicemail/handled`` — ``{"call_sids": [...], "handled": true|false}``;
* ``POST /api/voicemail/delete`` — ``{"call_sids": [...]}``: out of the history (bulk delete).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from .. import clock, db
from ..auth import current_agent, require_auth
from ..errors import APIError
from ..validation import fields, json_object
from . import voicemail

bp = Blueprint("flow_voicemail", __name__, url_prefix="/api/voicemail")


@bp.get("")
@require_auth("supervisor")
def list_messages() -> Any:
    handled = request.args.get("handled")
    if handled not in (None, "true", "false"):
        raise APIError(422, "invalid_fields", "handled must be true or false",
                       {"fields": {"handled": "must be true or false"}})
    limit = request.args.get("limit", 100, type=int)
    with db.get_engine().connect() as conn:
        found = voicemail.history(conn, box=request.args.get("box", ""),
                                  handled=None if handled is None else handled == "true",
                                  limit=max(1, min(limit, voicemail.MAX_BULK)))
    return jsonify({"voicemail": found})


def _call_sids(body: dict[str, Any]) -> list[str]:
    sids = body["call_sids"]
    if not sids or len(sids) > voicemail.MAX_BULK or not all(
            isinstance(s, str) and s for s in sids):
        raise APIError(422, "invalid_fields", "call_sids is not a list of call SIDs", {
            "fields": {"call_sids": f"1 to {voicemail.MAX_BULK} call SIDs"}})
    return sids


@bp.post("/handled")
@require_auth("supervisor")
def mark_handled() -> Any:
    body = fields(json_object(), {"call_sids": list}, {"handled": bool})
    with db.get_engine().begin() as conn:
        count = voicemail.mark_handled(conn, _call_sids(body), body.get("handled", True),
                                       current_agent().username, clock.now())
    return jsonify({"changed": count})


@bp.post("/delete")
@require_auth("supervisor")
def delete_messages() -> Any:
    body = fields(json_object(), {"call_sids": list})
    with db.get_engine().begin() as conn:
        count = voicemail.delete(conn, _call_sids(body), clock.now())
    return jsonify({"deleted": count})
