"""Twilio's requests for the softphone's call control (all signed with ``X-Twilio-Signature``).

* ``POST /twilio/voice/softphone/hold-music`` — the hold queue's ``waitUrl``.
* ``POST /twilio/voice/softphone/hold-ended?call=<CallSid>`` — the hold ``<Enqueue>``'s action:
  the caller left the hold queue (hung up, or the bridge after resuming ended).
* ``POST /twilio/voice/softphone/transfer-result?call=<CallSid>`` — a direct transfer's
  ``<Dial>`` action: nobody answered → back on hold for the first agent.
* :func:`outbound_action` — called by the TwiML App's voice URL (``/twilio/voice/outbound``)
  for browser calls carrying ``cti_action`` (``resume``, ``consult``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, request
from twilio.twiml.voice_response import VoiceResponse

from voice import call_control
from voice.signature import SIGNATURE_HEADER, validate_signature

from .. import clock, db
from ..auth import accounts
from ..errors import APIError
from . import control_store, simulated

log = logging.getLogger("cti.softphone")

bp = Blueprint("softphone_twilio", __name__, url_prefix="/twilio/voice/softphone")

#: Parameters a consult or transfer passes on to the target agent's softphone.
CONTEXT_PARAMETERS = ("cti_caller_number", "cti_caller_e164", "cti_caller_name",
                      "cti_caller_company", "cti_matches", "cti_number_label", "cti_group")


def twilio_auth_token(app: Flask) -> str:
    settings = app.config["CTI_SETTINGS"].twilio
    if settings.configured:
        return settings.auth_token.reveal()
    return simulated.simulator_auth_token(app.config["SECRET_KEY"])


def public_url(path: str, **query: str) -> str:
    base = current_app.config["CTI_SETTINGS"].server.public_base_url
    return base + path + ("?" + urlencode(query) if query else "")


def require_twilio_signature(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse requests not signed by Twilio, checked against the configured public URL."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        url = public_url(request.path) + (
            "?" + request.query_string.decode() if request.query_string else "")
        if not validate_signature(url, request.form, request.headers.get(SIGNATURE_HEADER),
                                  twilio_auth_token(current_app)):
            raise APIError(403, "invalid_signature", "X-Twilio-Signature does not match")
        return view(*args, **kwargs)
    return wrapper


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def hold_urls(call_sid: str) -> tuple[str, str]:
    """The hold queue's waitUrl and the Enqueue action for call ``call_sid``."""
    return (public_url(bp.url_prefix + "/hold-music"),
            public_url(bp.url_prefix + "/hold-ended", call=call_sid))


def transfer_result_url(call_sid: str) -> str:
    return public_url(bp.url_prefix + "/transfer-result", call=call_sid)


@bp.post("/hold-music")
@require_twilio_signature
def hold_music() -> Response:
    return twiml(call_control.hold_music(current_app.config["CTI_SETTINGS"].softphone
                                         .hold_music_url))


@bp.post("/hold-ended")
@require_twilio_signature
def hold_ended() -> Response:
    """The customer left the hold queue for good: hung up, or finished talking after a resume
    or a hold transfer. (A redirect out of the queue does not come here.)"""
    call_sid = request.args.get("call", "")
    with db.get_engine().begin() as conn:
        if control_store.get(conn, call_sid) is not None:
            control_store.change(conn, call_sid, now=clock.now(), state="ended",
                                 last_error="caller_hung_up"
                                 if request.form.get("QueueResult") == "hangup" else None)
    return twiml(call_control.empty())


@bp.post("/transfer-result")
@require_twilio_signature
def transfer_result() -> Response:
    """A direct transfer's ``<Dial>`` ended: done, or back on hold if nobody answered."""
    call_sid = request.args.get("call", "")
    status = request.form.get("DialCallStatus", "")
    caller_gone = request.form.get("CallStatus") not in ("in-progress", None)
    with db.get_engine().begin() as conn:
        control = control_store.get(conn, call_sid)
        if control is None:
            return twiml(call_control.hang_up())
        if status in ("completed", "answered") or caller_gone:
            control_store.change(conn, call_sid, now=clock.now(),
                                 state="transferred" if not caller_gone else "ended")
            return twiml(call_control.hang_up())
        control_store.change(conn, call_sid, now=clock.now(), state="held",
                             last_error=f"transfer_{status or 'failed'}")
    wait_url, action_url = hold_urls(call_sid)
    return twiml(call_control.back_on_hold(control.queue_name, wait_url, action_url))


# -- browser calls through the TwiML App ----------------------------------------------------

def outbound_action(form: Mapping[str, str]) -> VoiceResponse | None:
    """TwiML for a browser call that continues a held call, or ``None`` for an ordinary call.

    ``cti_action=resume&cti_call=<CallSid>`` takes the held caller back;
    ``cti_action=consult&cti_call=<CallSid>`` rings the hold transfer's target.
    Only the agent who holds the call may do either.
    """
    action = form.get("cti_action")
    if not action:
        return None
    identity = form.get("From", "").removeprefix("client:")
    call_sid = form.get("cti_call", "")
    now = clock.now()
    with db.get_engine().begin() as conn:
        agent = accounts.find_agent(conn, identity)
        control = control_store.get(conn, call_sid)
        if (agent is None or control is None or control.agent_id != agent.id
                or control.state != "held"):
            log.warning("refused softphone action", extra={"action": action})
            return call_control.hang_up()
        if action == "resume":
            control_store.change(conn, call_sid, now=now, state="active", clear_target=True)
            return call_control.take_from_hold(control.queue_name)
        if action == "consult" and control.target is not None:
            control_store.change(conn, call_sid, now=now, state="consulting",
                                 consult_call_sid=form.get("CallSid", ""))
            return dial_target(control, agent.display_name, mode="warm")
    return call_control.hang_up()


def dial_target(control: control_store.Control, from_name: str, *, mode: str,
                action_url: str | None = None) -> VoiceResponse:
    """Ring a transfer target with the call's context."""
    target = control.target
    assert target is not None
    if target.kind == "number":
        return call_control.dial_number(target.value, control.our_number, action_url=action_url)
    if target.kind == "group":
        return call_control.redirect(target.value)
    parameters = {k: v for k, v in control.context.items() if k in CONTEXT_PARAMETERS}
    parameters.update(cti_parent_call_sid=control.call_sid, cti_transfer_from=from_name,
                      cti_transfer_mode=mode)
    return call_control.dial_agent(target.value, parameters, action_url=action_url)
