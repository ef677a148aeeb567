"""Start, switch and stop a supervisor on an agent's call (Twilio's Participant resource).

The supervisor joins from their softphone (``client:<identity>``) or a phone number: Twilio
rings it and, once answered, adds it to the call's conference in the mode asked for
(:func:`voice.monitor.join_options`). A switch updates that participant; a stop removes it
(its call then ends). Each step is recorded (:mod:`.sessions`). Problems are
:class:`MonitorError`\\ s naming the field at fault.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from sqlalchemy import Connection, select
from twilio.base.exceptions import TwilioRestException

from voice import monitor as voice_monitor

from .. import presence
from ..auth import accounts
from ..schema import calls
from ..voice.runtime import get_runtime
from . import bridge, sessions

log = logging.getLogger("cti.monitor")

_E164 = re.compile(r"\+[1-9]\d{6,14}")
#: Seconds the supervisor's phone rings before Twilio gives up.
RING_SECONDS = 30


class MonitorError(ValueError):
    """A refused request: ``problems`` maps each field to what is wrong; ``status`` is HTTP's."""

    def __init__(self, problems: dict[str, str], status: int = 422) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems
        self.status = status


def check_mode(mode: object) -> str:
    if mode not in voice_monitor.MODES:
        raise MonitorError({"mode": f"one of {', '.join(voice_monitor.MODES)}"})
    return str(mode)


def start(conn: Connection, who: sessions.Who, supervisor: accounts.Agent, *, agent_id: object,
          mode: object, phone: object, now: datetime) -> sessions.Session:
    """Add the supervisor to the call the agent is on.

    Raises:
        MonitorError: Unknown mode or agent, a bad phone number, the agent not on a call, the
            call not bridged through a conference, or Twilio refusing.
    """
    mode = check_mode(mode)
    agent = _agent(conn, agent_id)
    address = _address(supervisor, phone)
    current = presence.get(conn, agent.id)
    if current.status != "on_call" or not current.call_sid:
        raise MonitorError({"agent_id": f"{agent.username} is not on a call"}, 409)
    call_sid = current.call_sid
    joined = bridge.get(call_sid)
    if joined is None or joined.state != "joined" or joined.agent_id != agent.id:
        raise MonitorError({"call_sid": "this call is not bridged through a conference "
                                        "(group setting bridge = \"conference\")"}, 409)
    already = sessions.open_sessions(conn, supervisor_id=supervisor.id, call_sid=call_sid)
    if already:
        raise MonitorError({"agent_id": f"you are on this call already ({already[0].mode}); "
                                        "switch the mode or stop first"}, 409)
    our_number = conn.execute(select(calls.c.our_number).where(
        calls.c.call_sid == call_sid)).scalar() or ""
    leg = _add_participant(call_sid, joined.agent_leg, our_number, address, mode)
    return sessions.start(conn, who, agent_id=agent.id, call_sid=call_sid, leg=leg,
                          address=address, mode=mode, now=now)


def switch(conn: Connection, who: sessions.Who, supervisor: accounts.Agent, leg: str,
           mode: object, now: datetime) -> sessions.Session:
    mode = check_mode(mode)
    session = _own_session(conn, supervisor, leg)
    if mode == session.mode:
        return session
    joined = bridge.get(session.call_sid)
    agent_leg = joined.agent_leg if joined else ""
    try:
        _client().conferences(voice_monitor.conference_name(session.call_sid)).participants(
            leg).update(**voice_monitor.participant_options(mode, agent_leg))
    except TwilioRestException as exc:
        raise _twilio_problem(exc, "session") from None
    return sessions.switch(conn, who, session, mode, now)


def stop(conn: Connection, who: sessions.Who, supervisor: accounts.Agent, leg: str,
         now: datetime) -> None:
    session = _own_session(conn, supervisor, leg)
    try:
        _client().conferences(voice_monitor.conference_name(session.call_sid)).participants(
            leg).delete()
    except TwilioRestException as exc:
        if exc.status != 404:  # gone already: the call ended, or the phone never answered
            raise _twilio_problem(exc, "session") from None
        _hang_up_if_ringing(leg)
    sessions.stop(conn, who, leg, now, "stopped")


def _hang_up_if_ringing(leg: str) -> None:
    """Not a participant (yet): a phone still ringing stops ringing; an ended leg is fine."""
    try:
        _client().calls(leg).update(status="completed")
    except TwilioRestException as exc:
        if exc.status != 404 and exc.code not in (20404, 21220):
            raise _twilio_problem(exc, "session") from None


def leg_ended(conn: Connection, leg: str, now: datetime) -> bool:
    """The supervisor's leg ended (hung up, the call ended, or a stop): close its session."""
    return sessions.stop(conn, None, leg, now, "call_ended")


def _agent(conn: Connection, agent_id: object) -> accounts.Agent:
    if not isinstance(agent_id, int) or isinstance(agent_id, bool):
        raise MonitorError({"agent_id": "an agent id (a whole number)"})
    agent = accounts.get_agent(conn, agent_id)
    if agent is None or agent.role != "agent" or not agent.active:
        raise MonitorError({"agent_id": f"no agent with id {agent_id}"}, 404)
    return agent


def _address(supervisor: accounts.Agent, phone: object) -> str:
    if phone in (None, ""):
        return f"client:{supervisor.identity}"
    if not isinstance(phone, str) or not _E164.fullmatch(phone):
        raise MonitorError({"phone": "an E.164 number like +819012345678, or empty for "
                                     "your softphone"})
    return phone


def _own_session(conn: Connection, supervisor: accounts.Agent, leg: str) -> sessions.Session:
    session = sessions.open_session(conn, leg)
    if session is None or session.supervisor_id != supervisor.id:
        raise MonitorError({"session": f"no monitoring {leg} of yours is going on"}, 404)
    return session


def _add_participant(call_sid: str, agent_leg: str, our_number: str, address: str,
                     mode: str) -> str:
    runtime = get_runtime()
    options = voice_monitor.join_options(mode, agent_leg)
    try:
        participant = _client().conferences(voice_monitor.conference_name(call_sid)).participants \
            .create(from_=our_number, to=address, timeout=RING_SECONDS,
                    status_callback=runtime.url("monitor/status"),
                    status_callback_event=["completed"], **options)
    except TwilioRestException as exc:
        raise _twilio_problem(exc, "call_sid") from None
    log.info("supervisor joining a call", extra={"call_sid": call_sid, "mode": mode})
    return str(participant.call_sid)


def _twilio_problem(exc: TwilioRestException, field: str) -> MonitorError:
    log.warning("Twilio refused a monitoring request", extra={"code": exc.code,
                                                              "status": exc.status})
    if exc.status == 404:
        return MonitorError({field: "the call or the supervisor's leg has ended"}, 409)
    return MonitorError({field: f"Twilio refused it (error {exc.code})"}, 502)


def _client():  # type: ignore[no-untyped-def]
    from ..softphone import twilio_rest

    return twilio_rest.rest_client()
