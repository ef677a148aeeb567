"""``/api/campaigns`` for agents: preview dialing, results, recalls (再コール一覧).

* ``GET /api/campaigns/mine`` — the running campaigns the agent is assigned to.
* ``POST /api/campaigns/<id>/preview/next`` — the next contact for the agent (kept for them
  until 発信 or スキップ), ``{"contact": null}`` when none is due.
* ``POST /api/campaigns/contacts/<cid>/dial`` — 発信: the callee is called, then the agent.
* ``POST /api/campaigns/contacts/<cid>/skip`` — スキップ: back to the end of the list.
* ``POST /api/campaigns/contacts/<cid>/result`` — ``{"result", "note"?, "recall"?: {"after":
  "10m"|"1h"|"1d"} | {"at": ISO}, "recall_for"?: "me"|"campaign", "do_not_call"?: bool}``.
* ``GET /api/campaigns/recalls`` — the agent's recalls, soonest first.
* ``GET /api/campaigns/current`` — the contact the agent works on now (プレビュー, 発信中 or
  後処理, in any campaign) with its campaign and CRM records, ``{"contact": null}`` when none:
  what the softphone's campaign panel shows, also for a progressive call bridged to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify

from voice.campaigns import results, window

from .. import clock, db, presence, writeback
from ..acd import get_acd, presence_ops
from ..auth import current_agent, require_auth
from ..errors import APIError
from ..messages import Text
from ..validation import fields, invalid_fields, json_object
from ..voice import calls as call_records
from ..voice.lookup import customer_of
from . import dialer, get_service, store, texts
from .store import Campaign

bp = Blueprint("campaigns_agent", __name__, url_prefix="/api/campaigns")


def contact_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "campaign_id": row.campaign_id, "line": row.line, "e164": row.e164,
            "display": row.display, "name": row.name, "company": row.company,
            "crm_id": row.crm_id, "note": row.note, "extra": row.extra or {},
            "state": row.state, "attempts": row.attempts, "due_at": row.due_at.isoformat(),
            "owner_agent_id": row.owner_agent_id,
            "recall_at": row.recall_at.isoformat() if row.recall_at else None,
            "result": row.result, "agent_note": row.agent_note,
            "last_call_sid": row.last_call_sid}


@bp.get("/mine")
@require_auth("agent")
def mine() -> Any:
    agent = current_agent()
    with db.get_engine().connect() as conn:
        found = [c for c in store.all_campaigns(conn)
                 if c.status in ("running", "paused") and agent.id in dialer.member_ids(conn, c)]
    return jsonify({"campaigns": [campaign_summary(c) for c in found]})


def campaign_summary(campaign: Campaign) -> dict[str, Any]:
    """What an agent's screen needs of a campaign: its mode and the results to choose from."""
    return {"id": campaign.id, "name": campaign.name, "status": campaign.status,
            "mode": campaign.settings.mode,
            "dispositions": [{"code": d.code, "label": d.label, "final": d.final}
                             for d in campaign.settings.dispositions]}


@bp.get("/current")
@require_auth("agent")
def current() -> Any:
    agent = current_agent()
    with db.get_engine().connect() as conn:
        row = store.working_contact(conn, agent.id)
        campaign = store.get(conn, row.campaign_id) if row is not None else None
    if row is None or campaign is None:
        return jsonify({"contact": None})
    return jsonify({"contact": contact_json(row), "campaign": campaign_summary(campaign),
                    "customer": customer_of(row.e164)})


@bp.post("/<int:campaign_id>/preview/next")
@require_auth("agent")
def preview_next(campaign_id: int) -> Any:
    agent, now = current_agent(), clock.now()
    with db.get_engine().begin() as conn:
        campaign = _assigned_campaign(conn, campaign_id, agent.id)
        if campaign.settings.mode != "preview":
            raise APIError(409, "not_preview", texts.NOT_PREVIEW)
        kept = store.contacts_of_agent(conn, campaign_id, agent.id, "preview")
        row = kept[0] if kept else _take_next(conn, campaign, agent.id, now)
    if row is None:
        return jsonify({"contact": None})
    return jsonify({"contact": contact_json(row), "customer": customer_of(row.e164)})


def _take_next(conn: Any, campaign: Campaign, agent_id: int, now: datetime) -> Any:
    if campaign.status != "running" or not window.is_open(
            campaign.settings.window, now, get_service().calendar):
        return None
    for due in store.due_contacts(conn, campaign.id, [agent_id], now, limit=5):
        if store.take(conn, due.id, "preview", agent_id, now):
            return store.contact(conn, due.id)
    return None


@bp.post("/contacts/<int:contact_id>/dial")
@require_auth("agent")
def dial(contact_id: int) -> Any:
    agent, now = current_agent(), clock.now()
    with db.get_engine().connect() as conn:
        row, campaign = _own_contact(conn, contact_id, agent.id, ("preview",))
    if campaign.status != "running":
        raise APIError(409, "campaign_not_running",
                       texts.BAD_TRANSITION.format(status=campaign.status))
    try:
        attempt_id = dialer.dial(campaign, row.id, agent.id, now, from_state="preview")
    except dialer.DialRefused as refused:
        raise _refused(refused.code) from None
    with db.get_engine().connect() as conn:
        attempt = store.attempt(conn, attempt_id)
    return jsonify({"attempt": {"id": attempt_id, "call_sid": attempt.call_sid,
                                "result": attempt.result}})


