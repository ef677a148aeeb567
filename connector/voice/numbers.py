"""Our phone numbers and where their calls go (SPEC CF-1, CF-8), and who may use them as
caller ID (SP-3).

A number's *route* is one of:

* ``agent:<username>`` — ring that agent's browser (when available);
* ``group:<name>`` — ring the group's available agents at once (ring-all; the ACD comes later);
* ``voicemail`` — CF-7;
* ``external:<number>`` — transfer to an outside number (CF-8) with ``transfer_caller_id``,
  or the called number when that is empty;
* ``flow:<name>`` (or ``flow:<name>:<node>``) — the call flow's entry node (docs/call-flows.md);
* ``none`` — not configured: callers hear a polite announcement.

Its *fallback* (same forms) takes over when the route finds nobody available or nobody
answers; a fallback that fails too ends the call with an apology.

Per-number settings (seed 002 電話番号詳細): ``max_channels`` — how many calls the number
carries at once (0: no limit; counted in Redis, :mod:`.channels`), with ``overflow`` (same
forms; ``none`` = a busy announcement) for the calls over it; ``caller_id_name`` — the
端末表示名 the agent's softphone shows for the called line; ``ring_popup_url`` and
``answer_popup_url`` — pages the softphone opens, ``@@@@`` being the caller's number
(:mod:`voice.popups`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from voice import numbering, popups
from voice.dialing_rules import check_outbound
from voice.numbering import NumberError

from ..auth import accounts
from ..schema import agent_caller_ids, agents, phone_numbers
from . import groups, versions

ROUTE_TYPES = ("none", "agent", "group", "voicemail", "external", "flow")
#: The most concurrent calls one number may be given (a sanity bound, not a Twilio limit).
MAX_CHANNELS = 10_000
#: The column's size.
CALLER_ID_NAME_MAX = 100


class RoutingError(ValueError):
    """Unusable number settings; ``problems`` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class Route:
    type: str = "none"
    target: str = ""

    @classmethod
    def parse(cls, text: str) -> Route:
        """``agent:sato``, ``group:support``, ``voicemail``, ``external:03-1234-5678``, ``none``.

        Raises:
            ValueError: An unknown type, or a target missing or given where none belongs.
        """
        kind, _, target = text.strip().partition(":")
        kind, target = kind.strip().lower() or "none", target.strip()
        if kind not in ROUTE_TYPES:
            raise ValueError(f"unknown route {kind!r} (one of: {', '.join(ROUTE_TYPES)})")
        if kind in ("none", "voicemail") and target:
            raise ValueError(f"route {kind!r} takes no target")
        if kind not in ("none", "voicemail") and not target:
            raise ValueError(f"route {kind!r} needs a target, e.g. {kind}:<name or number>")
        return cls(kind, target)

    def __str__(self) -> str:
        return f"{self.type}:{self.target}" if self.target else self.type


@dataclass(frozen=True)
class PhoneNumber:
    id: int
    e164: str
    label: str
    route: Route
    fallback: Route
    caller_id_name: str
    recording: bool
    active: bool
    transfer_caller_id: str = ""
    max_channels: int = 0
    overflow: Route = Route()
    ring_popup_url: str = ""
    answer_popup_url: str = ""

    @property
    def display(self) -> str:
        return numbering.national_format(self.e164)

    @property
    def configured(self) -> bool:
        return self.active and self.route.type != "none"

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "e164": self.e164, "display": self.display, "label": self.label,
                "route": str(self.route), "fallback": str(self.fallback),
                "caller_id_name": self.caller_id_name, "recording": self.recording,
                "active": self.active, "transfer_caller_id": self.transfer_caller_id,
                "max_channels": self.max_channels, "overflow": str(self.overflow),
                "ring_popup_url": self.ring_popup_url,
                "answer_popup_url": self.answer_popup_url}

    def popup_url(self, event: str) -> str:
        """The pop-up URL template of ``event`` (``incoming`` or ``answered``), "" if none."""
        return {"incoming": self.ring_popup_url,
                "answered": self.answer_popup_url}.get(event, "")


@dataclass(frozen=True)
class NumberChanges:
    """Fields to set on a number; ``None`` leaves a field as it is."""

    label: str | None = None
    route: Route | None = None
    fallback: Route | None = None
    caller_id_name: str | None = None
    recording: bool | None = None
    active: bool | None = None
    transfer_caller_id: str | None = None
    max_channels: int | None = None
    overflow: Route | None = None
    ring_popup_url: str | None = None
    answer_popup_url: str | None = None


def _number(row: Any) -> PhoneNumber:
    return PhoneNumber(row.id, row.e164, row.label, Route(row.route_type, row.route_target),
                       Route(row.fallback_type, row.fallback_target), row.caller_id_name,
                       row.recording, row.active, row.transfer_caller_id, row.max_channels,
                       Route(row.overflow_type, row.overflow_target), row.ring_popup_url,
                       row.answer_popup_url)


