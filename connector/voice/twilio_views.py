"""``/twilio/voice/*``: the webhooks Twilio calls (configure them as in ``docs/voice.md``).

* ``POST /inbound`` — a number's Voice URL: block list → ``<Reject>``; unconfigured number →
  announcement; else the number's route, then its fallback.
* ``POST /outbound`` — the TwiML App's Voice URL (calls from the softphone).
* ``POST /dial-action?step=route|fallback|outbound`` — a ``<Dial>`` ended.
* ``POST /voicemail`` — a voicemail was recorded: thank the caller.
* ``POST /status`` — status callbacks (numbers, the TwiML App, dialed legs).
* ``POST /recording`` — recording status callbacks.

Nothing slow runs here: the CRM lookup of the caller (inbound) or of the dialed number
(outbound) has a hard budget (``[voice] lookup_budget_ms``, :mod:`.lookup`) and
the CRM write-back is only handed over (``connector.writeback.call_finished``) after commit.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import replace
from typing import Any

from flask import Blueprint, current_app, request

from voice import numbering, twiml
from voice.number_lists import is_anonymous
from voice.numbering import NumberError

from .. import callstream, clock, db, integrations, json_limits, notify, writeback
from ..auth import accounts
from ..lazy_tx import lazy_begin
from . import calls, channels, charges, numbers, outbound, routing
from .callstate import is_terminal
from .lookup import customer_of
from .read_ahead import read_ahead
from .routing import Caller
from .runtime import WEBHOOK_PREFIX, get_runtime
from .webhook import masked, param, twilio_webhook

log = logging.getLogger("cti.voice")

bp = Blueprint("voice_webhooks", __name__, url_prefix=WEBHOOK_PREFIX)

#: Twilio sends our numbers in E.164 already; anything else is normalised.
_E164 = re.compile(r"\+[1-9]\d{6,14}")
#: Seconds an outside number rings for an outgoing call before the agent hears "no answer".
OUTBOUND_RING_SECONDS = 60
_AFTER_OUTBOUND_DIAL = {"busy": "outbound_busy", "no-answer": "outbound_no_answer",
                        "failed": "outbound_failed"}
_RECORD_KEYS = ("adapter", "id", "type", "name")
#: ``cti_record`` is one flat object of four short strings; anything much larger is not one.
CTI_RECORD_MAX_BYTES = 2048
CTI_RECORD_MAX_DEPTH = 2


@bp.post("/inbound")
@twilio_webhook()
def inbound() -> str:
    runtime, now = get_runtime(), clock.now()
    sid, caller_from, called = param("CallSid"), request.values.get("From"), param("To")
    caller = describe_caller(sid, caller_from)
    our_number = called if _E164.fullmatch(called) else calls.e164_or_empty(called)
    record = {"call_sid": sid, "direction": "inbound", "leg": "customer",
              "status": param("CallStatus") or "ringing", "now": now,
              "from_number": (caller_from or "")[:64], "to_number": called[:64],
              "customer_number": caller.e164, "our_number": our_number}
    # One transaction, opened only if something needs the database (a configuration change,
    # no stream for the call record); its only write comes last, so no lock is held during
    # the CRM lookup. With the stream the record goes to Redis (connector.callstream).
    event = callstream.begin_event(sid)
    ahead = read_ahead(current_app, runtime.cache, caller.e164)
    with lazy_begin(db.get_engine()) as conn:
        config = runtime.cache.refresh(conn, token_read=ahead.token)
        blocked = (config.block.match_e164(caller.e164) if caller.e164
                   else config.block.match(caller_from))
        if blocked is not None:
            callstream.finish_event(conn, event, {**record, "outcome": "rejected",
                                                  "detail": "block_list"})
            log.info("inbound call rejected (block list)",
                     extra=_log_fields(sid, caller_from, called))
            return twiml.reject(runtime.settings.block_reject_reason)
        number = config.routing.numbers.get(our_number)
        if number is None or not number.configured:
            callstream.finish_event(conn, event, {**record, "outcome": "unconfigured",
                                                  "detail": "unconfigured_number"})
            log.warning("inbound call to an unconfigured number",
                        extra=_log_fields(sid, caller_from, called))
            return twiml.say_and_hang_up(twiml.MESSAGES["unconfigured"], runtime.speaker)
        if not channels.get_counter().admit(number.e164, sid, number.max_channels,
                                            channels.now_ms()):
            plan = _over_channel_limit(conn, runtime, config.routing, number, caller)
            callstream.finish_event(conn, event, {
                **record, "customer": caller.customer, "outcome": plan.outcome,
                "detail": plan.detail, "group_id": plan.group_id, "expected_legs": plan.legs})
            log.info("inbound call over the number's channel limit",
                     extra={**_log_fields(sid, caller_from, called), "route": plan.detail})
            return plan.twiml
        caller = Caller(sid, caller.e164, caller.display, customer_of(caller.e164, ahead.index))
        plan = routing.plan_inbound(conn, runtime, config.routing, number, caller)
        callstream.finish_event(conn, event, {
            **record, "customer": caller.customer, "outcome": plan.outcome,
            "detail": plan.detail, "group_id": plan.group_id, "expected_legs": plan.legs})
    if log.isEnabledFor(logging.INFO):
        log.info("inbound call routed", extra={**_log_fields(sid, caller_from, called),
                                               "route": plan.detail})
    integrations.call_event("incoming", sid)
    return plan.twiml


@bp.post("/dial-action")
@twilio_webhook()
def dial_action() -> str:
    runtime, now = get_runtime(), clock.now()
    step, dial_status = request.args.get("step", "route"), param("DialCallStatus")
    if step in ("route", "fallback"):  # the agent's leg moved into the call's conference?
        from ..monitor import bridge

        joined = bridge.caller_joins_if_moving(param("CallSid"), dial_status,
                                               runtime.url("dial-action", step=step))
        if joined is not None:
            return joined
    with db.get_engine().begin() as conn:
        callstream.materialize(conn, param("CallSid"))  # the call record, if still in Redis
        first_time = calls.note_dial_result(conn, request.form, now)
    if step == "outbound":
        message = _AFTER_OUTBOUND_DIAL.get(dial_status)
        return (twiml.say_and_hang_up(twiml.MESSAGES[message], runtime.speaker) if message
                else twiml.hang_up())
    if dial_status == "canceled" or is_terminal(param("CallStatus")):
        return twiml.hang_up()  # the caller has gone; Twilio ignores this answer
    sid = param("CallSid")
    with db.get_engine().begin() as conn:
        config = runtime.cache.refresh(conn)
        row = calls.get_row(conn, sid)
        our_number = row["our_number"] if row else calls.e164_or_empty(param("To"))
        number = config.routing.numbers.get(our_number)
        caller = Caller(sid, row["customer_number"] if row else "",
                        display_number(param("From")), (row["customer"] if row else None) or {})
        plan = routing.plan_after_dial(conn, runtime, config.routing, number, caller, step,
                                       dial_status)
        if row is not None and row["finalized_at"] is None and plan.detail and first_time:
            changes: dict[str, Any] = {"outcome": plan.outcome, "detail": plan.detail}
            if plan.group_id is not None:
                changes["group_id"] = plan.group_id
            calls.update_call(conn, sid, now, **changes)
            calls.expect_legs(conn, sid, plan.legs, now)
    return plan.twiml


@bp.post("/voicemail")
@twilio_webhook()
def voicemail_done() -> str:
    changed = _apply(calls.apply_recording)
    if changed:  # the caller hung up first: the final call's logs get the recording
        writeback.call_updated(changed)
    return twiml.say_and_hang_up(twiml.MESSAGES["voicemail_thanks"], get_runtime().speaker)


@bp.post("/status")
@twilio_webhook(on_error="empty")
def status() -> str:
    finished = _apply(calls.apply_status)
    if param("CallStatus") == "in-progress":  # a leg answered: the call record's, or its parent's
        integrations.call_event("answered", request.values.get("ParentCallSid") or
                                param("CallSid"))
    # Agents' presence follows their legs (connector.acd.events); after the record's commit.
    for hook in current_app.extensions.get("cti.status_hooks", ()):
        hook(request.form)
    if finished:
        log.info("call final; handed to the write-back", extra={"call_sid": finished})
        writeback.call_finished(finished)
        notify.call_final(finished)  # missed calls and voicemails, sent by a worker
        charges.call_final(finished)  # ST-6: the legs' prices, read from Twilio later
    return twiml.empty()


@bp.post("/recording")
@twilio_webhook(on_error="empty")
def recording() -> str:
    # A conference's recording (a call bridged through one for monitoring) is about the
    # conference: the URL names the call it belongs to (connector.monitor.bridge).
    changed = _apply(calls.apply_recording, call=request.args.get("call", ""))
    if changed:  # the call was final already: its CRM logs are written again with the link
        writeback.call_updated(changed)
    return twiml.empty()


@bp.post("/outbound")
@twilio_webhook()
def outbound_call() -> str:
    # Browser calls that continue a held call (the softphone's resume / hold transfer) are
    # answered by the hook that asked for them (``app.extensions["cti.outbound_hooks"]``).
    for hook in current_app.extensions.get("cti.outbound_hooks", ()):
        answer = hook(request.form)
        if answer is not None:
            return answer
    runtime, now = get_runtime(), clock.now()
    sid, from_, to = param("CallSid"), param("From"), request.values.get("To", "")
    identity = from_.removeprefix("client:") if from_.startswith("client:") else ""
    record: dict[str, Any] = {"call_sid": sid, "direction": "outbound", "leg": "agent",
                              "status": param("CallStatus") or "ringing", "now": now,
                              "from_number": from_[:64], "to_number": to.strip()[:64]}
    with db.get_engine().begin() as conn:
        agent = accounts.find_agent(conn, identity) if identity else None
        if agent is None or not agent.active:
            calls.open_call(conn, **record, outcome="refused", detail="unknown_agent")
            log.warning("outbound call from an unknown client refused",
                        extra={"call_sid": sid, "from": from_[:64]})
            return twiml.say_and_hang_up(twiml.MESSAGES["outbound_unknown_agent"],
                                         runtime.speaker)
        decision = outbound.decide(conn, runtime, agent.id, to, param("CallerId") or None)
        destination = decision.destination
        if destination is not None:
            record.update(to_number=destination.dial_string,
                          customer_number=destination.e164 or "")
        # The dialed party is looked up like a caller (index first, live within the budget),
        # so the write-back finds the customer even when the agent typed the number.
        dialed = customer_of(destination.e164 or "") if decision.allowed and destination else {}
        calls.open_call(conn, **record, our_number=decision.caller_id, agent_id=agent.id,
                        customer=_outbound_customer(param("cti_record"), dialed),
                        outcome="" if decision.allowed else "refused",
                        detail="" if decision.allowed else decision.code,
                        expected_legs=1 if decision.allowed else 0)
        number = numbers.get_number(conn, decision.caller_id) if decision.allowed else None
    if not decision.allowed or destination is None:
        log.info("outbound call refused", extra={"call_sid": sid, "code": decision.code,
                                                  "to": masked(to)})
        return twiml.say_and_hang_up(decision.message_ja, runtime.speaker)
    log.info("outbound call", extra={"call_sid": sid, "agent": agent.username,
                                     "to": masked(destination.dial_string)})
    integrations.call_event("click", sid)
    return twiml.dial_number(destination.dial_string, runtime.urls("outbound"),
                             caller_id=decision.caller_id, timeout=OUTBOUND_RING_SECONDS,
                             record=bool(number and number.recording))


# --- helpers ----------------------------------------------------------------------------------

def _over_channel_limit(conn: Any, runtime: Any, config: Any, number: numbers.PhoneNumber,
                        caller: Caller) -> routing.Plan:
    """A call the number has no free channel for: its overflow route, else a busy
    announcement (recorded as ``channel_limit``)."""
    if number.overflow.type != "none":
        caller = Caller(caller.call_sid, caller.e164, caller.display, customer_of(caller.e164))
        plan = routing.plan_route(conn, runtime, config, number, number.overflow, caller,
                                  "overflow")
        if plan is not None:
            return replace(plan, detail=routing.channel_limit_detail(plan.detail))
    return routing.Plan(twiml.say_and_hang_up(twiml.MESSAGES["channel_limit"], runtime.speaker),
                        "channel_limit", "channel_limit")


def describe_caller(call_sid: str, raw: str | None) -> Caller:
    """The caller's E.164 and how the softphone shows them (``090-1234-5678``,
    ``+1 212-555-0100``, 「非通知」), from one parse of ``From``."""
    if is_anonymous(raw):
        return Caller(call_sid, "", routing.WITHHELD_DISPLAY)
    try:
        destination = _parse_number(raw or "")
    except NumberError:
        return Caller(call_sid, "", (raw or "")[:32])
    return Caller(call_sid, destination.e164 or "", destination.display)


#: Callers call again and again (and our own numbers appear on every callback): a parse is
#: pure, so the last few thousand are remembered (about 1 MB); failures are not cached.
_parse_number = functools.lru_cache(maxsize=8192)(numbering.parse_destination)


def display_number(raw: str | None) -> str:
    return describe_caller("", raw).display


def _apply(handler: Any, call: str = "") -> str | None:
    form: Any = request.form
    if call.startswith("CA"):
        form = {**request.form.to_dict(), "CallSid": call}
    with db.get_engine().begin() as conn:
        # A call record still in the stream is written first, so the callback applies to it.
        callstream.materialize(conn, (form.get("CallSid") or "").strip(), param("ParentCallSid"))
        return handler(conn, form, clock.now())


def _outbound_customer(raw_record: str, dialed: dict[str, Any]) -> dict[str, Any]:
    """What an outgoing call's record keeps: the record the agent clicked, if any, and the
    dialed number's matches."""
    clicked = _selected_record(raw_record)
    if not dialed or clicked["selected"] is not None:
        return {**clicked, "matches": dialed.get("matches", [])}
    return dialed


def _selected_record(raw: str) -> dict[str, Any]:
    """The CRM record the agent clicked (``cti_record``), kept for the write-back (SF-3)."""
    selected = None
    if raw:
        problem = ""
        try:
            value = json_limits.loads_bounded(raw, max_bytes=CTI_RECORD_MAX_BYTES,
                                              max_depth=CTI_RECORD_MAX_DEPTH)
        except json_limits.JSONTooComplex as exc:
            value, problem = None, exc.reason
        except ValueError:
            value, problem = None, "not_json"
        if isinstance(value, dict) and all(isinstance(value.get(k, ""), str)
                                           for k in _RECORD_KEYS) and value.get("id"):
            selected = {k: value.get(k, "")[:200] for k in _RECORD_KEYS}
        else:
            # The call goes ahead without the clicked record; the reason says what was wrong.
            log.warning("ignored a malformed cti_record parameter",
                        extra={"field": "cti_record", "problem": problem or "not_a_record",
                               "length": len(raw)})
    return {"name": selected["name"] if selected else "", "company": "", "matches": [],
            "selected": selected}


def _log_fields(sid: str, caller: str | None, called: str) -> dict[str, str]:
    return {"call_sid": sid, "from": masked(caller or ""), "to": masked(called)}
