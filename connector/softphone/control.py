"""``/api/calls/<CallSid>/…``: hold, resume and transfer from the softphone (SPEC SP-4, SP-5).

``<CallSid>`` is the call record's CallSid — the one the softphone shows and wraps up. Each
route acts on the customer's leg through Twilio's REST API (the simulator's in embedded mode);
the TwiML comes from :mod:`voice.call_control`. See docs/softphone.md, "How hold and transfer
work".

* ``POST …/hold`` — the caller hears hold music; the agent's leg ends.
* ``POST …/unhold`` — answers ``connect_params`` for ``Device.connect()``, which takes the
  caller back.
* ``POST …/transfer`` ``{mode: "cold"|"warm", target: {kind, value}, context}`` — direct
  transfer now, or (warm) hold and answer ``connect_params`` for the consult call.
* ``POST …/transfer/complete`` and ``…/transfer/cancel`` — finish or abandon a hold transfer.
* ``POST …/hangup`` — end a call whose caller is on hold.
* ``GET /api/calls/control`` — the agent's held and transferring calls.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import select
from twilio.base.exceptions import TwilioRestException

from voice import call_control, dialing_rules, numbering

from .. import clock, db, presence
from ..acd import get_acd, presence_ops
from ..auth import accounts as account_store
from ..auth import current_agent, require_auth
from ..auth.guard import ROLE_RANK
from ..errors import APIError
from ..messages import Text
from ..schema import agent_presence
from ..validation import fields, json_object
from ..voice import calls as call_records
from ..voice import groups
from ..voice.runtime import get_runtime
from . import control_store, legs, twilio_rest, webhooks
from .control_store import Control, Target

bp = Blueprint("softphone_control", __name__, url_prefix="/api/calls")

MAX_CONTEXT_VALUE = 2000


def _leg_error(exc: legs.LegError) -> APIError:
    return APIError(exc.status, exc.code, Text.of(exc))


def _refuse(status: int, code: str, message_ja: str, message_en: str) -> APIError:
    return _leg_error(legs.LegError(status, code, message_ja, message_en))


def _context(body: dict[str, Any]) -> dict[str, str]:
    raw = body.get("context") or {}
    context = {k: v for k, v in raw.items() if k in webhooks.CONTEXT_PARAMETERS}
    bad = {k: f"a string of at most {MAX_CONTEXT_VALUE} characters" for k, v in context.items()
           if not isinstance(v, str) or len(v) > MAX_CONTEXT_VALUE}
    if bad:
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": {f"context.{k}": v for k, v in bad.items()}})
    return context


def _my_control(call_sid: str) -> Control | None:
    """The call's control row, if any; refused when it belongs to someone else."""
    with db.get_engine().connect() as conn:
        control = control_store.get(conn, call_sid)
    agent = current_agent()
    if control and control.agent_id != agent.id and ROLE_RANK[agent.role] < 1:
        raise _leg_error(legs.not_yours())
    return control


def _set_presence(status: str, call_sid: str) -> None:
    """The agent's call was held (保留) or handed on (後処理): the server records it."""
    agent = current_agent()
    with db.get_engine().begin() as conn:
        presence_ops.held(conn, get_acd().board, agent.id, call_sid, status, now=clock.now())


def _customer_leg(call_sid: str, control: Control | None) -> legs.CustomerLeg:
    """The leg to move: known from an earlier hold, else found through Twilio."""
    if control is not None:
        return legs.CustomerLeg(control.customer_call_sid, control.our_number)
    agent = current_agent()
    try:
        return legs.customer_leg(twilio_rest.rest_client(), call_sid, agent.identity,
                                 check_owner=ROLE_RANK[agent.role] < 1)
    except legs.LegError as exc:
        raise _leg_error(exc) from None


def _hold(call_sid: str, leg: legs.CustomerLeg, context: dict[str, str]) -> Control:
    queue = call_control.hold_queue_name(call_sid)
    wait_url, action_url = webhooks.hold_urls(call_sid)
    # 保留 before the redirect: it ends the agent's leg, and that leg's "completed" callback
    # must find the agent holding, not talking (else it starts after-call work under the hold).
    _set_presence("hold", call_sid)
    try:
        legs.redirect(twilio_rest.rest_client(), leg.sid,
                      call_control.hold(queue, wait_url, action_url))
    except legs.LegError as exc:
        _set_presence("on_call", call_sid)  # still talking: the customer was not moved
        raise _leg_error(exc) from None
    with db.get_engine().begin() as conn:
        held = control_store.start_hold(
            conn, call_sid=call_sid, customer_call_sid=leg.sid, agent_id=current_agent().id,
            queue_name=queue, our_number=leg.our_number, context=context, now=clock.now())
    return held


