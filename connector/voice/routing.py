"""Where an incoming call goes: the number's route, then its fallback (SPEC CF-1, CF-7, CF-8).

Pure decisions on what the database says (numbers, groups, presence); the webhook views turn
a :class:`Plan` into a response and a call record. Only *available* (待機) agents are rung,
claimed atomically through the ACD (``connector.acd.route``); a route that finds nobody gives
way to the fallback at once, and a ``<Dial>`` nobody answers gives way to it through the dial
action — for a group, after each further free member had their turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection

from crm_adapters.base import Customer
from voice import twiml
from voice.client_params import CallerInfo, Match, client_parameters
from voice.twiml import ClientRing

from ..acd import route as acd_route
from . import groups
from .cache import Routing
from .numbers import PhoneNumber, Route
from .runtime import VoiceRuntime

#: How many lookup matches the call record keeps (the softphone gets what fits, see
#: :mod:`voice.client_params`).
STORED_MATCHES = 20
WITHHELD_DISPLAY = "非通知"


@dataclass(frozen=True)
class Caller:
    """The calling party, as routes need it."""

    call_sid: str
    e164: str  # "" when withheld or not a valid number
    display: str
    customer: dict[str, Any] = field(default_factory=dict)  # see customer_summary()


@dataclass(frozen=True)
class Plan:
    """What to answer Twilio, and what to note on the call record."""

    twiml: str
    outcome: str = ""  # provisional: "voicemail", "missed"
    detail: str = ""  # how it was routed, e.g. "route:group", "fallback:voicemail"
    group_id: int | None = None
    legs: int = 0  # how many legs the TwiML dials


def customer_summary(customers: list[Customer]) -> dict[str, Any]:
    """The caller lookup as stored on the call record (``calls.customer``)."""
    matches = [{"adapter": c.adapter, "id": c.record_id, "type": c.object_type,
                "name": c.display_name, "company": c.company, "url": c.url}
               for c in customers[:STORED_MATCHES]]
    best = customers[0] if customers else None
    return {"name": best.display_name if best else "", "company": best.company if best else "",
            "matches": matches, "selected": None}


def plan_inbound(conn: Connection, runtime: VoiceRuntime, routing: Routing,
                 number: PhoneNumber, caller: Caller) -> Plan:
    """The first answer to a call on a configured number."""
    return (plan_route(conn, runtime, routing, number, number.route, caller, "route")
            or plan_route(conn, runtime, routing, number, number.fallback, caller, "fallback")
            or nobody(runtime))


def plan_after_dial(conn: Connection, runtime: VoiceRuntime, routing: Routing,
                    number: PhoneNumber | None, caller: Caller, step: str,
                    dial_status: str) -> Plan:
    """The answer to a ``<Dial>`` action: done, or the fallback if nobody answered."""
    plan = _after_dial(conn, runtime, routing, number, caller, step, dial_status)
    if step == "overflow" and plan.detail:  # the call record keeps saying why it overflowed
        return replace(plan, detail=channel_limit_detail(plan.detail))
    return plan


def channel_limit_detail(detail: str) -> str:
    """The call record's ``detail`` of a call over its number's channels (``calls.detail``
    holds 64 characters; a flow's node may not leave room for the prefix)."""
    return f"channel_limit:{detail}"[:64]


def _after_dial(conn: Connection, runtime: VoiceRuntime, routing: Routing,
                number: PhoneNumber | None, caller: Caller, step: str,
                dial_status: str) -> Plan:
    if dial_status in ("completed", "answered"):
        return Plan(twiml.hang_up())
    if number is not None and step in ("route", "fallback", "overflow"):
        # "overflow": the route of calls over the number's max channels (connector.voice.channels)
        route = {"route": number.route, "fallback": number.fallback,
                 "overflow": number.overflow}[step]
        group = routing.groups.get(route.target) if route.type == "group" else None
        if route.type in ("group", "agent"):
            acd_route.release_unanswered(conn, caller.call_sid, group)
        if group is not None:  # the next free member's turn, or the group's queue
            again = route_to_group(conn, runtime, number, group, caller, f"{step}:group",
                                   routing=routing)
            if again is not None:
                return again
    if step == "route" and number is not None:
        plan = plan_route(conn, runtime, routing, number, number.fallback, caller, "fallback")
        if plan is not None:
            return plan
    return nobody(runtime)


def nobody(runtime: VoiceRuntime) -> Plan:
    return Plan(twiml.say_and_hang_up(twiml.MESSAGES["no_agent"], runtime.speaker), "missed",
                "nobody_available")


def plan_route(conn: Connection, runtime: VoiceRuntime, routing: Routing, number: PhoneNumber,
               route: Route, caller: Caller, step: str) -> Plan | None:
    """The plan for one route, or ``None`` when it finds nobody to ring.

    Numbers, groups and user IDs come from the cached ``routing``; only presence is read
    live (one query).
    """
    if route.type == "flow":  # call flows (connector.flows) plan their own answers
        from ..flows.runner import plan_entry

        return plan_entry(conn, runtime, routing, number, route, caller)
    detail = f"{step}:{route.type}"
    urls = runtime.urls(step)
    if route.type == "voicemail":
        return Plan(twiml.voicemail(urls, runtime.speaker), "voicemail", detail)
    if route.type == "external":
        caller_id = number.transfer_caller_id or number.e164
        return Plan(twiml.dial_number(route.target, urls, caller_id=caller_id,
                                      timeout=runtime.settings.ring_timeout,
                                      record=number.recording), "", detail, legs=1)
    if route.type == "agent":
        agent_id = routing.agent_ids.get(route.target)
        claimed = acd_route.claim_agent(conn, agent_id, caller.call_sid) if agent_id else []
        return _ring(runtime, number, caller, [route.target] if claimed else [], detail, None)
    if route.type == "group":
        group = routing.groups.get(route.target)
        if group is None:
            return None
        return route_to_group(conn, runtime, number, group, caller, detail, routing=routing)
    return None


def route_to_group(conn: Connection, runtime: VoiceRuntime, number: PhoneNumber,
                   group: groups.Group, caller: Caller, detail: str, *,
                   routing: Routing | None = None, hops: int = 0) -> Plan | None:
    """Route this caller to group ``group`` (the ACD: strategy, atomic claim, else the
    group's queue, ``connector.acd.queueing``); ``None`` when nobody of the group is on duty.
    The one entry point for group routes (numbers, IVR flows, overflow targets)."""
    claimed = acd_route.choose_agents(conn, group, caller.call_sid)
    if not claimed:
        from ..acd import queueing

        config = routing or runtime.cache.refresh(conn).routing
        return queueing.enter(conn, runtime, config, number, group, caller,
                              detail.split(":")[0], hops=hops)
    document, legs = acd_route.ring_claimed(runtime, number, caller, group, claimed, detail)
    return Plan(document, "", detail, group.id, legs)


def _ring(runtime: VoiceRuntime, number: PhoneNumber, caller: Caller, usernames: list[str],
          detail: str, group: groups.Group | None) -> Plan | None:
    if not usernames:
        return None
    info = caller_info(caller, number, group)
    parameters = client_parameters(info)
    rings = [ClientRing(u, parameters) for u in usernames[:twiml.MAX_DIAL_PARTIES]]
    document = twiml.ring_clients(rings, runtime.urls(detail.split(":")[0]),
                                  timeout=runtime.settings.ring_timeout, record=number.recording)
    return Plan(document, "", detail, group.id if group else None, len(rings))


def caller_info(caller: Caller, number: PhoneNumber, group: groups.Group | None) -> CallerInfo:
    customer = caller.customer or {}
    matches = [Match(m.get("adapter", ""), m.get("id", ""), m.get("type", ""),
                     m.get("name", ""), m.get("url", "")) for m in customer.get("matches", [])]
    return CallerInfo(caller.call_sid, caller.display, caller.e164, customer.get("name", ""),
                      customer.get("company", ""), matches, line_name(number),
                      (group.display_name or group.name) if group else "")


def line_name(number: PhoneNumber) -> str:
    """What the agent's softphone shows as the called line (``cti_number_label``): the
    number's display name (端末表示名) if set, else its label, else the number."""
    return number.caller_id_name or number.label or number.display
