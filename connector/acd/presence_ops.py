"""Server-owned presence (SPEC SP-6, SP-7): every status change, on the live board and on record.

The board (:mod:`.board`, Redis) decides — atomically — who may be rung; the database
(:mod:`connector.presence`) records each change as it happens, with an interval row. The
functions here do both, board first: a change the board refuses (the agent belongs to another
call) is not recorded.

* Agents and supervisors choose only 待機 / 離席 / 停止 / sign-out (:func:`choose`).
* Routing claims agents (:func:`ring`) → 着信中.
* Call events move them on: answered → 通話中 (:func:`answered`), held → 保留, ended →
  後処理 for the group's ACW time or straight back to the chosen status (:func:`ended`), rang
  out → back, and after N ring-outs in a row 停止 (:func:`rang_out`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection

from voice.acd.settings import GroupSettings

from .. import callstream, presence
from .board import AgentBoard, NotLoaded, Snapshot, day_of


class Busy(Exception):
    """The agent is claimed for a call; the status follows the call until it ends."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def ensure_loaded(conn: Connection, board: AgentBoard) -> None:
    """Load the board from the database unless it is loaded."""
    if board.is_loaded():
        return
    snapshots = [Snapshot(p.agent_id, p.status, p.stop_status_id, p.call_sid or "",
                          ms(p.until) if p.until else 0, p.chosen_status or "available",
                          ms(p.since) if p.since else 0, p.group_id)
                 for p in presence.all_present(conn)]
    board.load(snapshots)


def choose(conn: Connection, board: AgentBoard, agent_id: int, status: str, *,
           now: datetime, by: int | None = None, stop_status_id: int | None = None,
           force: bool = False) -> presence.Presence:
    """An agent's (or a supervisor's) choice of status.

    Raises:
        presence.PresenceError: Not a status one may choose (names the field).
        Busy: The agent is ringing, talking or holding (not with ``force``).
    """
    if status not in presence.CHOSEN:
        if status in presence.PRESENCE_STATUSES:
            raise presence.PresenceError(
                f"status: {status!r} is set by calls, not chosen "
                f"(choose one of {', '.join(presence.CHOSEN)})")
        raise presence.PresenceError(f"status: unknown status {status!r} "
                                     f"(choose one of {', '.join(presence.CHOSEN)})")
    if stop_status_id is not None and status != "paused":
        raise presence.PresenceError("stop_status_id: only with status 'paused'")
    answer = retry_loaded(conn, board, lambda: board.choose(
        agent_id, status, stop_status_id, now_ms=ms(now), force=force))
    if answer != "ok":
        raise Busy(answer)
    current = presence.settle(conn, agent_id, now)
    call_sid = None if force or current.status not in presence.BUSY else current.call_sid
    return presence.set_status(conn, agent_id, status, now=now, by=by,
                               stop_status_id=stop_status_id, call_sid=call_sid,
                               ring_outs=0 if status == "available" else None)


def went_offline(board: AgentBoard, agent_id: int, now: datetime) -> None:
    """The agent's browser vanished or signed out (the database is already updated)."""
    try:
        board.choose(agent_id, "offline", None, now_ms=ms(now), force=True)
    except NotLoaded:
        pass  # loaded from the database (where the agent is offline) on next use


def ring(conn: Connection, board: AgentBoard, call_sid: str, candidates: Sequence[int], *,
         max_agents: int, ring_seconds: int, group_id: int | None, now: datetime) -> list[int]:
    """Claim up to ``max_agents`` of ``candidates`` for the call and record them 着信中."""
    if not candidates:
        return []
    ttl_ms = (ring_seconds + 30) * 1000  # a lost callback frees the claim key by itself
    claimed = retry_loaded(conn, board, lambda: board.claim(
        call_sid, list(candidates), max_agents=max_agents, ttl_ms=ttl_ms, now_ms=ms(now),
        group_id=group_id))
    for agent_id in claimed:
        # On the webhook's call event when there is one (written with the call record).
        if not callstream.defer_ringing(agent_id, call_sid, group_id):
            presence.set_status(conn, agent_id, "ringing", now=now, call_sid=call_sid,
                                group_id=group_id)
    return claimed


