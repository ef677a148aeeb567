"""Waiting callers (SPEC CF-5, CF-6): into a group's queue, offered to the next free agent,
out to the overflow or timeout target.

* :func:`enter` — routing found nobody free for a caller of the group: ring-back first
  (``ring_before_queue_seconds``), then the queue (``<Enqueue>``, :mod:`voice.acd.queue_twiml`)
  — or the overflow target when ``max_waiting`` callers already wait. Nobody on duty (every
  member signed out, away or paused), or the free members all let this caller ring out:
  ``None``, the number's fallback, as before queues.
* :func:`dispatch` — offer the group's waiting callers, first come first served, to the
  members its strategy prefers, each offer one atomic step (:meth:`.waiting.WaitingQueues.
  offer`). It runs whenever an agent may have become free (a call ended, an offer was not
  taken, an agent chose 待機) and on every wait-music loop (which notices a lapsed 後処理).
* :func:`send_offers` — a caller offered while their wait music plays is taken out of the
  Twilio queue by a REST redirect to ``/twilio/voice/acd/offer`` (Calls API ``Url``), whose
  answer rings the claimed agents with the caller's ``<Parameter>``\\ s. The redirect goes
  out after the webhook has answered and its transaction committed.
* :func:`target_plan` — overflow and timeout: another group, an agent, voicemail, an outside
  number or an announcement; none set: the number's fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from flask import after_this_request, current_app, has_request_context
from sqlalchemy import Connection
from twilio.base.exceptions import TwilioRestException

from voice import twiml
from voice.acd import queue_twiml, strategies
from voice.acd.settings import GroupSettings, Target

from .. import clock, presence
from ..voice import calls as call_records
from ..voice import groups
from ..voice.cache import Routing
from ..voice.numbers import PhoneNumber, Route
from ..voice.runtime import VoiceRuntime, get_runtime
from . import get_acd, presence_ops, route
from .presence_ops import ms

log = logging.getLogger("cti.acd.queue")

#: Members in these statuses are on duty: a group with none of them takes no waiting callers.
ON_DUTY = ("available", "ringing", "on_call", "hold", "acw")
#: Overflow / timeout moves one caller may make (a chain of groups must end somewhere).
MAX_HOPS = 3
#: Callers offered in one dispatch at most (each needs a free agent anyway).
DISPATCH_LIMIT = 10
Offers = dict[str, list[int]]


def url(runtime: VoiceRuntime, name: str, group: groups.Group) -> str:
    return runtime.url(f"acd/{name}", g=str(group.id))


def settings_of(group: groups.Group) -> GroupSettings:
    return route.settings_of(group)


# --- into the queue ------------------------------------------------------------------------------

def enter(conn: Connection, runtime: VoiceRuntime, routing: Routing, number: PhoneNumber,
          group: groups.Group, caller, step: str, *, hops: int = 0,  # type: ignore[no-untyped-def]
          ring_first: bool = True):
    """The plan for a caller of ``group`` nobody can take now (``None``: nobody on duty)."""
    from ..voice.routing import Plan

    acd, now = get_acd(), clock.now()
    settings = settings_of(group)
    live = presence_ops.retry_loaded(conn, acd.board,
                                     lambda: acd.board.live(group.member_ids, ms(now)))
    if not any(a.status in ON_DUTY for a in live):
        return None
    free = {a.agent_id for a in live if a.free}
    if free and free <= route.tried(acd.board, caller.call_sid):
        return None  # the free members had their turn and let it ring: the fallback
    if settings.max_waiting == 0:
        return target_plan(conn, runtime, routing, number, caller, settings.overflow,
                           step=step, kind="overflow", hops=hops)
    if ring_first and settings.ring_before_queue_seconds and not route.tried(
            acd.board, caller.call_sid):
        document = queue_twiml.ring_first(settings.ring_before_queue_seconds,
                                          runtime.url("acd/enter", g=str(group.id), s=step))
        return Plan(document, "", f"{step}:group", group.id)
    position = acd.queues.join(caller.call_sid, group.id, now_ms=ms(now),
                               max_waiting=settings.max_waiting, number=number.e164,
                               step=step, hops=hops,
                               priority=acd.queues.priority_of(caller.call_sid))
    if position == 0:
        return target_plan(conn, runtime, routing, number, caller, settings.overflow,
                           step=step, kind="overflow", hops=hops)
    log.info("caller waits", extra={"call_sid": caller.call_sid, "group": group.name,
                                    "position": position})
    offers = dispatch(conn, group, current=caller.call_sid)
    send_offers(group, offers, skip=caller.call_sid)
    if caller.call_sid in offers:
        return offer_plan(runtime, number, caller, group, offers[caller.call_sid])
    return Plan(queue_twiml.enqueue(group.id, wait_url=url(runtime, "wait", group),
                                    action_url=url(runtime, "left", group),
                                    greeting=settings.greeting, speaker=runtime.speaker),
                "", f"{step}:queue", group.id)


def back_in_queue(runtime: VoiceRuntime, group: groups.Group):  # type: ignore[no-untyped-def]
    """The TwiML that puts an offered caller back (no greeting again)."""
    from ..voice.routing import Plan

    return Plan(queue_twiml.enqueue(group.id, wait_url=url(runtime, "wait", group),
                                    action_url=url(runtime, "left", group),
                                    speaker=runtime.speaker), "", "", group.id)


def offer_plan(runtime: VoiceRuntime, number: PhoneNumber, caller, group: groups.Group,  # type: ignore[no-untyped-def]
               agent_ids: list[int]):
    """Ring the agents claimed for a waiting caller; the dial reports to ``/acd/offered``."""
    from ..voice.routing import Plan

    urls = replace(runtime.urls("route"), dial_action=url(runtime, "offered", group))
    document, legs = route.ring_claimed(runtime, number, caller, group, agent_ids, "route",
                                        urls=urls)
    return Plan(document, "", "", group.id, legs)


# --- offering -----------------------------------------------------------------------------------

def dispatch(conn: Connection, group: groups.Group, *, current: str | None = None) -> Offers:
    """Offer the group's waiting callers to its free members (first come, first served)."""
    acd, now = get_acd(), clock.now()
    board, queues = acd.board, acd.queues
    settings = settings_of(group)
    at_once = twiml.MAX_DIAL_PARTIES if strategies.rings_at_once(settings.strategy) else 1
    offers: Offers = {}
    for _ in range(DISPATCH_LIMIT):
        head = queues.head(group.id)
        if not head:
            break
        call_sid = head[0]
        ordered = _candidates(conn, group, settings, call_sid, now)
        if not ordered:
            break
        got = presence_ops.retry_loaded(conn, board, lambda sid=call_sid, o=ordered: queues.offer(
            sid, group.id, o, max_agents=at_once, ttl_ms=(settings.ring_seconds + 30) * 1000,
            now_ms=ms(now)))
        if got is None:
            continue  # taken or gone meanwhile: look at the new first caller
        if not got:
            break
        for agent_id in got:
            presence.set_status(conn, agent_id, "ringing", now=now, call_sid=call_sid,
                                group_id=group.id)
        route.remember_tried(board, call_sid, got)
        offers[call_sid] = got
        log.info("waiting caller offered", extra={"call_sid": call_sid, "group": group.name,
                                                  "agents": got})
    return offers


