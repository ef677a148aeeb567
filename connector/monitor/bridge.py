"""The conference bridge of ``bridge = "conference"`` groups (voice.monitor has the TwiML).

Why a move at answer, not a conference from the first ring: ringing, ring-outs, queues and
every ring strategy stay exactly the ``<Dial><Client>`` they are for every group (one claim,
one ring timeout, one ``<Dial action>``); only a call that was answered is moved.

1. The agent's leg reports ``in-progress`` (its ``<Client statusCallback>``). If the agent was
   claimed for that caller through a conference group, a Redis hash
   ``<prefix>monitor:bridge:<caller CallSid>`` notes the agent's leg (state ``moving``), and
   after the answer the leg is given :func:`voice.monitor.agent_joins` (REST ``Calls``
   update): it leaves the ``<Dial>`` bridge and enters the conference.
2. The caller's ``<Dial>`` ends with ``completed`` (its child was redirected); its action
   (``/dial-action`` or ``/acd/offered``) asks :func:`caller_joins_if_moving` first, which
   answers :func:`voice.monitor.caller_joins` (state ``joined``).
3. When that conference ends, the caller's ``<Dial>`` action comes again and is handled as the
   end of any ``<Dial>`` bridge. On a number that records, the conference is recorded; its
   recording callback (``/recording?call=<caller CallSid>``) names the call in the URL.

If the agent's leg ends before the conference started (a hang-up during the move), the caller
would wait alone in it: the agent's ``completed`` callback looks for a conference of the
call that has not started (``init``) and ends the caller's call, as a ``<Dial>`` bridge would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import after_this_request, current_app, has_request_context
from sqlalchemy import Connection, select
from twilio.base.exceptions import TwilioRestException

from voice import monitor as voice_monitor
from voice.acd import queue_twiml

from .. import db, presence, queue
from ..acd import get_acd
from ..acd.route import settings_of
from ..auth import accounts
from ..schema import calls
from ..voice import groups
from ..voice.runtime import get_runtime

log = logging.getLogger("cti.monitor")

#: A bridge record outlives any call (Twilio's longest <Dial> is four hours).
TTL_SECONDS = 6 * 3600


@dataclass(frozen=True)
class Bridge:
    """A conference-bridged call: the caller's CallSid, the agent and the agent's leg."""

    call_sid: str
    agent_leg: str
    agent_id: int
    group_id: int
    state: str  # moving | joined
    record: bool = False  # the number records its calls (CF-10): record the conference


def _key(call_sid: str) -> str:
    return f"{get_acd().board.prefix}monitor:bridge:{call_sid}"


def get(call_sid: str) -> Bridge | None:
    raw = queue.get_redis().hgetall(_key(call_sid))
    if not raw:
        return None
    values = {k.decode(): v.decode() for k, v in raw.items()}
    return Bridge(call_sid, values.get("agent_leg", ""), int(values.get("agent_id") or 0),
                  int(values.get("group_id") or 0), values.get("state", ""),
                  values.get("record") == "1")


def on_status(form: Mapping[str, str]) -> None:
    """A status callback (``cti.status_hooks``): move an answered agent into the conference,
    or tidy up after an agent's leg that ended."""
    to, parent = form.get("To", ""), form.get("ParentCallSid", "")
    status, leg = form.get("CallStatus", ""), form.get("CallSid", "")
    if not to.startswith("client:") or not parent or not leg:
        return
    if status == "in-progress":
        _agent_answered(to.removeprefix("client:"), parent, leg)
    elif status == "completed":
        bridge = get(parent)
        if bridge is not None and bridge.agent_leg == leg:
            _after_answer(lambda: _end_caller_left_alone(parent))


def _agent_answered(identity: str, call_sid: str, leg: str) -> None:
    with db.get_engine().connect() as conn:
        agent = accounts.find_agent(conn, identity)
        if agent is None:
            return
        current = presence.get(conn, agent.id)
        if current.call_sid != call_sid or current.group_id is None:
            return
        group = groups.get_group_by_id(conn, current.group_id)
        if group is None or settings_of(group).bridge != "conference":
            return
        record = _number_records(conn, call_sid)
    redis, key = queue.get_redis(), _key(call_sid)
    if not redis.hsetnx(key, "agent_leg", leg):
        return  # a repeated callback: the move is under way
    redis.hset(key, mapping={"agent_id": agent.id, "group_id": group.id, "state": "moving",
                             "record": "1" if record else "0"})
    redis.expire(key, TTL_SECONDS)
    settings = settings_of(group)
    whisper = queue_twiml.whisper_text(settings.whisper, group.label)
    document = voice_monitor.agent_joins(call_sid, whisper, get_runtime().speaker)
    _after_answer(lambda: _move_agent(call_sid, leg, document))


def _number_records(conn: Connection, call_sid: str) -> bool:
    our = conn.execute(select(calls.c.our_number).where(calls.c.call_sid == call_sid)).scalar()
    number = get_runtime().cache.refresh(conn).routing.numbers.get(our or "")
    return bool(number is not None and number.recording)


def _move_agent(call_sid: str, leg: str, document: str) -> None:
    from ..softphone import twilio_rest

    try:
        twilio_rest.rest_client().calls(leg).update(twiml=document)
    except (TwilioRestException, OSError) as exc:
        # The call goes on as the <Dial> bridge it already is; it just cannot be monitored.
        queue.get_redis().delete(_key(call_sid))
        log.warning("could not move an answered call into its conference",
                    extra={"call_sid": call_sid, "code": getattr(exc, "code", None)})


def caller_joins_if_moving(call_sid: str, dial_status: str, action_url: str) -> str | None:
    """The caller's TwiML when their ``<Dial>`` ended because the agent's leg moved into the
    conference; ``None`` for every other end of a ``<Dial>``."""
    if dial_status not in ("completed", "answered"):
        return None
    redis, key = queue.get_redis(), _key(call_sid)
    state, record = redis.hmget(key, "state", "record")
    if state != b"moving":
        return None
    redis.hset(key, "state", "joined")
    callback = get_runtime().url("recording", call=call_sid) if record == b"1" else ""
    return voice_monitor.caller_joins(call_sid, action_url, callback)


def _end_caller_left_alone(call_sid: str) -> None:
    from ..softphone import twilio_rest

    client = twilio_rest.rest_client()
    try:
        waiting = client.conferences.list(friendly_name=voice_monitor.conference_name(call_sid),
                                          status="init", limit=1)
        if waiting:
            client.calls(call_sid).update(status="completed")
    except (TwilioRestException, OSError) as exc:
        log.warning("could not check the conference of an ended agent leg",
                    extra={"call_sid": call_sid, "code": getattr(exc, "code", None)})


def _after_answer(action: Callable[[], None]) -> None:
    """Run ``action`` once the webhook's response is sent (Twilio waits for nothing slow)."""
    if not has_request_context():
        action()
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            action()

    @after_this_request
    def hook(response):  # type: ignore[no-untyped-def]
        response.call_on_close(run)
        return response
