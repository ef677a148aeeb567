"""Placing campaign calls: the progressive tick, one dial, and what each attempt ended with.

One call, step by step (docs/campaigns.md, "How a progressive call runs"):

1. :func:`tick` finds each running progressive campaign inside its window, the assigned
   agents who are free on the live board (:mod:`connector.acd.board`) and, per free agent,
   the next due contact (:func:`voice.campaigns.dialing.assign`).
2. :func:`dial` **claims the agent first** — the board's atomic claim, under a placeholder
   SID — then takes the contact (a conditional update), checks do-not-call, CF-12 and the
   restriction and block lists, and asks Twilio (REST) to call the callee. The claim is then
   moved to the new call's SID (:meth:`AgentBoard.rekey`, one script), so every later event
   of the call finds the agent through the existing presence hooks (``connector.acd.events``).
3. The callee answers → ``/twilio/campaigns/answer`` rings the reserved agent's browser;
   busy / no answer / failure reach :func:`on_status` (a status hook) and are recorded
   without the agent ever being rung; the board frees the agent as for any caller who left.
4. The agent answers → conversation; the dial action (``/twilio/campaigns/bridged``) marks
   the contact 後処理 (``wrapup``) until the agent enters a result
   (:func:`connector.campaigns.results.enter_result`). The agent does not answer → the
   callee hears an apology: 放棄 (abandoned), retried like a no-answer.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, after_this_request, current_app
from sqlalchemy import Connection
from twilio.base.exceptions import TwilioRestException

from voice import numbering
from voice.campaigns import dialing, results, window
from voice.campaigns.dialing import Candidate
from voice.dialing_rules import check_outbound
from voice.numbering import NumberError

from .. import clock, db, presence, queue
from ..acd import get_acd, presence_ops
from ..acd.board import AgentBoard
from ..acd.presence_ops import ms
from ..auth import accounts
from ..voice import calls as call_records
from ..voice import groups as group_store
from ..voice.runtime import get_runtime, rest_client
from ..voice.webhook import masked
from . import get_service, store
from .store import Campaign

log = logging.getLogger("cti.campaigns")

TICK_JOB = "connector.campaigns.dialer.tick"
#: How long a contact waits for the agent's result after the conversation (then 未入力).
WRAPUP_LIMIT = timedelta(minutes=30)
#: Twilio's REST error codes that mean "too many calls at once" (channel limit).
CHANNEL_LIMIT_CODES = frozenset({20429, 21215, 21611})
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
#: Result of the customer's final CallStatus when no agent conversation happened.
_BY_STATUS = {"busy": "busy", "no-answer": "no_answer", "failed": "error",
              "canceled": "cancelled", "completed": "abandoned"}
#: The call record's outcome for a campaign call that never reached a conversation.
_OUTCOME = {"busy": "busy", "no_answer": "no_answer", "error": "failed",
            "cancelled": "canceled", "abandoned": "abandoned", "channel_limit": "failed"}


class DialRefused(Exception):
    """The contact cannot be dialed now; ``code`` says why (for the preview API)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- the tick ---------------------------------------------------------------------------------

def tick(app: Flask | None = None) -> int:
    """One pacing round over every running campaign; returns the calls placed.

    A process that cannot reach Twilio (an embedded deployment's worker: the simulator runs
    in the web process) places nothing rather than failing every contact.
    """
    app = app or current_app
    if rest_client(app) is None:
        return 0
    now = clock.now(app)
    with db.get_engine(app).connect() as conn:
        running = store.all_campaigns(conn, "running")
    placed = 0
    for campaign in running:
        if campaign.settings.mode == "progressive":
            placed += tick_campaign(campaign, now)
        _complete_if_done(campaign, now)
    with db.get_engine(app).begin() as conn:
        for campaign in store.all_campaigns(conn):
            if campaign.status in ("running", "paused", "stopped"):
                store.expire_wrapups(conn, campaign.id, now - WRAPUP_LIMIT, now)
    return placed


