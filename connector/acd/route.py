"""Route a caller to a group (or one agent) through the ACD — the single entry point
``connector.voice.routing.plan_route`` (and IVR flows) use for ``group`` routes.

The group's strategy orders its free members (:mod:`voice.acd.strategies`, on the live board),
then one atomic claim (:func:`.presence_ops.ring`) takes the agents to ring: all of them at
once for ``ring_all`` (Twilio rings at most ten), else the first free one. An agent already
rung for this caller is not rung again for it; when nobody is left the caller gets
``None`` — the number's fallback.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from voice import twiml
from voice.acd import strategies
from voice.acd.settings import GroupSettings, from_stored
from voice.client_params import client_parameters
from voice.twiml import ClientRing, Urls

from .. import clock
from ..voice import groups
from . import get_acd, presence_ops
from .board import AgentBoard, GroupView
from .presence_ops import ms

#: How long the list of agents already rung for one caller is kept.
TRIED_TTL_SECONDS = 3600


def settings_of(group: groups.Group) -> GroupSettings:
    return from_stored(group.settings)


def choose_agents(conn: Connection, group: groups.Group, call_sid: str) -> list[int]:
    """Claim the agents to ring for this caller now (none: nobody free)."""
    acd = get_acd()
    board, now = acd.board, clock.now()
    settings = settings_of(group)
    seen = view(conn, board, group, call_sid, now)
    live, rung = seen.members, seen.tried
    if settings.max_active and sum(a.status in ("on_call", "hold") for a in live) >= (
            settings.max_active):
        return []
    candidates = [strategies.Candidate(a.agent_id, position, a.free, a.idle_since_ms,
                                       a.talk_ms_today, group.skill_at(position))
                  for position, a in enumerate(live) if a.agent_id not in rung]
    context = strategies.Context(last_agent_id=seen.last_rung, rng=acd.rng)
    ordered = strategies.order(settings.strategy, candidates, context)
    at_once = twiml.MAX_DIAL_PARTIES if strategies.rings_at_once(settings.strategy) else 1
    claimed = presence_ops.ring(conn, board, call_sid, ordered, max_agents=at_once,
                                ring_seconds=settings.ring_seconds, group_id=group.id, now=now)
    remember_tried(board, call_sid, claimed)
    return claimed


def view(conn: Connection, board: AgentBoard, group: groups.Group, call_sid: str,
         now: datetime) -> GroupView:
    """The group's members, the member rung last and who already rang for this caller, in
    one round trip (loading the board first if Redis lost it)."""
    key = _tried_key(board.prefix, call_sid)
    return presence_ops.retry_loaded(conn, board, lambda: board.group_view(
        group.member_ids, ms(now), group_id=group.id, tried_key=key))


def remember_tried(board: AgentBoard, call_sid: str, agent_ids: list[int]) -> None:
    """These agents have been rung for this caller (the next turn goes to someone else)."""
    if agent_ids:
        key = _tried_key(board.prefix, call_sid)
        board.redis.sadd(key, *agent_ids)
        board.redis.expire(key, TRIED_TTL_SECONDS)


def tried(board: AgentBoard, call_sid: str) -> set[int]:
    return {int(a) for a in board.redis.smembers(_tried_key(board.prefix, call_sid))}


def forget_tried(board: AgentBoard, call_sid: str) -> None:
    """A new round: every member may be rung for this caller again (waiting callers)."""
    board.redis.delete(_tried_key(board.prefix, call_sid))


def claim_agent(conn: Connection, agent_id: int, call_sid: str) -> list[int]:
    """Claim one agent (a number routed to an agent) for this caller."""
    board = get_acd().board
    return presence_ops.ring(conn, board, call_sid, [agent_id], max_agents=1,
                             ring_seconds=60, group_id=None, now=clock.now())


def ring_claimed(runtime, number, caller, group: groups.Group, agent_ids: list[int],  # type: ignore[no-untyped-def]
                 detail: str, urls: Urls | None = None) -> tuple[str, int]:
    """TwiML ringing the claimed agents' browsers, and how many legs it dials.

    With the group's ``whisper``, each browser's ``<Client url>`` says it to the agent once
    they answer, before the caller is connected (the caller hears ringing meanwhile). A
    conference-bridged group says it as the agent's leg enters the conference instead
    (:mod:`connector.monitor.bridge`), and records nothing on this ``<Dial>``: the bridge
    it makes lasts only until both legs are in the conference, which is recorded instead.
    """
    from ..voice.routing import caller_info

    settings = settings_of(group)
    by_id = dict(zip(group.member_ids, group.members, strict=True))
    parameters = client_parameters(caller_info(caller, number, group))
    conference = settings.bridge == "conference"
    whisper = (runtime.url("acd/whisper", g=str(group.id))
               if settings.whisper.strip() and not conference else "")
    rings = [ClientRing(by_id[a], parameters, whisper) for a in agent_ids]
    document = twiml.ring_clients(rings, urls or runtime.urls(detail.split(":")[0]),
                                  timeout=settings.ring_seconds,
                                  record=number.recording and not conference)
    return document, len(rings)


def release_unanswered(conn: Connection, call_sid: str, group: groups.Group | None) -> None:
    """The caller's ``<Dial>`` ended unanswered: free whoever still rings for them (the
    legs' own callbacks may come later; only the first release counts)."""
    board = get_acd().board
    settings = settings_of(group) if group else None
    for agent_id in board.claimed_for(call_sid):
        presence_ops.rang_out(conn, board, agent_id, call_sid, now=clock.now(),
                              settings=settings)


def _tried_key(prefix: str, call_sid: str) -> str:
    return f"{prefix}tried:{call_sid}"
