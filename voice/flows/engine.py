"""Running a flow: from a node (and the caller's key) to what the caller hears next.

Nodes that decide instantly — schedule, CRM branch, set-variable — and announcements are
followed within one webhook; the walk stops at a node that needs the caller (a menu), that
connects the call (group, agent, transfer), records (voicemail) or ends it (hang-up). What
the call has collected so far travels as :class:`State` in the next webhook's URL, so any
process can continue any call without shared memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from voice.flows import calendar
from voice.flows.model import DEFAULT_RETRY_TEXT, Flow, Node

#: Nodes one webhook may pass before giving up (``cti flow check`` rules loops out already).
MAX_STEPS = 50
DEFAULT_MENU_TIMEOUT = 5
DEFAULT_MENU_RETRIES = 2
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


@dataclass(frozen=True)
class State:
    """Where a call is in its flow and what it carries."""

    node: str
    retry: int = 0  # menus: how many times the prompt was repeated
    vars: Mapping[str, str] = field(default_factory=dict)
    visits: Mapping[str, int] = field(default_factory=dict)  # nodes with max_visits only


@dataclass(frozen=True)
class Override:
    """A temporary "本日は臨時休業" on a schedule node: go to ``goto`` until ``until``."""

    goto: str
    until: datetime
    note: str = ""


@dataclass(frozen=True)
class Context:
    """What a flow's decisions read about the call and the moment."""

    now: datetime  # aware
    calendar: calendar.HolidayCalendar
    caller: str = ""  # the caller's number as shown (090-1234-5678)
    caller_e164: str = ""
    customer: Mapping[str, Any] = field(default_factory=dict)  # the call record's lookup
    overrides: Mapping[str, Override] = field(default_factory=dict)  # by schedule node


@dataclass(frozen=True)
class Prompt:
    """Something the caller hears: text-to-speech or an uploaded audio file."""

    text: str = ""
    audio: str = ""
    voice: str = ""  # "" = the flow's or the deployment's voice
    loop: int = 1


@dataclass(frozen=True)
class Gather:
    """Wait for a key (or words) at ``node``; the prompt plays during the wait."""

    node: str
    prompt: Prompt
    timeout: int
    speech: bool


@dataclass(frozen=True)
class Connect:
    """Ring a group or an agent, or transfer (``kind``); on failure continue at ``next``."""

    kind: str
    target: str
    node: str
    next: str = ""
    caller_id: str = ""
    priority: int = 0  # in the group's queue: 0–9, higher offered first


@dataclass(frozen=True)
class Voicemail:
    node: str
    greeting: Prompt | None
    max_seconds: int
    box: str = ""  # the box's name in the voicemail history (default: the node's label or ID)
    notify: tuple[str, ...] = ()  # e-mail addresses told of each message


@dataclass(frozen=True)
class Lookup:
    """Find a record in a CRM app (``field`` = ``value``); continue with :func:`after_lookup`."""

    node: str
    crm: str
    app: str
    field: str
    value: str


@dataclass(frozen=True)
class Update:
    """Update or add the record of ``app`` whose ``key_field`` is ``key`` — done later, by a
    background job, so the caller never waits for it."""

    crm: str
    app: str
    key_field: str
    key: str
    values: Mapping[str, str]


@dataclass(frozen=True)
class SendSms:
    """Send an SMS (a template by name, or a text) to the caller, or to ``to`` — by a
    background job, so the caller never waits for it."""

    template: str
    body: str
    to: str


@dataclass(frozen=True)
class Hangup:
    reason: str = ""  # "" normal end; "loop", "limit" when the flow stopped itself


Action = Gather | Connect | Voicemail | Lookup | Hangup


@dataclass(frozen=True)
class Result:
    prompts: tuple[Prompt, ...]
    action: Action
    state: State
    path: tuple[str, ...]  # the nodes passed, for the call record and `cti simulate`
    effects: tuple[Update | SendSms, ...] = ()  # CRM writes and SMS to hand to the worker