def nudge() -> None:
    """An agent may have become free (a call or a result ended): pace now, not at the next
    maintenance tick — after the response is sent, or, with Twilio, in a worker, so a
    webhook never waits for REST calls."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if get_runtime(app).mode == "twilio":
        try:
            queue.get_queue("default", app).enqueue(TICK_JOB, job_id="campaigns-tick",
                                                    result_ttl=0, job_timeout=120)
        except Exception:  # the maintenance tick paces anyway
            log.exception("could not queue a campaign tick")
        return

    def run_tick() -> None:
        with app.app_context():
            tick(app)

    @after_this_request
    def later(response: Any) -> Any:
        response.call_on_close(run_tick)
        return response


def tick_campaign(campaign: Campaign, now: datetime) -> int:
    settings = campaign.settings
    if not window.is_open(settings.window, now, get_service().calendar):
        return 0
    if settings.survey is not None:
        return _tick_survey(campaign, now)
    board = get_acd().board
    with db.get_engine().connect() as conn:
        members = member_ids(conn, campaign)
        live = presence_ops.retry_loaded(conn, board, lambda: board.live(members, ms(now)))
        free = [a.agent_id for a in live if a.free]
        count = dialing.calls_to_place(len(free), store.in_flight(conn, campaign.id),
                                       settings.max_channels)
        if not count:
            return 0
        rows = store.due_contacts(conn, campaign.id, free, now, limit=count + len(free))
    candidates = [Candidate(r.id, now, r.owner_agent_id, r.recall_at is not None)
                  for r in rows]
    placed = 0
    for agent_id, candidate in dialing.assign(candidates, free, now)[:count]:
        try:
            dial(campaign, candidate.contact_id, agent_id, now)
            placed += 1
        except DialRefused as refused:
            log.debug("campaign dial skipped", extra={"campaign": campaign.id,
                                                      "code": refused.code})
    return placed


def _tick_survey(campaign: Campaign, now: datetime) -> int:
    """A survey needs no agent: up to ``max_channels`` calls at once, the earliest due first."""
    with db.get_engine().connect() as conn:
        count = campaign.settings.max_channels - store.in_flight(conn, campaign.id)
        rows = store.due_contacts(conn, campaign.id, [], now, limit=count) if count > 0 else []
    placed = 0
    for row in rows[:max(count, 0)]:
        try:
            dial(campaign, row.id, None, now)
            placed += 1
        except DialRefused as refused:
            log.debug("survey dial skipped", extra={"campaign": campaign.id,
                                                    "code": refused.code})
    return placed


def member_ids(conn: Connection, campaign: Campaign) -> list[int]:
    """The agents assigned: named ones, then the members of the named groups (once each)."""
    ids = list(store.agent_ids(conn, campaign.settings.agents).values())
    for name in campaign.settings.groups:
        group = group_store.get_group(conn, name)
        if group is not None:
            ids.extend(group.member_ids)
    return list(dict.fromkeys(ids))


def _complete_if_done(campaign: Campaign, now: datetime) -> None:
    with db.get_engine().begin() as conn:
        if store.open_count(conn, campaign.id) == 0 and store.contacts(conn, campaign.id,
                                                                       limit=1):
            store.change(conn, campaign.id, now=now, status="completed")


# --- one dial ---------------------------------------------------------------------------------

def dial(campaign: Campaign, contact_id: int, agent_id: int | None, now: datetime, *,
         from_state: str = "pending") -> int:
    """Dial one contact for one agent (``None``: a survey, which no agent takes); returns the
    attempt's id.

    Raises:
        DialRefused: ``agent_busy`` (the agent is not free), ``taken`` (the contact is no
            longer waiting), ``outside_window``; or the contact ended as ``restricted`` /
            ``do_not_call`` instead of being dialed.
    """
    settings = campaign.settings
    if not window.is_open(settings.window, now, get_service().calendar):
        raise DialRefused("outside_window")
    board = get_acd().board
    placeholder = "CM" + secrets.token_hex(16)
    ttl_seconds = settings.ring_seconds + settings.agent_ring_seconds + 30
    if agent_id is not None:
        with db.get_engine().begin() as conn:
            claimed = presence_ops.ring(conn, board, placeholder, [agent_id], max_agents=1,
                                        ring_seconds=ttl_seconds, group_id=None, now=now)
        if not claimed:
            raise DialRefused("agent_busy")
    try:
        with db.get_engine().begin() as conn:
            contact, attempt_id = _start_attempt(conn, campaign, contact_id, agent_id, now,
                                                 from_state)
    except DialRefused:
        _free_agent(board, agent_id, placeholder, now)
        raise
    return _place_call(campaign, contact, attempt_id, agent_id, placeholder, now)


def _start_attempt(conn: Connection, campaign: Campaign, contact_id: int,
                   agent_id: int | None,
                   now: datetime, from_state: str) -> tuple[Any, int]:
    if from_state == "pending":
        taken = store.take(conn, contact_id, "dialing", agent_id, now)
    else:
        taken = store.settle(conn, contact_id, state="dialing", now=now,
                             from_states=(from_state,))
    if not taken:
        raise DialRefused("taken")
    contact = store.contact(conn, contact_id)
    refusal = refusal_of(conn, contact.e164, campaign.settings.caller_id)
    number = contact.attempts + 1
    attempt_id = store.open_attempt(conn, campaign.id, contact_id, agent_id, number, now)
    if refusal is not None:
        store.change_attempt(conn, attempt_id, result=refusal, ended_at=now)
        store.settle(conn, contact_id, state="done", result=refusal, now=now, attempts=number,
                     recall_at=None)
        raise DialRefused(refusal)
    store.settle(conn, contact_id, state="dialing", now=now, attempts=number, recall_at=None)
    return contact, attempt_id


def refusal_of(conn: Connection, e164: str, caller_id: str) -> str | None:
    """``do_not_call`` or ``restricted`` when the number may not be called now (the lists
    may have changed since the import), else None."""
    if store.is_do_not_call(conn, e164):
        return "do_not_call"
    runtime = get_runtime()
    try:
        destination = numbering.parse_destination(e164)
    except NumberError:
        return "restricted"
    verdict = check_outbound(caller_id, destination,
                             allowed_countries=runtime.settings.allowed_countries)
    lists = runtime.cache.refresh(conn)
    if (not verdict.allowed or lists.restrict.match(destination.dial_string) is not None
            or lists.block.match(destination.dial_string) is not None):
        return "restricted"
    return None


def _place_call(campaign: Campaign, contact: Any, attempt_id: int, agent_id: int | None,
                placeholder: str, now: datetime) -> int:
    runtime, settings, board = get_runtime(), campaign.settings, get_acd().board
    client = rest_client()
    try:
        if client is None:
            raise TwilioRestException(503, "", msg="no Twilio REST client")
        call = client.calls.create(
            to=contact.e164, from_=settings.caller_id,
            url=answer_url(attempt_id), method="POST",
            status_callback=runtime.url("status"), status_callback_event=STATUS_EVENTS,
            timeout=settings.ring_seconds)
    except TwilioRestException as exc:
        result = "channel_limit" if exc.code in CHANNEL_LIMIT_CODES else "error"
        log.warning("campaign call not placed", extra={"campaign": campaign.id,
                                                        "to": masked(contact.e164),
                                                        "code": exc.code})
        _free_agent(board, agent_id, placeholder, now)
        with db.get_engine().begin() as conn:
            finish_attempt(conn, campaign, attempt_id, result, now)
        return attempt_id
    if agent_id is not None:
        board.rekey(agent_id, placeholder, call.sid,
                    (settings.ring_seconds + settings.agent_ring_seconds + 30) * 1000)
    with db.get_engine().begin() as conn:
        store.change_attempt(conn, attempt_id, call_sid=call.sid)
        store.set_last_call(conn, contact.id, call.sid, now)
        call_records.open_call(
            conn, call_sid=call.sid, direction="outbound", leg="customer", status="queued",
            now=now, from_number=settings.caller_id, to_number=contact.e164,
            customer_number=contact.e164, our_number=settings.caller_id, agent_id=agent_id,
            customer=_customer(contact), detail=f"campaign:{campaign.id}")
        if agent_id is not None:
            presence_record_call(conn, agent_id, call.sid, now)
    log.info("campaign call placed", extra={"campaign": campaign.id, "call_sid": call.sid,
                                            "to": masked(contact.e164)})
    return attempt_id


def survey_url(attempt_id: int, asked: int) -> str:
    return (f"{get_runtime().base_url}/twilio/campaigns/survey?attempt={attempt_id}"
            f"&asked={asked}")


def answer_url(attempt_id: int) -> str:
    return f"{get_runtime().base_url}/twilio/campaigns/answer?attempt={attempt_id}"


def bridged_url(attempt_id: int) -> str:
    return f"{get_runtime().base_url}/twilio/campaigns/bridged?attempt={attempt_id}"


def presence_record_call(conn: Connection, agent_id: int, call_sid: str, now: datetime
                         ) -> None:
    """The agent's presence record names the real call, as the board now does."""
    presence.set_status(conn, agent_id, "ringing", now=now, call_sid=call_sid)


