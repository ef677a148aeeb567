"""Twilio's requests for the softphone's call control (signed, like every voice webhook).

* ``POST /twilio/voice/softphone/hold-music`` — the hold queue's ``waitUrl``.
* ``POST /twilio/voice/softphone/hold-ended?call=<CallSid>`` — the hold ``<Enqueue>``'s action:
  the caller left the hold queue (hung up, or the bridge after resuming ended).
* ``POST /twilio/voice/softphone/transfer-result?call=<CallSid>`` — a direct transfer's
  ``<Dial>`` action: nobody answered → back on hold for the first agent.
* :func:`outbound_action` — the TwiML App's voice URL (``/twilio/voice/outbound``) hands over
  browser calls carrying ``cti_action`` (``resume``, ``consult``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Blueprint, current_app, request
from sqlalchemy import Connection

from voice import call_control, twiml

from .. import clock, db, presence
from ..auth import accounts
from ..voice import calls as call_records
from ..voice import groups
from ..voice.runtime import WEBHOOK_PREFIX, get_runtime
from ..voice.webhook import twilio_webhook
from . import control_store

log = logging.getLogger("cti.softphone")

PREFIX = "softphone"
bp = Blueprint("softphone_twilio", __name__, url_prefix=f"{WEBHOOK_PREFIX}/{PREFIX}")

#: Parameters a consult or transfer passes on to the target agent's softphone.
CONTEXT_PARAMETERS = ("cti_caller_number", "cti_caller_e164", "cti_caller_name",
                      "cti_caller_company", "cti_matches", "cti_number_label", "cti_group")


def hold_urls(call_sid: str) -> tuple[str, str]:
    """The hold queue's waitUrl and the Enqueue action for call ``call_sid``."""
    runtime = get_runtime()
    return (runtime.url(f"{PREFIX}/hold-music"),
            runtime.url(f"{PREFIX}/hold-ended", call=call_sid))


def transfer_result_url(call_sid: str) -> str:
    return get_runtime().url(f"{PREFIX}/transfer-result", call=call_sid)


@bp.post("/hold-music")
@twilio_webhook()
def hold_music() -> str:
    music = current_app.config["CTI_SETTINGS"].softphone.hold_music_url
    return call_control.hold_music(music, get_runtime().speaker)


@bp.post("/hold-ended")
@twilio_webhook(on_error="empty")
def hold_ended() -> str:
    """The customer left the hold queue for good: hung up, or finished talking after a resume
    or a hold transfer. (A redirect out of the queue does not come here.)"""
    call_sid = request.args.get("call", "")
    with db.get_engine().begin() as conn:
        if control_store.get(conn, call_sid) is not None:
            control_store.change(conn, call_sid, now=clock.now(), state="ended",
                                 last_error="caller_hung_up"
                                 if request.form.get("QueueResult") == "hangup" else None)
    return twiml.empty()


@bp.post("/transfer-result")
@twilio_webhook()
def transfer_result() -> str:
    """A direct transfer's ``<Dial>`` ended: done, or back on hold if nobody answered."""
    call_sid = request.args.get("call", "")
    status = request.form.get("DialCallStatus", "")
    caller_gone = request.form.get("CallStatus") not in ("in-progress", None)
    with db.get_engine().begin() as conn:
        control = control_store.get(conn, call_sid)
        if control is None:
            return twiml.hang_up()
        if status in ("completed", "answered") or caller_gone:
            control_store.change(conn, call_sid, now=clock.now(),
                                 state="transferred" if not caller_gone else "ended")
            return twiml.hang_up()
        control_store.change(conn, call_sid, now=clock.now(), state="held",
                             last_error=f"transfer_{status or 'failed'}")
    wait_url, action_url = hold_urls(call_sid)
    return call_control.back_on_hold(control.queue_name, wait_url, action_url,
                                     get_runtime().speaker)


# -- browser calls through the TwiML App ----------------------------------------------------

def outbound_action(form: Mapping[str, str]) -> str | None:
    """TwiML for a browser call that continues a held call, or ``None`` for an ordinary call.

    ``cti_action=resume&cti_call=<CallSid>`` takes the held caller back;
    ``cti_action=consult&cti_call=<CallSid>`` rings the hold transfer's target. Only the agent
    who holds the call may do either. The browser's new leg is recorded as a leg of the call
    record, so the record stays open until it ends.
    """
    action = form.get("cti_action")
    if not action:
        return None
    identity = form.get("From", "").removeprefix("client:")
    call_sid, leg_sid = form.get("cti_call", ""), form.get("CallSid", "")
    now = clock.now()
    with db.get_engine().begin() as conn:
        agent = accounts.find_agent(conn, identity)
        control = control_store.get(conn, call_sid)
        record = call_records.get_row(conn, call_sid)
        allowed = (agent is not None and control is not None and control.agent_id == agent.id
                   and control.state == "held" and action in ("resume", "consult")
                   and (action == "resume" or control.target is not None))
        if not allowed:
            log.warning("refused a softphone action", extra={"action": action[:20],
                                                              "call_sid": leg_sid})
            return twiml.hang_up()
        assert agent is not None and control is not None
        if record is not None:
            call_records.open_call(
                conn, call_sid=leg_sid, direction=record["direction"], leg="agent",
                status=form.get("CallStatus") or "ringing", now=now, parent_call_sid=call_sid,
                agent_id=agent.id, from_number=form.get("From", "")[:64],
                our_number=record["our_number"], customer_number=record["customer_number"])
            call_records.expect_legs(conn, call_sid, 1, now)
        if action == "resume":
            control_store.change(conn, call_sid, now=now, state="active", clear_target=True)
            return call_control.take_from_hold(control.queue_name)
        control_store.change(conn, call_sid, now=now, state="consulting",
                             consult_call_sid=leg_sid)
        return dial_target(conn, control, agent.display_name, mode="warm")


class NobodyToRing(Exception):
    """A group transfer found no available member."""


def dial_target(conn: Connection, control: control_store.Control, from_name: str, *,
                mode: str, action_url: str | None = None,
                status_callback: str | None = None) -> str:
    """Ring a transfer target with the call's context.

    Raises:
        NobodyToRing: the target is a group none of whose members is available.
    """
    target = control.target
    assert target is not None
    if target.kind == "number":
        return call_control.dial_number(target.value, control.our_number, action_url=action_url,
                                        status_callback=status_callback)
    parameters = {k: v for k, v in control.context.items() if k in CONTEXT_PARAMETERS}
    parameters.update(cti_parent_call_sid=control.call_sid, cti_transfer_from=from_name,
                      cti_transfer_mode=mode)
    identities = [target.value]
    if target.kind == "group":
        identities = available_members(conn, target.value)
        if not identities:
            raise NobodyToRing(target.label)
        parameters["cti_group"] = target.label
    return call_control.dial_agents(identities, parameters, action_url=action_url,
                                    status_callback=status_callback)


def available_members(conn: Connection, name: str) -> list[str]:
    """The group's 待機 members, in ring order, at most as many as one ``<Dial>`` rings."""
    group = groups.get_group(conn, name)
    if group is None:
        return []
    ready = set(presence.available_agents(conn, list(group.member_ids)))
    usernames = [u for u, i in zip(group.members, group.member_ids, strict=True) if i in ready]
    return usernames[:twiml.MAX_DIAL_PARTIES]