def _refused(code: str) -> APIError:
    if code == "outside_window":
        return APIError(409, code, texts.OUTSIDE_WINDOW)
    if code == "agent_busy":
        return APIError(409, code, texts.AGENT_BUSY)
    if code == "taken":
        return APIError(409, code, texts.ALREADY_TAKEN)
    return APIError(422, code, texts.REFUSED.format(code=code))


@bp.post("/contacts/<int:contact_id>/skip")
@require_auth("agent")
def skip(contact_id: int) -> Any:
    agent, now = current_agent(), clock.now()
    with db.get_engine().begin() as conn:
        row, campaign = _own_contact(conn, contact_id, agent.id, ("preview",))
        following = results.after_attempt("skipped", row.attempts, campaign.settings, now)
        store.settle(conn, row.id, state=following.state, due=following.due, now=now,
                     owner_agent_id=None, from_states=("preview",))
        row = store.contact(conn, row.id)
    return jsonify({"contact": contact_json(row)})


@bp.post("/contacts/<int:contact_id>/result")
@require_auth("agent")
def enter_result(contact_id: int) -> Any:
    agent, now = current_agent(), clock.now()
    body = fields(json_object(), {"result": str},
                  {"note": str, "recall": dict, "recall_for": str, "do_not_call": bool})
    with db.get_engine().begin() as conn:
        row, campaign = _own_contact(conn, contact_id, agent.id, ("wrapup",))
        recall_at, owner = _recall(body, campaign, agent.id, now)
        following = results.after_disposition(recall_at)
        note = body.get("note", "")[:2000]
        # A final result stays with the agent who entered it (their キャンペーン統計); a recall
        # belongs to whoever it rings (this agent, or nobody for the campaign's own).
        store.settle(conn, row.id, state=following.state, due=following.due,
                     result=body["result"], agent_note=note,
                     owner_agent_id=owner if recall_at is not None else agent.id,
                     recall_at=recall_at, now=now, from_states=("wrapup",))
        if body.get("do_not_call"):
            store.mark_do_not_call(conn, row.e164, f"{campaign.name}: {body['result']}",
                                   now=now, by=agent.id)
            store.end_do_not_call_contacts(conn, row.e164, now)
        label = results.label(body["result"], campaign.settings)
        if row.last_call_sid:
            call_records.update_call(conn, row.last_call_sid, now, disposition=label[:100],
                                     notes=note)
        _end_wrapup(conn, agent.id, now)
        row = store.contact(conn, row.id)
        final = (call_records.get_row(conn, row.last_call_sid) if row.last_call_sid
                 else None)
    if final is not None and final["finalized_at"] is not None:
        writeback.call_updated(row.last_call_sid)  # the CRM log gets the result and note
    dialer.nudge()  # the agent is 待機 again: their next call
    return jsonify({"contact": contact_json(row)})


def _recall(body: dict[str, Any], campaign: Campaign, agent_id: int, now: datetime
            ) -> tuple[datetime | None, int | None]:
    problems: dict[str, Text] = {}
    code = body["result"]
    if campaign.settings.disposition(code) is None:
        problems["result"] = texts.UNKNOWN_RESULT
    recall, recall_at = body.get("recall"), None
    if recall is not None:
        if set(recall) == {"after"} and recall["after"] in results.RECALL_PRESETS:
            recall_at = now + results.RECALL_PRESETS[recall["after"]]
        elif set(recall) == {"at"} and isinstance(recall["at"], str):
            recall_at = _iso(recall["at"])
            if recall_at is None:
                problems["recall.at"] = texts.BAD_RECALL
            elif recall_at <= now:
                problems["recall.at"] = texts.RECALL_IN_PAST
        else:
            problems["recall"] = texts.BAD_RECALL
    recall_for = body.get("recall_for", "me")
    if recall_for not in ("me", "campaign"):
        problems["recall_for"] = texts.BAD_RECALL_FOR
    if problems:
        raise invalid_fields(problems)
    owner = agent_id if recall_at is not None and recall_for == "me" else None
    return recall_at, owner


def _iso(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _end_wrapup(conn: Any, agent_id: int, now: datetime) -> None:
    """Entering the result ends the agent's 後処理: back to 待機 for the next call."""
    if presence.get(conn, agent_id).status == "acw":
        presence_ops.choose(conn, get_acd().board, agent_id, "available", now=now)


@bp.get("/recalls")
@require_auth("agent")
def recalls() -> Any:
    agent = current_agent()
    with db.get_engine().connect() as conn:
        rows = store.recalls(conn, agent.id)
    return jsonify({"recalls": [{**contact_json(r), "campaign_name": r.campaign_name}
                                for r in rows]})


def _assigned_campaign(conn: Any, campaign_id: int, agent_id: int) -> Campaign:
    campaign = store.get(conn, campaign_id)
    if campaign is None:
        raise APIError(404, "not_found", texts.NOT_FOUND)
    if agent_id not in dialer.member_ids(conn, campaign):
        raise APIError(403, "not_assigned", texts.NOT_ASSIGNED)
    return campaign


def _own_contact(conn: Any, contact_id: int, agent_id: int, states: tuple[str, ...]
                 ) -> tuple[Any, Campaign]:
    row = store.contact(conn, contact_id)
    if row is None:
        raise APIError(404, "not_found", texts.CONTACT_NOT_FOUND)
    campaign = _assigned_campaign(conn, row.campaign_id, agent_id)
    if row.owner_agent_id != agent_id:
        raise APIError(403, "not_yours", texts.NOT_YOURS)
    if row.state not in states:
        raise APIError(409, "wrong_state", texts.NOT_IN_STATE.format(state=row.state))
    return row, campaign