def _candidates(conn: Connection, group: groups.Group, settings: GroupSettings, call_sid: str,
                now) -> list[int]:  # type: ignore[no-untyped-def]
    """The free members for this caller, best first. Members who already let this caller
    ring out come last in a new round, when nobody else is free."""
    acd = get_acd()
    board = acd.board
    seen = route.view(conn, board, group, call_sid, now)
    live, tried = seen.members, seen.tried
    if settings.max_active and sum(a.status in ("on_call", "hold") for a in live) >= (
            settings.max_active):
        return []
    context = strategies.Context(last_agent_id=seen.last_rung, rng=acd.rng)

    def ordered(skip: set[int]) -> list[int]:
        candidates = [strategies.Candidate(a.agent_id, position, a.free, a.idle_since_ms,
                                           a.talk_ms_today, group.skill_at(position))
                      for position, a in enumerate(live) if a.agent_id not in skip]
        return strategies.order(settings.strategy, candidates, context)

    fresh = ordered(tried)
    if fresh or not tried:
        return fresh
    route.forget_tried(board, call_sid)
    return ordered(set())


def dispatch_for_agent(conn: Connection, agent_id: int) -> list[tuple[groups.Group, Offers]]:
    """An agent may be free: dispatch the groups they belong to, the one whose first caller
    has waited longest first."""
    routing = get_runtime().cache.refresh(conn).routing
    mine = {g.id: g for g in routing.groups.values() if agent_id in g.member_ids}
    if not mine:
        return []
    heads = get_acd().queues.heads(sorted(mine))
    done = []
    for group_id in sorted(heads, key=heads.__getitem__):
        offers = dispatch(conn, mine[group_id])
        if offers:
            done.append((mine[group_id], offers))
    return done