def start(flow: Flow, ctx: Context, entry: str = "") -> Result:
    """The first answer of a call entering ``flow`` (at ``entry``, default the flow's)."""
    return run(flow, State(entry or flow.entry), ctx)


def run(flow: Flow, state: State, ctx: Context) -> Result:
    """Walk from ``state.node`` to the next node that needs the caller or the network."""
    prompts: list[Prompt] = []
    path: list[str] = []
    effects: list[Update | SendSms] = []
    for _ in range(MAX_STEPS):
        node = flow.node(state.node)
        path.append(node.id)
        limit = node.get("max_visits")
        if limit:
            visits = {**state.visits, node.id: state.visits.get(node.id, 0) + 1}
            state = replace(state, visits=visits)
            if visits[node.id] > limit:
                if node.get("on_limit"):
                    state = replace(state, node=node.get("on_limit"), retry=0)
                    continue
                return Result(tuple(prompts), Hangup("limit"), state, tuple(path),
                              tuple(effects))
        step = _step(flow, node, state, ctx, prompts, effects)
        if isinstance(step, State):
            state = step
            continue
        return Result(tuple(prompts), step, state, tuple(path), tuple(effects))
    return Result(tuple(prompts), Hangup("loop"), state, tuple(path), tuple(effects))


def answer(flow: Flow, state: State, ctx: Context, digits: str = "",
           speech: str = "") -> Result:
    """The menu at ``state.node`` got ``digits`` (or ``speech``, or nothing)."""
    node = flow.node(state.node)
    target = node.get("keys", {}).get(digits[:1]) if digits else None
    if target is None and speech:
        target = next((t for word, t in node.get("speech", {}).items() if word in speech), None)
    if target is not None:
        return run(flow, replace(state, node=target, retry=0), ctx)
    if state.retry < node.get("retries", DEFAULT_MENU_RETRIES):
        again = replace(state, retry=state.retry + 1)
        retry = Prompt(text=_merge(node.get("retry_say", DEFAULT_RETRY_TEXT), state, ctx),
                       voice=node.get("voice", ""))
        return Result((retry,), _gather(node, state, ctx), again, (node.id,))
    if node.get("default"):
        return run(flow, replace(state, node=node.get("default"), retry=0), ctx)
    return Result((), Hangup("no_input"), state, (node.id,))


def after_lookup(flow: Flow, state: State, ctx: Context,
                 record: Mapping[str, Any] | None) -> Result:
    """A :class:`Lookup` found ``record`` (``then``, its ``save`` fields kept) or nothing
    (``else``; also when the CRM did not answer within the budget)."""
    node = flow.node(state.node)
    if record is None:
        return run(flow, replace(state, node=node.get("else")), ctx)
    saved = {name: str(record.get(code, "") or "")[:200]
             for name, code in node.get("save", {}).items()}
    return run(flow, replace(state, node=node.get("then"), vars={**state.vars, **saved}), ctx)


def after_connect(flow: Flow, state: State, ctx: Context) -> Result | None:
    """A group, agent or transfer found nobody or nobody answered: its ``next``, if any."""
    following = flow.node(state.node).get("next")
    return run(flow, replace(state, node=following, retry=0), ctx) if following else None