@bp.post("/<call_sid>/hold")
@require_auth()
def hold(call_sid: str) -> Any:
    body = fields(json_object(), {}, {"context": dict})
    control = _my_control(call_sid)
    if control is not None and control.state in control_store.OPEN_STATES:
        return jsonify(control.public())  # already held: holding twice changes nothing
    leg = _customer_leg(call_sid, control)
    return jsonify(_hold(call_sid, leg, _context(body)).public())


@bp.post("/<call_sid>/unhold")
@require_auth()
def unhold(call_sid: str) -> Any:
    control = _my_control(call_sid)
    if control is None or control.state != "held":
        raise _refuse(409, "not_held", "この通話は保留中ではありません。",
                      "The call is not on hold.")
    return jsonify({**control.public(),
                    "connect_params": {"cti_action": "resume", "cti_call": call_sid}})


def _resolve_target(raw: dict[str, Any], our_number: str) -> Target:
    body = fields(raw, {"kind": str, "value": str})
    kind, value = body["kind"], body["value"].strip()
    if kind == "agent":
        return _agent_target(value)
    if kind == "number":
        return _number_target(value, our_number)
    if kind == "group":
        return _group_target(value)
    raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                   {"fields": {"target.kind": "one of agent, group, number"}})


def _agent_target(username: str) -> Target:
    with db.get_engine().connect() as conn:
        agent = account_store.find_agent(conn, username)
        status = conn.execute(select(agent_presence.c.status).where(
            agent_presence.c.agent_id == agent.id)).scalar() if agent else None
    if agent is None or not agent.active:
        raise _refuse(404, "unknown_target", "転送先のオペレーターが見つかりません。",
                      "No such agent.")
    if agent.id == current_agent().id:
        raise _refuse(422, "transfer_to_self", "自分自身には転送できません。",
                      "You cannot transfer a call to yourself.")
    if status in (None, "offline"):
        raise _refuse(409, "target_offline", f"{agent.display_name} さんはオフラインです。",
                      f"{agent.display_name} is offline.")
    return Target("agent", agent.identity, agent.display_name)


def _number_target(text: str, our_number: str) -> Target:
    try:
        destination = numbering.parse_outbound(text)
    except numbering.NumberError as exc:
        raise _refuse(422, exc.code, exc.message_ja, exc.message_en) from None
    verdict = dialing_rules.check_outbound(our_number, destination)
    if not verdict.allowed:
        raise _refuse(422, verdict.code, verdict.message_ja, verdict.message_en)
    return Target("number", destination.dial_string, destination.display)


def _group_target(name: str) -> Target:
    with db.get_engine().connect() as conn:
        group = groups.get_group(conn, name)
        members = webhooks.available_members(conn, name) if group else []
    if group is None:
        raise _refuse(404, "unknown_target", "転送先のグループが見つかりません。", "No such group.")
    if not members:
        raise _refuse(409, "target_offline",
                      f"グループ「{group.label}」に待機中のオペレーターがいません。",
                      f"Nobody in the group {group.label} is available.")
    return Target("group", group.name, group.label)


@bp.post("/<call_sid>/transfer")
@require_auth()
def transfer(call_sid: str) -> Any:
    body = fields(json_object(), {"mode": str, "target": dict}, {"context": dict})
    if body["mode"] not in ("cold", "warm"):
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": {"mode": "cold (direct) or warm (hold transfer)"}})
    control = _my_control(call_sid)
    if control is not None and control.state in ("consulting", "transferring"):
        raise _refuse(409, "transfer_in_progress", "転送の処理中です。",
                      "A transfer is in progress.")
    context = _context(body)
    leg = _customer_leg(call_sid, control)
    target = _resolve_target(body["target"], leg.our_number)
    if body["mode"] == "warm" and target.kind == "group":
        raise _refuse(422, "warm_transfer_to_group",
                      "グループへは保留転送できません。直接転送を使ってください。",
                      "Hold transfer to a group is not possible; use a direct transfer.")
    if control is None or control.state != "held":
        control = _hold(call_sid, leg, context)
    control = _record_change(call_sid, target=target, last_error="")
    if body["mode"] == "warm":
        return jsonify({**control.public(),
                        "connect_params": {"cti_action": "consult", "cti_call": call_sid}})
    # An incoming call's record is the customer's leg itself: the target's leg is reported to
    # the voice core's status callback and recorded as a leg of the call.
    inbound = control.customer_call_sid == call_sid
    runtime = get_runtime()
    with db.get_engine().begin() as conn:
        try:
            response = webhooks.dial_target(
                conn, control, current_agent().display_name, mode="cold",
                action_url=webhooks.transfer_result_url(call_sid),
                status_callback=runtime.url("status") if inbound else None)
        except webhooks.NobodyToRing as exc:
            raise _refuse(409, "target_offline",
                          f"グループ「{exc}」に待機中のオペレーターがいません。",
                          f"Nobody in the group {exc} is available.") from None
    try:
        legs.redirect(twilio_rest.rest_client(), control.customer_call_sid, response)
    except legs.LegError as exc:
        raise _leg_error(exc) from None
    if inbound:
        with db.get_engine().begin() as conn:
            call_records.expect_legs(conn, call_sid, response.count("<Client") +
                                     response.count("<Number"), clock.now())
    control = _record_change(call_sid, state="transferring")
    _set_presence("acw", call_sid)
    return jsonify(control.public())


