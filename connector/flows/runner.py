"""A call in a flow: from an engine step to the TwiML Twilio gets and the call record's plan.

Entry: a number whose route is ``flow:<name>`` (or ``flow:<name>:<node>``) —
``connector.voice.routing.plan_route`` hands it here. Groups and agents are rung through
that same ``plan_route`` (so when groups become ACD queues, flows use them unchanged); only
the ``<Dial action>`` is pointed back at the flow, which then continues at the node's
``next``. Where a call is travels in the webhook URLs as a signed state token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import replace
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from flask import current_app, has_request_context, request
from sqlalchemy import Connection

from voice import numbering, twiml
from voice.flows import engine, render
from voice.flows.engine import (
    Connect,
    Context,
    Gather,
    Hangup,
    Lookup,
    Result,
    SendSms,
    State,
    Update,
    Voicemail,
)
from voice.numbering import NumberError
from voice.simulator.cli import SIMULATED_TIME_PARAM
from voice.twiml import Urls

from .. import clock
from ..voice import routing
from ..voice.cache import Routing
from ..voice.numbers import PhoneNumber, Route
from ..voice.routing import Caller, Plan
from ..voice.runtime import VoiceRuntime, get_runtime
from . import audio_urls, crm_steps
from .cache import FlowCache
from .store import StoredFlow

log = logging.getLogger("cti.flows")

#: The ``step`` the group/agent dial of a flow is planned with; its action URL is replaced.
DIAL_STEP = "flow"
#: The provisional outcome while the caller is in the IVR (a menu, a closing announcement):
#: if the call ends there it stays ``ivr`` (``connector.voice.callstate``), so it is neither
#: a missed nor an abandoned call, and ``connector.notify`` reports it as ``ivr_handled``.
IVR = "ivr"
#: How many lookups, or group/agent nodes finding nobody, one answer may go through.
MAX_ROUNDS = 10


class BadState(ValueError):
    """A state token that was not made by this deployment (or was changed)."""


def flow_cache(app: Any = None) -> FlowCache:
    return (app or current_app).extensions["cti.flows"]


# --- the state token -----------------------------------------------------------------------

def encode_state(runtime: VoiceRuntime, stored: StoredFlow, state: State) -> str:
    data: dict[str, Any] = {"n": state.node}
    if state.retry:
        data["r"] = state.retry
    if state.vars:
        data["v"] = dict(state.vars)
    if state.visits:
        data["c"] = dict(state.visits)
    payload = base64.urlsafe_b64encode(json.dumps(
        data, separators=(",", ":"), ensure_ascii=False).encode()).rstrip(b"=").decode()
    return f"{payload}.{_signature(runtime, stored.flow.name, stored.version, payload)}"


def decode_state(runtime: VoiceRuntime, name: str, version: int, token: str) -> State:
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(signature, _signature(runtime, name, version, payload)):
        raise BadState("the flow state's signature does not match")
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return State(str(data["n"]), int(data.get("r", 0)), dict(data.get("v", {})),
                     {str(k): int(v) for k, v in data.get("c", {}).items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BadState("the flow state cannot be read") from None


def _signature(runtime: VoiceRuntime, name: str, version: int, payload: str) -> str:
    key = runtime.auth_token.reveal().encode()
    digest = hmac.new(key, f"flow-state|{name}|{version}|{payload}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:18]).decode()


def flow_url(runtime: VoiceRuntime, event: str, stored: StoredFlow, state: State) -> str:
    return runtime.url(f"flow/{event}", f=stored.flow.name, v=str(stored.version),
                       s=encode_state(runtime, stored, state))


# --- planning -----------------------------------------------------------------------------

def context(stored: StoredFlow, caller: Caller) -> Context:
    cache = flow_cache()  # refreshed when the webhook loaded the flow
    overrides = cache.snapshot.overrides.get(stored.flow.name, {})
    return Context(decision_time(), cache.calendar, caller=caller.display,
                   caller_e164=caller.e164, customer=caller.customer or {},
                   overrides=overrides)


def decision_time() -> datetime:
    """"Now" for schedules: the app's clock — or, in simulator mode only, the time a
    ``cti simulate --at`` call says (signed with the simulator's token; Twilio never sends
    that parameter, and in Twilio mode it is ignored)."""
    now = clock.now()
    if get_runtime().mode != "simulator" or not has_request_context():
        return now
    text = request.values.get(SIMULATED_TIME_PARAM, "")
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        moment = None
    return moment if moment is not None and moment.tzinfo is not None else now


def plan_entry(conn: Connection, runtime: VoiceRuntime, config: Routing, number: PhoneNumber,
               route: Route, caller: Caller) -> Plan | None:
    """The first answer of a call on a number routed to a flow (``None``: no such flow)."""
    name, _, entry = route.target.partition(":")
    stored = flow_cache().flow(conn, name)
    if stored is None or (entry and entry not in stored.flow.nodes):
        log.error("number routed to a missing flow or node", extra={"flow": route.target})
        return None
    result = engine.start(stored.flow, context(stored, caller), entry)
    return realize(conn, runtime, config, number, caller, stored, result)


def realize(conn: Connection, runtime: VoiceRuntime, config: Routing, number: PhoneNumber,
            caller: Caller, stored: StoredFlow, result: Result, tries: int = 0) -> Plan:
    """The TwiML (and call-record plan) of one engine result."""
    if result.effects:
        _hand_off(result.effects, caller, number)
        result = replace(result, effects=())
    action = result.action
    if isinstance(action, Lookup) and tries < MAX_ROUNDS:
        found = crm_steps.match(action)
        following = engine.after_lookup(stored.flow, result.state, context(stored, caller),
                                        found)
        following = replace(following, prompts=result.prompts + following.prompts)
        return realize(conn, runtime, config, number, caller, stored, following, tries + 1)
    speaker = flow_speaker(runtime, stored)
    audio = audio_urls.signer(runtime)
    action, detail = result.action, f"flow:{stored.flow.name}:{result.state.node}"[:64]
    if isinstance(action, Gather):
        url = flow_url(runtime, "gather", stored, result.state)
        return Plan(render.gather(result.prompts, action, url, speaker, audio), IVR, detail)
    if isinstance(action, Voicemail):
        url = flow_url(runtime, "voicemail", stored, result.state)
        document = render.voicemail(result.prompts, action, action=url,
                                    recording=runtime.url("recording"), speaker=speaker,
                                    audio_url=audio,
                                    default_greeting=twiml.MESSAGES["voicemail_greeting"])
        return Plan(document, "voicemail", detail)
    if isinstance(action, Hangup | Lookup):
        return Plan(render.hang_up(result.prompts, speaker, audio), IVR, detail)
    plan = _connect(conn, runtime, config, number, caller, stored, result.state, action)
    if plan is not None:
        return replace(plan, twiml=render.before(plan.twiml, result.prompts, speaker, audio),
                       detail=detail)
    following = engine.after_connect(stored.flow, result.state, context(stored, caller))
    if following is None or tries >= MAX_ROUNDS:
        return replace(routing.nobody(runtime), detail=detail)
    following = replace(following, prompts=result.prompts + following.prompts)
    return realize(conn, runtime, config, number, caller, stored, following, tries + 1)


def _hand_off(effects: tuple[Update | SendSms, ...], caller: Caller,
              number: PhoneNumber) -> None:
    """Give the flow's CRM writes and SMS to the workers (queued, never done on the line)."""
    from .. import sms

    crm_steps.queue_updates(tuple(e for e in effects if isinstance(e, Update)))
    for message in (e for e in effects if isinstance(e, SendSms)):
        sms.send_from_flow(caller.call_sid, to=message.to, template=message.template,
                           body=message.body, our_number=number.e164)


