"""``/twilio/voice/acd/*``: the webhooks of waiting callers (``?g=<group id>`` on each).

* ``POST /enter?s=<step>`` — after the ring-back before the queue: an agent, else the queue.
* ``POST /wait`` — the ``<Enqueue waitUrl>``, requested at each loop of the wait music: offer
  waiting callers to free agents, notice the caller's time-out, announce position / wait.
* ``POST /key`` — the wait music's ``<Gather>``: the leave key takes the caller to voicemail.
* ``POST /left`` — the ``<Enqueue action>``: the caller left the queue — hung up (abandoned),
  offered (ring the agents), leave key (voicemail) or time-out (the timeout target).
* ``POST /offer`` — where the REST redirect sends a caller offered while waiting.
* ``POST /offered`` — the offer's ``<Dial action>``: answered, or back into the queue.
* ``POST /whisper`` — the agent's ``<Client url>``: the group's whisper.

Nothing slow runs here; the REST redirect of another waiting caller goes out after the answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, request
from sqlalchemy import Connection

from voice import twiml
from voice.acd import queue_twiml

from .. import callstream, clock, db
from ..voice import calls as call_records
from ..voice import groups
from ..voice.cache import Routing
from ..voice.callstate import is_terminal
from ..voice.numbers import PhoneNumber
from ..voice.routing import Caller, Plan
from ..voice.runtime import WEBHOOK_PREFIX, VoiceRuntime, get_runtime
from ..voice.webhook import param, twilio_webhook
from . import get_acd, presence_ops, queueing, route

log = logging.getLogger("cti.acd.queue")

bp = Blueprint("acd_webhooks", __name__, url_prefix=f"{WEBHOOK_PREFIX}/acd")


@dataclass(frozen=True)
class Waiting:
    """What one request knows about its caller."""

    runtime: VoiceRuntime
    routing: Routing
    group: groups.Group
    number: PhoneNumber | None
    caller: Caller
    step: str
    hops: int


def _waiting(conn: Connection) -> Waiting:
    from ..voice.twilio_views import display_number

    runtime = get_runtime()
    routing = runtime.cache.refresh(conn).routing
    group_id = request.args.get("g", "")
    group = next((g for g in routing.groups.values() if str(g.id) == group_id), None)
    if group is None:
        abort(404)  # a group deleted while callers waited: the apology (webhook rules)
    sid = param("CallSid")
    callstream.materialize(conn, sid)  # the caller's record may still be in the Redis stream
    row = call_records.get_row(conn, sid)
    waiter = get_acd().queues.waiter(sid)
    our = row["our_number"] if row else (waiter.number if waiter else "")
    caller = Caller(sid, row["customer_number"] if row else "", display_number(param("From")),
                    (row["customer"] if row else None) or {})
    step = waiter.step if waiter else request.args.get("s", "route")
    return Waiting(runtime, routing, group, routing.numbers.get(our), caller, step,
                   waiter.hops if waiter else 0)


def _answer(conn: Connection, plan: Plan) -> str:
    """Serve ``plan``, noting it on the call record (detail, group, legs dialed)."""
    changes: dict[str, Any] = {}
    if plan.detail:
        changes["detail"] = plan.detail
    if plan.outcome:
        changes["outcome"] = plan.outcome
    if plan.group_id is not None:
        changes["group_id"] = plan.group_id
    sid = param("CallSid")
    if changes:
        queueing.note(conn, sid, **changes)
    call_records.expect_legs(conn, sid, plan.legs, clock.now())
    return plan.twiml


@bp.post("/enter")
@twilio_webhook()
def enter() -> str:
    from ..voice.routing import nobody

    with db.get_engine().begin() as conn:
        w = _waiting(conn)
        if w.number is None:
            return _answer(conn, nobody(w.runtime))
        claimed = route.choose_agents(conn, w.group, w.caller.call_sid)
        if claimed:
            document, legs = route.ring_claimed(w.runtime, w.number, w.caller, w.group, claimed,
                                                w.step)
            return _answer(conn, Plan(document, "", f"{w.step}:group", w.group.id, legs))
        plan = queueing.enter(conn, w.runtime, w.routing, w.number, w.group, w.caller, w.step,
                              hops=w.hops, ring_first=False)
        return _answer(conn, plan or nobody(w.runtime))


@bp.post("/wait")
@twilio_webhook()
def wait() -> str:
    queues = get_acd().queues
    with db.get_engine().begin() as conn:
        w = _waiting(conn)
        sid, group = w.caller.call_sid, w.group
        settings = queueing.settings_of(group)
        offers = queueing.dispatch(conn, group, current=sid)
        queueing.send_offers(group, offers, skip=sid)
        if sid in offers:
            return queue_twiml.leave()  # the action (/left) rings the agents
        waiter = queues.waiter(sid)
        if waiter is None or waiter.state != "waiting":
            # Offered by another process (its redirect is on the way), or unknown here.
            return _pause(1)
        queue_time = _int(param("QueueTime"))
        if queue_time >= settings.max_wait_seconds:
            queues.leave(sid, group.id, "leaving", "timeout")
            return queue_twiml.leave()
        every = settings.announce_every_seconds
        due = waiter.announced < 0 or (every and queue_time - waiter.announced >= every)
        lines: list[str] = []
        if due:
            expected = max(0, _int(param("AvgQueueTime")) - queue_time)
            lines = queue_twiml.announcement(settings.announce,
                                             position=queues.position(sid, group.id),
                                             expected_seconds=expected,
                                             leave_key=settings.leave_key)
            queues.note_announced(sid, queue_time)
            since = 0
        else:
            since = queue_time - waiter.announced
        pause = min(every - since if every else queue_twiml.MAX_PAUSE_SECONDS,
                    settings.max_wait_seconds - queue_time)
        return queue_twiml.wait_document(lines=lines, music=settings.queue_music,
                                         pause_seconds=pause, leave_key=settings.leave_key,
                                         key_url=queueing.url(w.runtime, "key", group),
                                         speaker=w.runtime.speaker)


@bp.post("/key")
@twilio_webhook()
def key() -> str:
    with db.get_engine().begin() as conn:
        w = _waiting(conn)
        settings = queueing.settings_of(w.group)
        if settings.leave_key and param("Digits") == settings.leave_key:
            get_acd().queues.leave(w.caller.call_sid, w.group.id, "leaving", "voicemail")
            return queue_twiml.leave()
    return twiml.empty()  # another key: the wait music goes on


@bp.post("/left")
@twilio_webhook()
def left() -> str:
    from ..voice.routing import nobody

    queues = get_acd().queues
    result = param("QueueResult")
    with db.get_engine().begin() as conn:
        w = _waiting(conn)
        sid, group = w.caller.call_sid, w.group
        if result == "hangup" or is_terminal(param("CallStatus")):
            _abandoned(conn, w)
            return twiml.empty()
        waiter = queues.waiter(sid)
        if w.number is None or waiter is None:
            return _answer(conn, nobody(w.runtime))
        if waiter.state == "offered":
            claimed = get_acd().board.claimed_for(sid)
            if claimed:
                return _answer(conn, queueing.offer_plan(w.runtime, w.number, w.caller, group,
                                                         claimed))
            queues.requeue(sid, group.id)
            return _answer(conn, queueing.back_in_queue(w.runtime, group))
        settings = queueing.settings_of(group)
        if waiter.state == "leaving" and waiter.reason == "voicemail":
            plan = Plan(twiml.voicemail(w.runtime.urls("target"), w.runtime.speaker),
                        "voicemail", "queue:voicemail")
        elif waiter.state == "leaving" and waiter.reason == "timeout":
            plan = queueing.target_plan(conn, w.runtime, w.routing, w.number, w.caller,
                                        settings.timeout, step=w.step, kind="timeout",
                                        hops=w.hops)
        else:  # queue-full, error: Twilio could not keep the caller
            queues.leave(sid, group.id, "leaving", result or "error")
            plan = queueing.target_plan(conn, w.runtime, w.routing, w.number, w.caller,
                                        settings.overflow, step=w.step, kind="overflow",
                                        hops=w.hops)
        return _answer(conn, plan)


@bp.post("/offer")
@twilio_webhook()
def offer() -> str:
    from ..voice.routing import nobody

    with db.get_engine().begin() as conn:
        w = _waiting(conn)
        sid = w.caller.call_sid
        claimed = get_acd().board.claimed_for(sid)
        waiter = get_acd().queues.waiter(sid)
        if w.number is None:
            queueing.release_claimed(conn, sid)
            return _answer(conn, nobody(w.runtime))
        if claimed and waiter is not None and waiter.state == "offered":
            return _answer(conn, queueing.offer_plan(w.runtime, w.number, w.caller, w.group,
                                                     claimed))
        get_acd().queues.requeue(sid, w.group.id)
        return _answer(conn, queueing.back_in_queue(w.runtime, w.group))


@bp.post("/offered")
@twilio_webhook()
def offered() -> str:
    queues = get_acd().queues
    status = param("DialCallStatus")
    with db.get_engine().begin() as conn:
        callstream.materialize(conn, param("CallSid"))
        call_records.note_dial_result(conn, request.form, clock.now())
        w = _waiting(conn)
        sid, group = w.caller.call_sid, w.group
        if status in ("completed", "answered"):
            queues.leave(sid, group.id, "gone", "answered")
            return twiml.hang_up()
        if status == "canceled" or is_terminal(param("CallStatus")):
            _abandoned(conn, w)
            return twiml.hang_up()
        route.release_unanswered(conn, sid, group)
        settings = queueing.settings_of(group)
        waiter = queues.waiter(sid)
        waited_ms = presence_ops.ms(clock.now()) - waiter.since_ms if waiter else 0
        if w.number is not None and waited_ms >= settings.max_wait_seconds * 1000:
            queues.leave(sid, group.id, "leaving", "timeout")  # offers did not end the wait
            return _answer(conn, queueing.target_plan(
                conn, w.runtime, w.routing, w.number, w.caller, settings.timeout, step=w.step,
                kind="timeout", hops=w.hops))
        queues.requeue(sid, group.id)
        offers = queueing.dispatch(conn, group, current=sid)
        queueing.send_offers(group, offers, skip=sid)
        if sid in offers and w.number is not None:
            return _answer(conn, queueing.offer_plan(w.runtime, w.number, w.caller, group,
                                                     offers[sid]))
        return _answer(conn, queueing.back_in_queue(w.runtime, group))


@bp.post("/whisper")
@twilio_webhook()
def whisper() -> str:
    with db.get_engine().connect() as conn:
        routing = get_runtime().cache.refresh(conn).routing
    group = next((g for g in routing.groups.values() if str(g.id) == request.args.get("g")),
                 None)
    if group is None:
        return twiml.empty()
    text = queue_twiml.whisper_text(queueing.settings_of(group).whisper, group.label)
    return queue_twiml.whisper(text, get_runtime().speaker) if text else twiml.empty()


def _abandoned(conn: Connection, w: Waiting) -> None:
    """The caller hung up while waiting or being offered: out of the queue, agents back,
    the call record says so; the agents freed may take the next caller."""
    before = get_acd().queues.leave(w.caller.call_sid, w.group.id, "gone", "hangup")
    if before in ("waiting", "offered"):
        queueing.note(conn, w.caller.call_sid, detail="abandoned", final_too=True)
        log.info("waiting caller hung up", extra={"call_sid": w.caller.call_sid,
                                                  "group": w.group.name})
    queueing.release_claimed(conn, w.caller.call_sid)
    queueing.send_offers(w.group, queueing.dispatch(conn, w.group))


def _pause(seconds: int) -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.pause(length=seconds)
    return str(response)


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0