def answered(conn: Connection, board: AgentBoard, agent_id: int, call_sid: str, *,
             now: datetime, own_call: bool = False) -> bool:
    """The agent answered (or, ``own_call``, placed) the call: 通話中; the others rung for it
    go back. False when the agent was not claimed for this call."""
    if not board.occupy(agent_id, call_sid, "on_call", take_free=own_call):
        return False
    current = presence.get(conn, agent_id)
    presence.set_status(conn, agent_id, "on_call", now=now, call_sid=call_sid,
                        group_id=current.group_id, ring_outs=0)
    for other in board.claimed_for(call_sid):
        if other != agent_id:
            rang_out(conn, board, other, call_sid, now=now, settings=None, counted=False)
    return True


def held(conn: Connection, board: AgentBoard, agent_id: int, call_sid: str, status: str, *,
         now: datetime) -> None:
    """The agent put the call on hold (保留), took it back (``on_call``, when the hold could
    not be made) or handed it on (後処理 until they end it)."""
    current = presence.get(conn, agent_id)
    if status in ("hold", "on_call"):
        board.occupy(agent_id, call_sid, status, take_free=True)
        presence.set_status(conn, agent_id, status, now=now, call_sid=call_sid,
                            group_id=current.group_id)
        return
    board.release(agent_id, call_sid, status=status, now_ms=ms(now), conversation=True)
    presence.set_status(conn, agent_id, status, now=now, group_id=current.group_id)


def ended(conn: Connection, board: AgentBoard, agent_id: int, call_sid: str, *,
          now: datetime, talk_seconds: int, settings: GroupSettings | None,
          fallback_acw: tuple[bool, int] = (False, 0)) -> bool:
    """The agent's call ended: 後処理 for the group's ACW time, else the chosen status.

    ``fallback_acw`` (whether, and for how many seconds; 0 = until the agent ends it) applies
    to calls outside any group: the ``[softphone]`` after-call-work settings (SPEC SP-7).
    """
    current = presence.get(conn, agent_id)
    if settings is not None:
        in_acw, seconds = bool(settings.acw_seconds), settings.acw_seconds
    else:
        in_acw, seconds = fallback_acw
    following = current.chosen_status or "available"
    status = "acw" if in_acw else following
    until = now + timedelta(seconds=seconds) if in_acw and seconds else None
    if not board.release(agent_id, call_sid, status=status, until_ms=ms(until) if until else 0,
                         now_ms=ms(now), talk_ms=talk_seconds * 1000, day=day_of(ms(now)),
                         conversation=True):
        return False
    stop = current.chosen_stop_status_id if status == "paused" else None
    presence.set_status(conn, agent_id, status, now=now, until=until, stop_status_id=stop,
                        group_id=current.group_id if status == "acw" else None)
    return True


def rang_out(conn: Connection, board: AgentBoard, agent_id: int, call_sid: str, *,
             now: datetime, settings: GroupSettings | None, counted: bool = True) -> bool:
    """The agent was rung for the call and did not take it. ``counted``: they let it ring
    out (not: someone else answered, the caller hung up) — after the group's
    ``auto_pause_after`` of those in a row, 停止 (for ``auto_pause_minutes``, or until the
    agent comes back)."""
    current = presence.get(conn, agent_id)
    ring_outs = current.ring_outs + 1 if counted else current.ring_outs
    following = current.chosen_status or "available"
    status, until = following, None
    limit = settings.auto_pause_after if settings else 0
    if counted and limit and ring_outs >= limit:
        status = "paused"
        minutes = settings.auto_pause_minutes if settings else 0
        until = now + timedelta(minutes=minutes) if minutes else None
        ring_outs = 0
    if not board.release(agent_id, call_sid, status=status, until_ms=ms(until) if until else 0,
                         now_ms=ms(now)):
        return False
    stop = current.chosen_stop_status_id if status == following == "paused" else None
    presence.set_status(conn, agent_id, status, now=now, until=until, stop_status_id=stop,
                        ring_outs=ring_outs, remember=status == following)
    return True


def retry_loaded(conn: Connection, board: AgentBoard, action):  # type: ignore[no-untyped-def]
    """Run ``action``; when the board turns out empty, load it and run it once more."""
    try:
        return action()
    except NotLoaded:
        ensure_loaded(conn, board)
        return action()