@bp.post("/<call_sid>/transfer/complete")
@require_auth()
def complete_transfer(call_sid: str) -> Any:
    control = _my_control(call_sid)
    if control is None or control.state != "consulting" or not control.consult_call_sid:
        raise _refuse(409, "not_consulting", "保留転送の通話中ではありません。",
                      "No hold transfer is in progress.")
    client = twilio_rest.rest_client()
    try:
        target_legs = legs.live_children(client, control.consult_call_sid)
    except TwilioRestException as exc:
        raise _leg_error(legs.twilio_failure(exc)) from None
    if not target_legs:
        raise _refuse(409, "target_not_connected", "転送先がまだ応答していません。",
                      "The transfer target has not answered yet.")
    try:
        legs.redirect(client, target_legs[0].sid, call_control.take_from_hold(control.queue_name))
    except legs.LegError as exc:
        raise _leg_error(exc) from None
    control = _record_change(call_sid, state="transferred")
    return jsonify(control.public())


@bp.post("/<call_sid>/transfer/cancel")
@require_auth()
def cancel_transfer(call_sid: str) -> Any:
    control = _my_control(call_sid)
    if control is None or control.state not in ("consulting", "held"):
        raise _refuse(409, "not_consulting", "保留転送の通話中ではありません。",
                      "No hold transfer is in progress.")
    if control.state == "consulting" and control.consult_call_sid:
        try:
            legs.hang_up(twilio_rest.rest_client(), control.consult_call_sid)
        except legs.LegError as exc:
            raise _leg_error(exc) from None
    control = _record_change(call_sid, state="held", clear_target=True)
    return jsonify(control.public())


@bp.post("/<call_sid>/hangup")
@require_auth()
def hang_up_held(call_sid: str) -> Any:
    """End a call whose caller waits on hold (the agent has no leg of their own to hang up)."""
    control = _my_control(call_sid)
    if control is None or control.state not in control_store.OPEN_STATES:
        raise _refuse(409, "not_held", "この通話は保留中ではありません。",
                      "The call is not on hold.")
    try:
        legs.hang_up(twilio_rest.rest_client(), control.customer_call_sid)
        if control.consult_call_sid:
            legs.hang_up(twilio_rest.rest_client(), control.consult_call_sid)
    except legs.LegError as exc:
        raise _leg_error(exc) from None
    control = _record_change(call_sid, state="ended")
    return jsonify(control.public())


def _record_change(call_sid: str, **changes: Any) -> control_store.Control:
    """Store a change of the call's control state and return the state as it now is."""
    with db.get_engine().begin() as conn:
        control_store.change(conn, call_sid, now=clock.now(), **changes)
        control = control_store.get(conn, call_sid)
    assert control is not None  # changes are only made to calls whose control exists
    return control


@bp.get("/control")
@require_auth()
def my_controls() -> Any:
    with db.get_engine().connect() as conn:
        found = control_store.open_for_agent(conn, current_agent().id)
    return jsonify({"calls": [c.public() for c in found]})


@bp.get("/transfer-targets")
@require_auth()
def transfer_targets() -> Any:
    """Agents (with status) and groups a call may be transferred to."""
    me = current_agent().id
    with db.get_engine().connect() as conn:
        statuses = {r.agent_id: r.status for r in conn.execute(
            select(agent_presence.c.agent_id, agent_presence.c.status))}
        agents = [{"value": a.username, "label": a.display_name,
                   "status": statuses.get(a.id, "offline"),
                   "status_label": presence.LABELS_JA[statuses.get(a.id, "offline")]}
                  for a in account_store.list_agents(conn) if a.active and a.id != me]
        found = [{"value": g.name, "label": g.label,
                  "available": len(webhooks.available_members(conn, g.name))}
                 for g in groups.list_groups(conn)]
    return jsonify({"agents": agents, "groups": found})