def _free_agent(board: AgentBoard, agent_id: int | None, placeholder: str, now: datetime
                ) -> None:
    if agent_id is None:
        return
    with db.get_engine().begin() as conn:
        presence_ops.rang_out(conn, board, agent_id, placeholder, now=now, settings=None,
                              counted=False)


def _customer(contact: Any) -> dict[str, Any]:
    selected = None
    if contact.crm_id:
        selected = {"adapter": "", "id": contact.crm_id, "type": "", "name": contact.name}
    return {"name": contact.name, "company": contact.company, "matches": [],
            "selected": selected}


# --- how attempts end -------------------------------------------------------------------------

def finish_attempt(conn: Connection, campaign: Campaign, attempt_id: int, result: str,
                   now: datetime) -> bool:
    """Record a system result once and move the contact on (retry, or final)."""
    if not store.change_attempt(conn, attempt_id, only_open=True, result=result, ended_at=now):
        return False
    attempt = store.attempt(conn, attempt_id)
    contact = store.contact(conn, attempt.contact_id)
    following = results.after_attempt(result, contact.attempts, campaign.settings, now)
    if following.state == "pending" and store.get(conn, campaign.id).status == "stopped":
        following = results.Next("done")  # stopped while this call rang: no retry
    store.settle(conn, contact.id, state=following.state, due=following.due, result=result,
                 now=now, owner_agent_id=None, from_states=("dialing",))
    return True