def normalize_number(text: str) -> str:
    """E.164 of one of our numbers, or :class:`RoutingError` naming the field."""
    try:
        return numbering.normalize(text)
    except NumberError as exc:
        raise RoutingError({"e164": exc.message_en}) from None


def get_number(conn: Connection, e164: str) -> PhoneNumber | None:
    row = conn.execute(select(phone_numbers).where(phone_numbers.c.e164 == e164)).first()
    return _number(row) if row else None


def get_number_by_id(conn: Connection, number_id: int) -> PhoneNumber | None:
    row = conn.execute(select(phone_numbers).where(phone_numbers.c.id == number_id)).first()
    return _number(row) if row else None


def list_numbers(conn: Connection) -> list[PhoneNumber]:
    return [_number(r) for r in conn.execute(select(phone_numbers).order_by(phone_numbers.c.e164))]


def save_number(conn: Connection, e164: str, changes: NumberChanges, *,
                now: datetime) -> PhoneNumber:
    """Create the number or change it; every field is checked before anything is written.

    Raises:
        RoutingError: Which fields are wrong and why.
    """
    e164 = normalize_number(e164)
    current = get_number(conn, e164)
    merged = _merge(current, e164, changes)
    problems = _route_problems(conn, "route", merged.route, merged)
    problems.update(_route_problems(conn, "fallback", merged.fallback, merged))
    problems.update(_route_problems(conn, "overflow", merged.overflow, merged))
    problems.update(_transfer_problems(conn, merged))
    problems.update(setting_problems(merged))
    if problems:
        raise RoutingError(problems)
    merged = dataclasses.replace(merged, route=stored_route(merged.route),
                                 fallback=stored_route(merged.fallback),
                                 overflow=stored_route(merged.overflow))
    values = {"label": merged.label, "route_type": merged.route.type,
              "route_target": merged.route.target, "fallback_type": merged.fallback.type,
              "fallback_target": merged.fallback.target, "caller_id_name": merged.caller_id_name,
              "recording": merged.recording, "active": merged.active,
              "transfer_caller_id": merged.transfer_caller_id,
              "max_channels": merged.max_channels, "overflow_type": merged.overflow.type,
              "overflow_target": merged.overflow.target,
              "ring_popup_url": merged.ring_popup_url,
              "answer_popup_url": merged.answer_popup_url, "updated_at": now}
    if current is None:
        conn.execute(insert(phone_numbers).values(e164=e164, created_at=now, **values))
    else:
        conn.execute(update(phone_numbers).where(phone_numbers.c.id == current.id).values(
            **values))
    versions.bump(conn, "routing")
    saved = get_number(conn, e164)
    assert saved is not None
    return saved


def delete_number(conn: Connection, e164: str) -> bool:
    deleted = conn.execute(delete(phone_numbers).where(phone_numbers.c.e164 == e164)).rowcount
    versions.bump(conn, "routing")
    return bool(deleted)


def _merge(current: PhoneNumber | None, e164: str, changes: NumberChanges) -> PhoneNumber:
    """The number as it will be: ``current`` (or defaults) with the given changes applied."""
    base = current or PhoneNumber(0, e164, "", Route(), Route(), "", False, True)
    given = {name: value for name, value in dataclasses.asdict(changes).items()
             if value is not None}
    for name in ("route", "fallback", "overflow"):  # asdict() turned the routes into dicts
        if name in given:
            given[name] = getattr(changes, name)
    for name in ("label", "caller_id_name", "ring_popup_url", "answer_popup_url"):
        if name in given:
            given[name] = given[name].strip()
    if given.get("transfer_caller_id"):
        try:
            given["transfer_caller_id"] = numbering.normalize(given["transfer_caller_id"])
        except NumberError as exc:
            raise RoutingError({"transfer_caller_id": exc.message_en}) from None
    return dataclasses.replace(base, **given)


def setting_problems(number: PhoneNumber) -> dict[str, str]:
    """What is wrong with the number's channel limit, display name and pop-up URLs."""
    problems = {}
    if not 0 <= number.max_channels <= MAX_CHANNELS:
        problems["max_channels"] = f"must be between 0 (no limit) and {MAX_CHANNELS}"
    if len(number.caller_id_name) > CALLER_ID_NAME_MAX:
        problems["caller_id_name"] = f"at most {CALLER_ID_NAME_MAX} characters"
    for name in ("ring_popup_url", "answer_popup_url"):
        wrong = popups.popup_problem(getattr(number, name))
        if wrong:
            problems[name] = wrong
    return problems


def _route_problems(conn: Connection, field_name: str, route: Route,
                    number: PhoneNumber) -> dict[str, str]:
    if route.type == "agent":
        agent = accounts.find_agent(conn, route.target)
        if agent is None:
            return {field_name: f"no agent with user ID {route.target!r}"}
    elif route.type == "group" and groups.get_group(conn, route.target) is None:
        return {field_name: f"no group named {route.target!r}"}
    elif route.type == "external":
        return _external_problems(field_name, route.target, number)
    elif route.type == "flow":
        from ..flows.store import entry_problem

        wrong = entry_problem(conn, route.target)
        return {field_name: wrong} if wrong else {}
    return {}


