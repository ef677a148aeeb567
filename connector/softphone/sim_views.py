"""``/api/sim``: the browser side of simulated mode (no Twilio account configured).

The softphone's simulated device (``static/softphone/sim-device.js``) uses these in place of
Twilio's signalling: register the agent's client identity, long-poll events (``incoming``,
``ended``), answer / decline / hang up, connect outgoing calls, and — the demo control — place
a simulated incoming call from a made-up customer. Every route answers 404 when a Twilio
account is configured.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from voice import numbering

from ..auth import current_agent, require_auth
from ..errors import APIError
from ..validation import fields, json_object
from . import simulated

bp = Blueprint("softphone_sim", __name__, url_prefix="/api/sim")

#: Longest a poll waits for an event before answering with none (below proxies' idle limits).
MAX_POLL_SECONDS = 25.0
#: The made-up customer of the demo control.
DEMO_CALLER = "+819012345678"


@bp.before_request
def _only_in_simulated_mode() -> None:
    if "cti.simulated_mode" not in current_app.extensions:
        raise APIError(404, "not_found", "simulated mode is off: a Twilio account is configured")


def _service() -> simulated.SimulatedTwilio:
    return simulated.get(current_app)


@bp.post("/register")
@require_auth()
def register() -> Any:
    identity = current_agent().identity
    service = _service()
    service.register_browser(identity)
    return jsonify({"identity": identity, "cursor": service.events(identity).cursor})


@bp.post("/unregister")
@require_auth()
def unregister() -> Any:
    _service().unregister_browser(current_agent().identity)
    return jsonify({"registered": False})


@bp.get("/events")
@require_auth()
def events() -> Any:
    try:
        after = int(request.args.get("after", "0"))
        wait = min(float(request.args.get("wait", "0")), MAX_POLL_SECONDS)
    except ValueError:
        raise APIError(400, "invalid_query", "after must be an integer, wait a number") from None
    log = _service().events(current_agent().identity)
    found = log.after(after, wait=max(wait, 0.0))
    return jsonify({"events": found, "cursor": found[-1]["seq"] if found else after})


@bp.post("/calls/<call_sid>/<action>")
@require_auth()
def act_on_call(call_sid: str, action: str) -> Any:
    service = _service()
    identity = current_agent().identity
    if action == "hangup" and service.ringing_call(identity, call_sid) is None:
        # The browser's own outgoing call (or an answered one the endpoint no longer tracks).
        return jsonify({"done": service.hang_up(call_sid)})
    call = service.ringing_call(identity, call_sid)
    if call is None:
        raise APIError(404, "not_found", f"no call {call_sid} for this softphone")
    actions = {"answer": call.answer, "decline": call.decline, "hangup": call.hangup}
    if action not in actions:
        raise APIError(404, "not_found", f"unknown action {action!r}")
    actions[action]()
    return jsonify({"done": True})


@bp.post("/connect")
@require_auth()
def connect() -> Any:
    body = fields(json_object(), {"params": dict})
    params = {str(k): str(v) for k, v in body["params"].items()}
    call_sid = _service().connect(current_agent().identity, params)
    return jsonify({"call_sid": call_sid})


@bp.get("/numbers")
@require_auth()
def numbers() -> Any:
    return jsonify({"numbers": _service().sync_numbers()})


@bp.post("/incoming")
@require_auth()
def place_incoming() -> Any:
    """The demo control: a made-up customer calls one of our numbers."""
    body = fields(json_object(), {}, {"from": str, "to": str, "caller_name": str})
    service = _service()
    ours = service.sync_numbers()
    to = body.get("to") or (ours[0] if ours else "")
    if not to or to not in ours:
        raise APIError(409, "no_number", "電話番号が登録されていません。管理者が番号を登録すると"
                       "模擬着信を発生させられます。 (No phone number is configured.)")
    try:
        caller = numbering.normalize(body.get("from") or DEMO_CALLER)
    except numbering.NumberError as exc:
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": {"from": exc.message_en}}) from None
    call_sid = service.place_incoming(caller, to, body.get("caller_name"))
    return jsonify({"call_sid": call_sid, "from": caller, "to": to})


@bp.post("/calls/<call_sid>/caller-hangup")
@require_auth()
def caller_hangup(call_sid: str) -> Any:
    """The simulated customer hangs up."""
    return jsonify({"done": _service().hang_up(call_sid)})
