"""Presence from Twilio's status callbacks: the agent legs' ringing, answer and end.

Hooked after the voice core has recorded the callback (``app.extensions["cti.status_hooks"]``).
Each change names the call it belongs to and takes effect only while the agent is claimed for
that call (:mod:`.board`), so repeated and late callbacks change nothing.

Which call a leg belongs to: a browser rung for a caller reports with ``ParentCallSid`` (the
caller's SID — the one routing claimed the agent for); a browser's own call (an outgoing call,
or a resume / consult of a held call) is the call record's parent, else itself.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import current_app
from sqlalchemy import Connection, select

from .. import clock, db, presence
from ..auth import accounts
from ..schema import calls
from ..voice import groups
from . import get_acd, presence_ops, queueing, route

log = logging.getLogger("cti.acd")

_RANG_OUT = ("no-answer", "busy")
_NOT_TAKEN = ("canceled", "failed")
_FINAL = ("completed", "canceled", "busy", "failed", "no-answer")


def on_status(form: Mapping[str, str]) -> None:
    """Move the agent of this leg on, if the leg is an agent's."""
    sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    to, from_ = form.get("To", ""), form.get("From", "")
    if not sid or not status:
        return
    if to.startswith("client:") and form.get("ParentCallSid"):
        identity, call_sid, own = to.removeprefix("client:"), form["ParentCallSid"], False
    elif from_.startswith("client:"):
        identity, own = from_.removeprefix("client:"), True
        call_sid = ""
    else:
        if status in _FINAL:
            _caller_gone(sid)
        return
    with db.get_engine().begin() as conn:
        agent = accounts.find_agent(conn, identity)
        if agent is None:
            return
        if own:
            call_sid = conn.execute(select(calls.c.parent_call_sid).where(
                calls.c.call_sid == sid)).scalar() or sid
        _apply(conn, agent.id, call_sid, status, form)
    if status in _FINAL or status == "in-progress":  # an answer frees the others rung
        agent_may_be_free(agent.id)


def agent_may_be_free(agent_id: int) -> None:
    """The agent's call (or ring) ended, or they chose 待機: waiting callers of their groups
    may be offered to them (or to the members the groups' strategies prefer)."""
    with db.get_engine().begin() as conn:
        dispatched = queueing.dispatch_for_agent(conn, agent_id)
    for group, offers in dispatched:
        queueing.send_offers(group, offers)


def _apply(conn: Connection, agent_id: int, call_sid: str, status: str,
           form: Mapping[str, str]) -> None:
    board, now = get_acd().board, clock.now()
    current = presence.get(conn, agent_id)
    settings = None
    if current.group_id is not None:
        group = groups.get_group_by_id(conn, current.group_id)
        settings = route.settings_of(group) if group else None
    if status == "in-progress":
        presence_ops.answered(conn, board, agent_id, call_sid, now=now, own_call=True)
    elif status == "completed":
        if current.status == "on_call" and current.call_sid == call_sid:
            duration = form.get("CallDuration", "")
            presence_ops.ended(conn, board, agent_id, call_sid, now=now,
                               talk_seconds=int(duration) if duration.isdigit() else 0,
                               settings=settings, fallback_acw=_softphone_acw())
        elif current.status == "ringing" and current.call_sid == call_sid:
            presence_ops.rang_out(conn, board, agent_id, call_sid, now=now, settings=settings,
                                  counted=False)
    elif status in _RANG_OUT or status in _NOT_TAKEN:
        presence_ops.rang_out(conn, board, agent_id, call_sid, now=now, settings=settings,
                              counted=status in _RANG_OUT)


def _softphone_acw() -> tuple[bool, int]:
    """After-call work for calls outside a group: ``[softphone] acw_seconds`` (timed only when
    ``acw_auto_available``; 0 = until the agent ends it)."""
    softphone = current_app.config["CTI_SETTINGS"].softphone
    return True, softphone.acw_seconds if softphone.acw_auto_available else 0


def _caller_gone(call_sid: str) -> None:
    """The caller's call ended: agents still rung for it (their leg's own callback may never
    come, e.g. the caller hung up while it rang) go back to what they chose."""
    acd, now = get_acd(), clock.now()
    board = acd.board
    with db.get_engine().begin() as conn:
        waiter = acd.queues.waiter(call_sid)
        if waiter is not None and acd.queues.leave(call_sid, waiter.group_id, "gone",
                                                   "hangup") == "waiting":
            queueing.note(conn, call_sid, detail="abandoned", final_too=True)
        for agent_id in board.claimed_for(call_sid):
            current = presence.get(conn, agent_id)
            if current.status == "ringing" and current.call_sid == call_sid:
                presence_ops.rang_out(conn, board, agent_id, call_sid, now=now, settings=None,
                                      counted=False)