def _step(flow: Flow, node: Node, state: State, ctx: Context, prompts: list[Prompt],
          effects: list[Update | SendSms]) -> State | Action:
    kind = node.kind
    if kind == "lookup":
        return Lookup(node.id, node.get("crm"), node.get("app"), node.get("field"),
                      _merge(node.get("value", "{caller}"), state, ctx))
    if kind == "update":
        effects.append(Update(node.get("crm"), node.get("app"), node.get("key_field"),
                              _merge(node.get("key", "{caller}"), state, ctx),
                              {k: _merge(v, state, ctx) for k, v in node.get("values").items()}))
        return replace(state, node=node.get("next"))
    if kind == "sms":
        effects.append(SendSms(node.get("template", ""),
                               _merge(node.get("body", ""), state, ctx),
                               _merge(node.get("to", ""), state, ctx)))
        return replace(state, node=node.get("next"))
    if kind == "schedule":
        return replace(state, node=schedule_target(flow, node, ctx))
    if kind == "set":
        values = {k: _merge(v, state, ctx) for k, v in node.get("values").items()}
        return replace(state, node=node.get("next"), vars={**state.vars, **values})
    if kind == "crm":
        return replace(state, node=node.get("then") if crm_test(node, ctx) else node.get("else"))
    if kind in ("announcement", "hangup"):
        prompt = _prompt(node, state, ctx)
        if prompt is not None:
            prompts.append(prompt)
        following = node.get("next") if kind == "announcement" else None
        return replace(state, node=following) if following else Hangup()
    if kind == "menu":
        return _gather(node, state, ctx)
    if kind == "group":
        return Connect(kind, node.get(kind), node.id, node.get("next", ""),
                       priority=node.get("priority", 0))
    if kind == "agent":
        return Connect(kind, node.get(kind), node.id, node.get("next", ""))
    if kind == "transfer":
        return Connect(kind, node.get("number"), node.id, node.get("next", ""),
                       node.get("caller_id", ""))
    if kind == "voicemail":
        return Voicemail(node.id, _prompt(node, state, ctx), node.get("max_seconds", 3600),
                         node.get("box") or node.get("label") or node.id,
                         tuple(node.get("notify", ())))
    raise ValueError(f"node {node.id!r}: unknown kind {kind!r}")


def _gather(node: Node, state: State, ctx: Context) -> Gather:
    prompt = _prompt(node, state, ctx)
    assert prompt is not None  # a menu has say or audio (model checks)
    return Gather(node.id, prompt, node.get("timeout", DEFAULT_MENU_TIMEOUT),
                  bool(node.get("speech")))


def _prompt(node: Node, state: State, ctx: Context) -> Prompt | None:
    if node.get("audio"):
        return Prompt(audio=node.get("audio"), loop=node.get("loop", 1))
    if node.get("say"):
        return Prompt(text=_merge(node.get("say"), state, ctx), voice=node.get("voice", ""),
                      loop=node.get("loop", 1))
    return None


def schedule_target(flow: Flow, node: Node, ctx: Context) -> str:
    """The node a schedule sends the call to now: an unexpired override, the first matching
    rule, else the default."""
    override = ctx.overrides.get(node.id)
    if override is not None and ctx.now < override.until:
        return override.goto
    local = calendar.local_time(ctx.now, ZoneInfo(node.get("timezone", flow.timezone)))
    company = [calendar.parse_day_spec(d) for d in node.get("company_days", ())]
    public = node.get("holidays", True)
    for rule in node.get("rules", ()):
        if calendar.rule_matches(rule, local, ctx.calendar, company, public):
            return rule.goto
    return node.get("default")


def crm_test(node: Node, ctx: Context) -> bool:
    """A CRM branch, answered from the lookup the call already made (no CRM request)."""
    matches = list(ctx.customer.get("matches") or ())
    if node.get("crm"):
        matches = [m for m in matches if m.get("adapter") == node.get("crm")]
    if node.get("test") == "known":
        return bool(matches)
    if not matches:
        return False
    value = str(matches[0].get(node.get("field"), "") or "")
    if "equals" in node.fields:
        return value == node.get("equals")
    return node.get("contains") in value


def variables(state: State, ctx: Context) -> dict[str, str]:
    """What announcement texts may merge: the caller's CRM record, the number, set values."""
    customer = ctx.customer or {}
    return {"name": customer.get("name", "") or "", "company": customer.get("company", "") or "",
            "caller": ctx.caller, "caller_e164": ctx.caller_e164, **state.vars}


def _merge(text: str, state: State, ctx: Context) -> str:
    values = variables(state, ctx)
    return _PLACEHOLDER.sub(lambda m: values.get(m[1], m[0]), text)
