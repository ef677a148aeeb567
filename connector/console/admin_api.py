"""``/console/api/...``: the console's admin screens call the product's own JSON APIs.

The numbers, groups, block lists, flows, audio, voicemail and campaign screens need exactly
what ``/api/admin/*``, ``/api/acd/*``, ``/api/voicemail/*`` and ``/api/campaigns/*`` already do,
with their validation and their error answers (422 with the fields, a flow's problems with line
and node). Those APIs take a bearer token; the console has its cookie. So
``/console/api/<admin|acd|voicemail|campaigns>/<path>`` find the API view the same path and
method would reach, check the console's own rules — signed in, CSRF for changes, the
permission table's cell for the screen and action, and the role the API itself needs — then run
that view (without its bearer check) and return its answer unchanged. Every change that
succeeds is written to the audit log.

Only the endpoints listed in :data:`ENDPOINTS` are reachable this way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, g, request
from werkzeug.exceptions import NotFound

from .. import clock, db
from ..auth.guard import ROLE_RANK
from . import audit
from .common import bp
from .guard import Denied, _csrf_ok, _refuse, can, load_agent
from .security import client_ip

#: The largest body any proxied endpoint takes (an audio upload); each endpoint's own limit
#: is applied before its body is read.
MAX_BODY_BYTES = 31 * 1024 * 1024
#: Longest text of a request or answer kept in an audit entry.
AUDIT_TEXT = 2000


@dataclass(frozen=True)
class Reach:
    """What the console requires for one API endpoint."""

    screen: str
    action: str
    role: str  # the API's own minimum role
    audit: str = ""  # the audit action of a change ("" for reads)


_ADMIN = "admin"
_SV = "supervisor"
ENDPOINTS: dict[str, Reach] = {
    "voice_admin.list_numbers": Reach("numbers", "view", _ADMIN),
    "voice_admin.get_number": Reach("numbers", "view", _ADMIN),
    "voice_admin.create_number": Reach("numbers", "update", _ADMIN, "number.create"),
    "voice_admin.change_number": Reach("numbers", "update", _ADMIN, "number.update"),
    "voice_admin.delete_number": Reach("numbers", "delete", _ADMIN, "number.delete"),
    "voice_admin.list_groups": Reach("numbers", "view", _ADMIN),  # route choices only
    "acd_admin.list_groups": Reach("groups", "view", _SV),
    "acd_admin.get_group": Reach("groups", "view", _SV),
    "acd_admin.create_group": Reach("groups", "update", _ADMIN, "group.create"),
    "acd_admin.change_group": Reach("groups", "update", _ADMIN, "group.update"),
    "voice_admin.delete_group": Reach("groups", "delete", _ADMIN, "group.delete"),
    "voice_admin.list_rules": Reach("number_lists", "view", _ADMIN),
    "voice_admin.add_rule": Reach("number_lists", "update", _ADMIN, "number_list.add"),
    "voice_admin.delete_rule": Reach("number_lists", "delete", _ADMIN, "number_list.delete"),
    "voice_admin.import_rules": Reach("number_lists", "update", _ADMIN, "number_list.import"),
    "flow_admin.list_flows": Reach("flows", "view", _ADMIN),
    "flow_admin.export_flow": Reach("flows", "view", _ADMIN),
    "flow_admin.check_flow": Reach("flows", "view", _ADMIN),  # changes nothing
    "flow_admin.import_flow": Reach("flows", "update", _ADMIN, "flow.import"),
    "flow_admin.delete_flow": Reach("flows", "delete", _ADMIN, "flow.delete"),
    "flow_admin.set_override": Reach("flows", "update", _SV, "flow.override"),
    "flow_admin.clear_override": Reach("flows", "update", _SV, "flow.override_end"),
    "flow_admin.list_audio": Reach("audio", "view", _ADMIN),
    "flow_admin.audio_content": Reach("audio", "view", _ADMIN),
    "flow_admin.upload_audio": Reach("audio", "update", _ADMIN, "audio.upload"),
    "flow_admin.delete_audio": Reach("audio", "delete", _ADMIN, "audio.delete"),
    "flow_voicemail.list_messages": Reach("voicemail", "view", _SV),
    "flow_voicemail.mark_handled": Reach("voicemail", "update", _SV, "voicemail.handled"),
    "flow_voicemail.delete_messages": Reach("voicemail", "delete", _SV, "voicemail.delete"),
    "campaigns_admin.transition": Reach("campaigns", "update", _SV, "campaign.transition"),
}

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@bp.route("/api/admin/<path:rest>", methods=_METHODS, endpoint="admin_api")
def admin_api(rest: str) -> Any:
    return _forward(f"/api/admin/{rest}")


@bp.route("/api/acd/<path:rest>", methods=_METHODS, endpoint="acd_api")
def acd_api(rest: str) -> Any:
    return _forward(f"/api/acd/{rest}")


@bp.route("/api/voicemail", methods=_METHODS, endpoint="voicemail_api", defaults={"rest": ""})
@bp.route("/api/voicemail/<path:rest>", methods=_METHODS, endpoint="voicemail_api")
def voicemail_api(rest: str) -> Any:
    return _forward(f"/api/voicemail/{rest}".rstrip("/"))


@bp.route("/api/campaigns/<path:rest>", methods=_METHODS, endpoint="campaigns_api")
def campaigns_api(rest: str) -> Any:
    return _forward(f"/api/campaigns/{rest}")


admin_api.max_body_bytes = MAX_BODY_BYTES  # type: ignore[attr-defined]
voicemail_api.max_body_bytes = MAX_BODY_BYTES  # type: ignore[attr-defined]


def _forward(path: str) -> Any:
    try:
        load_agent()
        if request.method not in ("GET", "HEAD") and not _csrf_ok():
            raise Denied(403, "csrf")
        endpoint, args = _match(path)
        reach = ENDPOINTS.get(endpoint)
        if reach is None:
            raise NotFound()
        if ROLE_RANK.get(g.agent.role, -1) < ROLE_RANK[reach.role] or not can(
                reach.screen, reach.action):
            raise Denied(403, "not_permitted")
    except Denied as denied:
        return _refuse(denied, api=True)
    view = current_app.view_functions[endpoint]
    limit = getattr(view, "max_body_bytes", None) or current_app.config["MAX_CONTENT_LENGTH"]
    request.max_content_length = limit
    answer = current_app.make_response(view.__wrapped__(**args))  # past its bearer check
    if reach.audit and 200 <= answer.status_code < 300 and not _preview(answer):
        _audit(reach, path, answer)
    return answer


def _preview(answer: Response) -> bool:
    """A dry run (an import's preview) changed nothing, so it is not audited."""
    found = answer.get_json(silent=True) if answer.is_json else None
    return isinstance(found, dict) and found.get("dry_run") is True


def _match(path: str) -> tuple[str, dict[str, Any]]:
    adapter = current_app.url_map.bind("console.local")
    try:
        endpoint, args = adapter.match(path, method=request.method)
    except Exception:  # no such API, or not with this method
        raise NotFound() from None
    return endpoint, args


def _audit(reach: Reach, path: str, answer: Response) -> None:
    details: dict[str, Any] = {"method": request.method, "path": path,
                               "status": answer.status_code}
    sent = request.get_json(silent=True) if request.is_json else None
    if sent is not None:
        details["request"] = _trimmed(sent)
    for name, upload in request.files.items():
        upload.stream.seek(0, 2)
        details.setdefault("files", []).append({"field": name, "name": upload.filename,
                                                "bytes": upload.stream.tell()})
    if sent is None and not request.files and request.content_length:
        details["body_bytes"] = request.content_length
    if answer.is_json:
        details["result"] = _trimmed(answer.get_json(silent=True))
    with db.get_engine().begin() as conn:
        audit.record(conn, at=clock.now(), action=reach.audit, actor_id=g.agent.id,
                     actor=g.agent.username, target=path.removeprefix("/api/"),
                     details=details, ip=client_ip(),
                     user_agent=request.headers.get("User-Agent", ""))


def _trimmed(value: Any) -> Any:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= AUDIT_TEXT else text[:AUDIT_TEXT] + "…"
