"""``POST /api/calls/<CallSid>/wrapup``: the agent's disposition, notes and chosen customer.

Works before or after the call's final status arrives: before, the values wait on the call record
and go out with the first write-back; after, the log is written again (same CRM record, keyed by
CallSid). The CallSid may be the browser's own leg; the call record of its parent is updated.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import Connection, select, update

from . import clock, crm, db, phone_index, writeback
from .auth import current_agent, require_auth
from .auth.guard import ROLE_RANK
from .errors import APIError
from .messages import Text
from .schema import calls
from .validation import fields, invalid_fields, json_object

bp = Blueprint("wrapup", __name__)

MAX_NOTES = 32000  # Salesforce Task.Description holds 32,000 characters

NOTES_TOO_LONG = Text("メモは{limit}文字以内にしてください（今は{length}文字です）。",
                      "Notes may have at most {limit} characters (these have {length}).")
UNKNOWN_DISPOSITION = Text("結果「{value}」は設定された結果の一覧にありません。"
                           "次から選んでください: {choices}",
                           "The result \"{value}\" is not one of the configured results; choose "
                           "one of: {choices}")
NOT_YOUR_CALL = Text("この通話は別のオペレーターが対応しました。",
                     "This call was handled by another agent.")
NO_SUCH_CALL = Text("通話 {sid} は記録されていません。", "There is no call {sid}.")
NOT_AN_ADAPTER = Text("有効な CRM ではありません（{adapters}）", "not an enabled CRM adapter "
                                                              "({adapters})")
BAD_RECORD_ID = Text("1〜64文字のレコード ID を指定してください",
                     "a record id of 1 to 64 characters")


@bp.post("/api/calls/<call_sid>/wrapup")
@require_auth()
def wrapup(call_sid: str) -> Any:
    body = fields(json_object(), {}, {"disposition": str, "notes": str, "customer": dict})
    customer = _customer_ref(body.get("customer"))
    _check_values(body)
    agent = current_agent()
    now = clock.now()
    with db.get_engine().begin() as conn:
        call = _parent_call(conn, call_sid)
        if not _may_wrap_up(conn, call, agent):
            raise APIError(403, "forbidden", NOT_YOUR_CALL)
        data = dict(call.customer or {})
        if customer is not None:
            data["chosen"] = customer
            if call.customer_number:
                phone_index.record_choice(conn, call.customer_number, customer["adapter"],
                                          customer["id"], agent.id, now)
        values = {"customer": data, "updated_at": now}
        for key in ("disposition", "notes"):
            if key in body:
                values[key] = body[key].strip()
        conn.execute(update(calls).where(calls.c.call_sid == call.call_sid).values(**values))
        final = call.finalized_at is not None
    if final:
        writeback.call_updated(call.call_sid)
    return jsonify({"call_sid": call.call_sid, "final": final,
                    "disposition": values.get("disposition", call.disposition),
                    "notes": values.get("notes", call.notes), "customer": data.get("chosen"),
                    "writeback": "queued" if final else "when the call ends"})


def _check_values(body: dict[str, Any]) -> None:
    """One 422 naming every bad value: the message is the problem itself, so the softphone can
    show it as it is."""
    problems: dict[str, Text] = {}
    codes: dict[str, str] = {}
    disposition = body.get("disposition", "").strip()
    choices = current_app.config["CTI_SETTINGS"].softphone.dispositions
    if disposition and disposition not in choices:
        problems["disposition"] = UNKNOWN_DISPOSITION.format(value=disposition[:100],
                                                             choices="、".join(choices))
        codes["disposition"] = "unknown_disposition"
    notes = body.get("notes", "").strip()
    if len(notes) > MAX_NOTES:
        problems["notes"] = NOTES_TOO_LONG.format(limit=MAX_NOTES, length=len(notes))
        codes["notes"] = "too_long"
    if problems:
        error = invalid_fields(problems, codes)
        if len(problems) == 1:  # the message is the problem, without the field's name
            error = APIError(422, error.code, next(iter(problems.values())), error.details)
        raise error


def _may_wrap_up(conn: Connection, call: Any, agent: Any) -> bool:
    """The call's agent, any agent who had a leg of it (a transfer's target), or a
    supervisor; calls nobody has answered yet are open to every agent."""
    if call.agent_id in (None, agent.id) or ROLE_RANK[agent.role] >= ROLE_RANK["supervisor"]:
        return True
    return conn.execute(select(calls.c.call_sid).where(
        calls.c.parent_call_sid == call.call_sid, calls.c.agent_id == agent.id)).first() is not None


def _parent_call(conn: Connection, call_sid: str) -> Any:
    call = conn.execute(select(calls).where(calls.c.call_sid == call_sid)).first()
    if call is None:
        raise APIError(404, "unknown_call", NO_SUCH_CALL.format(sid=call_sid[:64]))
    if call.parent_call_sid:
        parent = conn.execute(select(calls).where(
            calls.c.call_sid == call.parent_call_sid)).first()
        if parent is not None:
            return parent
    return call


def _customer_ref(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    adapter, record_id = value.get("adapter"), value.get("id")
    problems: dict[str, Text] = {}
    adapters = crm.get_layer().adapters
    if adapter not in adapters:
        problems["customer.adapter"] = NOT_AN_ADAPTER.format(adapters=", ".join(adapters))
    if not isinstance(record_id, str) or not record_id.strip() or len(record_id) > 64:
        problems["customer.id"] = BAD_RECORD_ID
    if problems:
        raise invalid_fields(problems)
    ref = {"adapter": adapter, "id": record_id.strip()}
    for key in ("type", "name"):
        if isinstance(value.get(key), str):
            ref[key] = value[key][:255]
    return ref
