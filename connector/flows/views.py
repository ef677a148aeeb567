"""``/twilio/voice/flow/*``: the webhooks that carry a call through its flow.

* ``POST /gather?f=&v=&s=`` — a menu's ``<Gather>`` ended (``Digits``, ``SpeechResult`` or
  nothing): the chosen node, a retry, or the menu's default.
* ``POST /dial?f=&v=&s=`` — a group, agent or transfer of the flow ended: done when
  answered, else the node's ``next``.
* ``POST /voicemail?f=&v=&s=`` — a voicemail node's recording ended: file it in the box,
  queue the e-mail notice, thank the caller.
* ``GET /audio/<name>?e=&t=`` — an uploaded announcement, for ``<Play>`` (signed URL).

The first two are Twilio webhooks (signature checked, TwiML always); their ``s`` is the
signed state token of :mod:`.runner`. Like the inbound webhook, nothing slow runs here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, request

from voice import twiml
from voice.flows import engine

from .. import clock, db, writeback
from ..voice import calls, routing
from ..voice.callstate import is_terminal
from ..voice.routing import Caller, Plan
from ..voice.runtime import WEBHOOK_PREFIX, get_runtime
from ..voice.twilio_views import display_number
from ..voice.webhook import param, twilio_webhook
from . import audio_urls, runner, store, voicemail

log = logging.getLogger("cti.flows")

bp = Blueprint("flow_webhooks", __name__, url_prefix=f"{WEBHOOK_PREFIX}/flow")


@bp.post("/gather")
@twilio_webhook()
def gather() -> str:
    return _continue(lambda stored, state, ctx: engine.answer(
        stored.flow, state, ctx, param("Digits"), param("SpeechResult")))


@bp.post("/dial")
@twilio_webhook()
def dial() -> str:
    with db.get_engine().begin() as conn:
        calls.note_dial_result(conn, request.form, clock.now())
    status = param("DialCallStatus")
    if status in ("completed", "answered", "canceled") or is_terminal(param("CallStatus")):
        return twiml.hang_up()  # talked, or the caller has gone
    return _continue(lambda stored, state, ctx: engine.after_connect(stored.flow, state, ctx))


@bp.post("/voicemail")
@twilio_webhook()
def voicemail_left() -> str:
    """A voicemail node's ``<Record>`` ended: file the message, queue its notice, thank."""
    runtime, now = get_runtime(), clock.now()
    sid, name = param("CallSid"), request.args.get("f", "")
    with db.get_engine().begin() as conn:
        stored = runner.flow_cache().flow(conn, name, _version())
        if stored is None:
            raise LookupError(f"flow {name!r} is gone")
        state = runner.decode_state(runtime, name, stored.version, request.args.get("s", ""))
        node = stored.flow.nodes.get(state.node)
        if node is None or node.kind != "voicemail":
            raise LookupError(f"flow {name!r} has no voicemail node {state.node!r}")
        changed = calls.apply_recording(conn, request.form, now)
        filed = bool(param("RecordingSid")) and voicemail.record_left(
            conn, sid, name, node.id, node.get("box") or node.get("label") or node.id,
            tuple(node.get("notify", ())), now)
    if changed:  # the caller hung up first: the final call's logs get the recording
        writeback.call_updated(changed)
    if filed and node.get("notify"):
        voicemail.queue_notice(sid)
    return twiml.say_and_hang_up(twiml.MESSAGES["voicemail_thanks"],
                                 runner.flow_speaker(runtime, stored))


def _version() -> int:
    try:
        return int(request.args.get("v", ""))
    except ValueError:
        return 0


@bp.get("/audio/<name>")
def audio(name: str) -> Any:
    runtime = get_runtime()
    if not audio_urls.valid(runtime, name, request.args.get("e", ""),
                            request.args.get("t", "")):
        abort(403)
    with db.get_engine().connect() as conn:
        found = store.audio_data(conn, name)
    if found is None:
        abort(404)
    content_type, data = found
    return Response(data, mimetype=content_type,
                    headers={"Cache-Control": "private, max-age=300"})


def _continue(step: Any) -> str:
    runtime, now = get_runtime(), clock.now()
    sid = param("CallSid")
    with db.get_engine().begin() as conn:
        config = runtime.cache.refresh(conn)
        name = request.args.get("f", "")
        stored = runner.flow_cache().flow(conn, name, _version())
        if stored is None:
            raise LookupError(f"flow {name!r} is gone")
        state = runner.decode_state(runtime, name, stored.version, request.args.get("s", ""))
        if state.node not in stored.flow.nodes:
            raise LookupError(f"flow {name!r} has no node {state.node!r}")
        row = calls.get_row(conn, sid)
        caller = Caller(sid, row["customer_number"] if row else "", display_number(param("From")),
                        (row["customer"] if row else None) or {})
        number = config.routing.numbers.get(row["our_number"] if row else
                                            calls.e164_or_empty(param("To")))
        result = step(stored, state, runner.context(stored, caller))
        if result is None or number is None:
            plan = routing.nobody(runtime)
        else:
            plan = runner.realize(conn, runtime, config.routing, number, caller, stored, result)
        _note(conn, sid, row, plan, now)
    return plan.twiml


def _note(conn: Any, sid: str, row: Any, plan: Plan, now: Any) -> None:
    """Keep the call record's outcome, detail and group in step with the flow."""
    if row is None or row["finalized_at"] is not None:
        return
    changes: dict[str, Any] = {"outcome": plan.outcome, "detail": plan.detail}
    if plan.group_id is not None:
        changes["group_id"] = plan.group_id
    calls.update_call(conn, sid, now, **changes)
    calls.expect_legs(conn, sid, plan.legs, now)