def flow_speaker(runtime: VoiceRuntime, stored: StoredFlow) -> twiml.Speaker:
    speaker = runtime.speaker
    return replace(speaker, voice=stored.flow.voice) if stored.flow.voice else speaker


def _connect(conn: Connection, runtime: VoiceRuntime, config: Routing, number: PhoneNumber,
             caller: Caller, stored: StoredFlow, state: State, action: Connect) -> Plan | None:
    back = flow_url(runtime, "dial", stored, state)
    if action.kind == "transfer":
        return _transfer(runtime, number, action, back)
    if action.priority:  # the caller's place in any queue they wait in (connector.acd.waiting)
        from ..acd import get_acd

        get_acd().queues.set_priority(caller.call_sid, action.priority)
    plan = routing.plan_route(conn, runtime, config, number, Route(action.kind, action.target),
                              caller, DIAL_STEP)
    if plan is None:
        return None
    ours = escape(runtime.url("dial-action", step=DIAL_STEP), {'"': "&quot;"})
    if ours not in plan.twiml:
        # Routing answered with something else than a <Dial> reporting to dial-action (a
        # queue, say): the call then continues as a number route would, without `next`.
        log.info("group/agent answer has no dial action to redirect; flow's next not used",
                 extra={"node": action.node})
        return plan
    return replace(plan, twiml=plan.twiml.replace(ours, escape(back, {'"': "&quot;"})))


def _transfer(runtime: VoiceRuntime, number: PhoneNumber, action: Connect,
              back: str) -> Plan | None:
    """CF-8: an outside number, shown the called number or another of ours."""
    try:
        destination = numbering.parse_destination(action.target)
        caller_id = (number.e164 if action.caller_id in ("", "called")
                     else numbering.normalize(action.caller_id))
    except NumberError:
        log.error("flow transfer to an unusable number", extra={"node": action.node})
        return None
    urls = Urls(status=runtime.url("status"), dial_action=back,
                recording=runtime.url("recording"), voicemail=runtime.url("voicemail"))
    document = twiml.dial_number(destination.dial_string, urls, caller_id=caller_id,
                                 timeout=runtime.settings.ring_timeout, record=number.recording)
    return Plan(document, "", "", legs=1)