def send_offers(group: groups.Group, offers: Offers, *, skip: str | None = None) -> None:
    """Take the offered callers out of Twilio's queue (after this request's answer)."""
    pending = [sid for sid in offers if sid != skip]
    if not pending:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def send() -> None:
        with app.app_context():
            for call_sid in pending:
                _redirect(group, call_sid)

    _after_answer(send)


def _after_answer(action: Callable[[], None]) -> None:
    """Run ``action`` once the response is sent (and the request's transaction committed);
    outside a request, at once."""
    if not has_request_context():
        action()
        return

    @after_this_request
    def hook(response):  # type: ignore[no-untyped-def]
        response.call_on_close(action)
        return response


def _redirect(group: groups.Group, call_sid: str) -> None:
    from ..softphone import twilio_rest

    runtime = get_runtime()
    try:
        twilio_rest.rest_client().calls(call_sid).update(url=url(runtime, "offer", group),
                                                         method="POST")
    except TwilioRestException as exc:
        gone = exc.status == 404 or exc.code in (20404, 21220)
        log.warning("could not take a waiting caller out of the queue",
                    extra={"call_sid": call_sid, "code": exc.code, "caller_gone": gone})
        _offer_failed(group, call_sid, gone=gone)
    except Exception:  # noqa: BLE001 - the agents must not stay claimed for nobody
        log.exception("could not take a waiting caller out of the queue",
                      extra={"call_sid": call_sid})
        _offer_failed(group, call_sid, gone=False)


def _offer_failed(group: groups.Group, call_sid: str, *, gone: bool) -> None:
    """The redirect failed: the agents go back; the caller is abandoned (gone) or waits."""
    from .. import db

    acd = get_acd()
    with db.get_engine().begin() as conn:
        if gone:
            acd.queues.leave(call_sid, group.id, "gone", "hangup")
            note(conn, call_sid, detail="abandoned", final_too=True)
        else:
            acd.queues.requeue(call_sid, group.id)
        release_claimed(conn, call_sid)
        offers = dispatch(conn, group)
    send_offers(group, offers)


def release_claimed(conn: Connection, call_sid: str) -> None:
    """Agents still rung for this caller go back, uncounted (the caller left)."""
    board, now = get_acd().board, clock.now()
    for agent_id in board.claimed_for(call_sid):
        presence_ops.rang_out(conn, board, agent_id, call_sid, now=now, settings=None,
                              counted=False)


def note(conn: Connection, call_sid: str, *, final_too: bool = False,  # type: ignore[no-untyped-def]
         **changes) -> None:
    """Change the caller's call record while it is not final (``final_too``: also after —
    an abandoned caller's record is final already when the queue learns they hung up; the
    status webhook hands it to the write-back only after its hooks ran)."""
    row = call_records.get_row(conn, call_sid)
    if row is not None and (final_too or row["finalized_at"] is None):
        call_records.update_call(conn, call_sid, clock.now(), **changes)


# --- out of the queue ---------------------------------------------------------------------------

def target_plan(conn: Connection, runtime: VoiceRuntime, routing: Routing,  # type: ignore[no-untyped-def]
                number: PhoneNumber, caller, target: Target | None, *, step: str, kind: str,
                hops: int):
    """Where an overflowing (``kind`` "overflow") or timed-out ("timeout") caller goes."""
    from ..voice import routing as voice_routing

    plan = None
    if hops >= MAX_HOPS:
        log.warning("caller moved between groups too often", extra={"call_sid": caller.call_sid})
    elif target is None:
        if step == "route":
            plan = voice_routing.plan_route(conn, runtime, routing, number, number.fallback,
                                            caller, "fallback")
    elif target.type == "announcement":
        plan = voice_routing.Plan(twiml.say_and_hang_up(target.value, runtime.speaker), "", "")
    elif target.type == "group":
        group = routing.groups.get(target.value)
        if group is not None:
            plan = voice_routing.route_to_group(conn, runtime, number, group, caller,
                                                "target:group", hops=hops + 1)
    else:
        value = "" if target.type == "voicemail" else target.value
        plan = voice_routing.plan_route(conn, runtime, routing, number,
                                        Route(target.type, value), caller, "target")
    plan = plan or voice_routing.nobody(runtime)
    log.info("caller sent to the %s target", kind,
             extra={"call_sid": caller.call_sid, "target": target.type if target else "fallback"})
    return replace(plan, detail=kind)
