"""``/twilio/campaigns/*``: the TwiML of a campaign call (signed like every Twilio webhook).

* ``POST /answer?attempt=<id>`` — the callee answered: ring the agent reserved for the call
  (or apologise and hang up when the reservation is gone).
* ``POST /bridged?attempt=<id>`` — the agent's ``<Dial>`` ended: a conversation took place
  (the contact waits for the agent's result) or the agent never answered (放棄).
* ``POST /survey?attempt=<id>&asked=<n>`` — a survey's ``<Gather>`` ended: the key pressed is
  the attempt's result (:mod:`voice.campaigns.survey`); a wrong key or silence asks again.

A survey campaign's callee hears the question on answer instead of an agent's ringing.

The callee leg's status callbacks go to the core ``/twilio/voice/status``; its hooks record
the call and the agent's presence, and :func:`.dialer.on_status` the attempt's result.
"""

from __future__ import annotations

import logging

from flask import Blueprint, request

from voice import twiml
from voice.campaigns import results, survey
from voice.client_params import CallerInfo, client_parameters
from voice.twiml import ClientRing, Urls

from .. import clock, db
from ..voice import calls as call_records
from ..voice.runtime import get_runtime
from ..voice.webhook import param, twilio_webhook
from . import dialer, store

log = logging.getLogger("cti.campaigns")

bp = Blueprint("campaign_webhooks", __name__, url_prefix="/twilio/campaigns")

#: What a callee hears when no agent can take the call (放棄). Short: they did nothing wrong.
NO_AGENT = ("お電話ありがとうございます。ただいま担当者におつなぎできません。"
            "改めてご連絡いたします。")


def _attempt_id() -> int:
    value = request.args.get("attempt", "")
    return int(value) if value.isdigit() else 0


@bp.post("/answer")
@twilio_webhook()
def answer() -> str:
    runtime, now, sid = get_runtime(), clock.now(), param("CallSid")
    with db.get_engine().begin() as conn:
        attempt = store.attempt(conn, _attempt_id())
        if attempt is None or attempt.call_sid not in (None, sid):
            return twiml.hang_up()
        store.change_attempt(conn, attempt.id, answered_at=now)
        campaign = store.get(conn, attempt.campaign_id)
        if campaign is not None and campaign.settings.survey is not None:
            return survey.question(campaign.settings.survey, dialer.survey_url(attempt.id, 1),
                                   runtime.speaker)
        agent_id = attempt.agent_id
        identity = dialer.agent_identity(conn, agent_id) if agent_id else ""
        contact = store.contact(conn, attempt.contact_id)
        if not identity or not dialer.still_claimed(agent_id, sid):
            log.info("campaign callee answered with no agent left", extra={"call_sid": sid})
            return twiml.say_and_hang_up(NO_AGENT, runtime.speaker)
        call_records.expect_legs(conn, sid, 1, now)
    assert campaign is not None
    info = CallerInfo(sid, contact.display, contact.e164, contact.name, contact.company,
                      group=f"campaign:{campaign.name}")
    urls = Urls(status=runtime.url("status"), dial_action=dialer.bridged_url(attempt.id),
                recording=runtime.url("recording"))
    return twiml.ring_clients([ClientRing(identity, client_parameters(info))], urls,
                              timeout=campaign.settings.agent_ring_seconds,
                              caller_id=contact.e164)


@bp.post("/bridged")
@twilio_webhook()
def bridged() -> str:
    now, dial_status = clock.now(), param("DialCallStatus")
    with db.get_engine().begin() as conn:
        call_records.note_dial_result(conn, request.form, now)
        attempt = store.attempt(conn, _attempt_id())
        if attempt is None:
            return twiml.hang_up()
        campaign = store.get(conn, attempt.campaign_id)
        if dial_status == "completed" and campaign is not None:
            duration = param("DialCallDuration")
            store.change_attempt(conn, attempt.id, only_open=True, result="connected",
                                 bridged_at=now, ended_at=now,
                                 talk_seconds=int(duration) if duration.isdigit() else 0)
            store.settle(conn, attempt.contact_id, state="wrapup", now=now,
                         owner_agent_id=attempt.agent_id, from_states=("dialing",))
            return twiml.hang_up()
        if campaign is not None:
            dialer.finish_attempt(conn, campaign, attempt.id, "abandoned", now)
            call_records.update_call(conn, attempt.call_sid, now, outcome="abandoned")
    dialer.nudge()
    return twiml.say_and_hang_up(NO_AGENT, get_runtime().speaker)


@bp.post("/survey")
@twilio_webhook()
def survey_key() -> str:
    runtime, now = get_runtime(), clock.now()
    asked = request.args.get("asked", "1")
    asked_count = int(asked) if asked.isdigit() else survey.ASKS
    with db.get_engine().begin() as conn:
        attempt = store.attempt(conn, _attempt_id())
        campaign = store.get(conn, attempt.campaign_id) if attempt is not None else None
        if attempt is None or campaign is None or campaign.settings.survey is None or (
                attempt.result):
            return twiml.hang_up()
        answer = survey.reply(campaign.settings.survey, param("Digits"), asked_count,
                              dialer.survey_url(attempt.id, asked_count + 1), runtime.speaker)
        if answer.result is not None:
            dialer.finish_attempt(conn, campaign, attempt.id, answer.result, now)
            call_records.update_call(conn, attempt.call_sid, now, disposition=results.label(
                answer.result, campaign.settings)[:100])
            log.info("survey answered", extra={"call_sid": attempt.call_sid,
                                               "result": answer.result})
    if answer.result is not None:
        dialer.nudge()  # a channel is free: the next callee
    return answer.twiml