def _external_problems(field_name: str, target: str, number: PhoneNumber) -> dict[str, str]:
    try:
        destination = numbering.parse_destination(target)
    except NumberError as exc:
        return {field_name: exc.message_en}
    caller_id = number.transfer_caller_id or number.e164
    verdict = check_outbound(caller_id, destination)
    return {} if verdict.allowed else {field_name: verdict.message_en}


def _transfer_problems(conn: Connection, number: PhoneNumber) -> dict[str, str]:
    chosen = number.transfer_caller_id
    if chosen and chosen != number.e164 and get_number(conn, chosen) is None:
        return {"transfer_caller_id": "must be one of our numbers (or empty: the called number)"}
    return {}


def stored_route(route: Route) -> Route:
    """The stored form of a valid route: external targets in E.164, user IDs in lower case."""
    if route.type == "external":
        return Route("external", numbering.parse_destination(route.target).dial_string)
    if route.type == "agent":
        return Route("agent", accounts.normalize_username(route.target))
    return route


# --- caller IDs (SP-3) ------------------------------------------------------------------------

@dataclass(frozen=True)
class CallerId:
    e164: str
    label: str
    default: bool

    def public(self) -> dict[str, Any]:
        return {"e164": self.e164, "display": numbering.national_format(self.e164),
                "label": self.label, "default": self.default}


def caller_ids(conn: Connection, agent_id: int) -> list[CallerId]:
    """The active numbers the agent may call from; the default first, then by number."""
    rows = conn.execute(select(phone_numbers.c.e164, phone_numbers.c.label,
                               agent_caller_ids.c.is_default).join(
        agent_caller_ids, agent_caller_ids.c.phone_number_id == phone_numbers.c.id).where(
        agent_caller_ids.c.agent_id == agent_id, phone_numbers.c.active.is_(True)))
    found = [CallerId(r.e164, r.label, bool(r.is_default)) for r in rows]
    return sorted(found, key=lambda c: (not c.default, c.e164))


def grant_caller_id(conn: Connection, username: str, e164: str, *, default: bool = False) -> None:
    """Let the agent call from ``e164``; ``default`` makes it the agent's default caller ID.

    Raises:
        RoutingError: No such agent or number.
    """
    agent_id, number = _agent_and_number(conn, username, e164)
    if default:
        conn.execute(update(agent_caller_ids).where(agent_caller_ids.c.agent_id == agent_id)
                     .values(is_default=False))
    exists = conn.execute(select(agent_caller_ids.c.agent_id).where(
        agent_caller_ids.c.agent_id == agent_id,
        agent_caller_ids.c.phone_number_id == number.id)).first()
    if exists:
        if default:
            conn.execute(update(agent_caller_ids).where(
                agent_caller_ids.c.agent_id == agent_id,
                agent_caller_ids.c.phone_number_id == number.id).values(is_default=True))
        return
    conn.execute(insert(agent_caller_ids).values(agent_id=agent_id, phone_number_id=number.id,
                                                 is_default=default))


def revoke_caller_id(conn: Connection, username: str, e164: str) -> bool:
    agent_id, number = _agent_and_number(conn, username, e164)
    return bool(conn.execute(delete(agent_caller_ids).where(
        agent_caller_ids.c.agent_id == agent_id,
        agent_caller_ids.c.phone_number_id == number.id)).rowcount)


def set_caller_ids(conn: Connection, username: str, e164s: list[str],
                   default: str | None) -> None:
    """Replace the agent's caller IDs with ``e164s``; ``default`` must be one of them."""
    normalized = [normalize_number(n) for n in e164s]
    chosen = normalize_number(default) if default else None
    if chosen and chosen not in normalized:
        raise RoutingError({"default": "must be one of the numbers"})
    agent_id = _agent_id(conn, username)
    for e164 in normalized:
        _agent_and_number(conn, username, e164)
    conn.execute(delete(agent_caller_ids).where(agent_caller_ids.c.agent_id == agent_id))
    for e164 in dict.fromkeys(normalized):
        grant_caller_id(conn, username, e164, default=e164 == chosen)


def _agent_id(conn: Connection, username: str) -> int:
    agent_id = conn.execute(select(agents.c.id).where(
        agents.c.username == accounts.normalize_username(username))).scalar_one_or_none()
    if agent_id is None:
        raise RoutingError({"username": f"no agent with user ID {username!r}"})
    return agent_id


def _agent_and_number(conn: Connection, username: str, e164: str) -> tuple[int, PhoneNumber]:
    agent_id = _agent_id(conn, username)
    number = get_number(conn, normalize_number(e164))
    if number is None:
        raise RoutingError({"e164": f"{numbering.mask(e164)} is not one of our numbers "
                                    "(add it with `cti number add`)"})
    return agent_id, number