def on_status(form: Any) -> None:
    """Status hook (after the voice core recorded the callback): a campaign callee's call
    ended without a conversation → its system result."""
    status, sid, to = form.get("CallStatus", ""), form.get("CallSid", ""), form.get("To", "")
    if status not in _BY_STATUS or not sid or to.startswith("client:") or form.get(
            "ParentCallSid"):
        return
    now = clock.now()
    with db.get_engine().begin() as conn:
        attempt = store.attempt_by_call(conn, sid)
        if attempt is None or attempt.result:
            return
        campaign = store.get(conn, attempt.campaign_id)
        if campaign is None:
            return
        row = call_records.get_row(conn, sid)
        if status == "completed" and campaign.settings.survey is not None and (
                attempt.answered_at is not None):
            finish_attempt(conn, campaign, attempt.id, "no_result", now)  # hung up unanswered
            return
        if status == "completed" and (attempt.bridged_at is not None or (
                row is not None and row["answered_at"] is not None)):
            _conversation_over(conn, attempt, now)  # before the dial action: same result
            return
        result = _BY_STATUS[status]
        if finish_attempt(conn, campaign, attempt.id, result, now):
            call_records.update_call(conn, sid, now, outcome=_OUTCOME[result])
    nudge()  # the reserved agent is free again


def _conversation_over(conn: Connection, attempt: Any, now: datetime) -> None:
    row = call_records.get_row(conn, attempt.call_sid)
    talk = (row["talk_seconds"] or 0) if row else 0
    store.change_attempt(conn, attempt.id, only_open=True, result="connected", ended_at=now,
                         talk_seconds=talk)
    store.settle(conn, attempt.contact_id, state="wrapup", now=now,
                 owner_agent_id=attempt.agent_id, from_states=("dialing",))


def agent_identity(conn: Connection, agent_id: int) -> str:
    agent = accounts.get_agent(conn, agent_id)
    return agent.username if agent else ""


def still_claimed(agent_id: int, call_sid: str) -> bool:
    return agent_id in get_acd().board.claimed_for(call_sid)


