"""``POST /api/calls/<CallSid>/wrapup``: the agent's disposition, notes and chosen customer.

Works before or after the call's final status arrives: before, the values wait on the call record
and go out with the first write-back; after, the log is written again (same CRM record, keyed by
CallSid). The CallSid may be the browser's own leg; the call record of its parent is updated.

Who may wrap a call up is who may read it (:mod:`connector.call_access`): a call an agent gets
a 404 for reading — someone else's, a missed call, a voicemail — is a 404 here too. The
customer record attached must be one the call matched (ring-time lookup, the record the agent
clicked to dial, an earlier choice) or one the agent can see: for the built-in CRM a live
customer (every agent may read them). A record of an external CRM (Salesforce, kintone) comes
from the agent's own CRM screen — found there or just created — and cannot be checked with the
agent's rights from here (the connector reads the CRM as its integration user): it is
accepted, and logged.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import Connection, select, update

from . import call_access, clock, crm, db, phone_index, writeback
from .auth import current_agent, require_auth
from .errors import APIError
from .messages import Text
from .schema import calls, customers
from .schema import phone_index as phone_index_table
from .validation import fields, invalid_fields, json_object

bp = Blueprint("wrapup", __name__)
log = logging.getLogger("cti.wrapup")

MAX_NOTES = 32000  # Salesforce Task.Description holds 32,000 characters

NOTES_TOO_LONG = Text("メモは{limit}文字以内にしてください（今は{length}文字です）。",
                      "Notes may have at most {limit} characters (these have {length}).")
UNKNOWN_DISPOSITION = Text("結果「{value}」は設定された結果の一覧にありません。"
                           "次から選んでください: {choices}",
                           "The result \"{value}\" is not one of the configured results; choose "
                           "one of: {choices}")
UNKNOWN_RECORD = Text("この通話で見つかった顧客でも、内蔵 CRM の顧客でもありません",
                      "not a record this call matched, nor a built-in CRM customer")
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
        if not call_access.may_see(conn, agent, call):
            # The answer reading gives: others' calls are indistinguishable from none.
            raise APIError(404, "unknown_call", NO_SUCH_CALL.format(sid=call_sid[:64]))
        data = dict(call.customer or {})
        if customer is not None and not _record_allowed(conn, data, customer):
            raise invalid_fields({"customer.id": UNKNOWN_RECORD}, {"customer.id": "unknown_record"})
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


def _record_allowed(conn: Connection, customer: dict[str, Any], ref: dict[str, Any]) -> bool:
    """The record is one of the call's own, or a record the connector knows exists."""
    own = [*customer.get("matches", []), customer.get("selected") or {},
           customer.get("chosen") or {}]
    if any(isinstance(m, dict) and m.get("adapter") == ref["adapter"]
           and m.get("id") == ref["id"] for m in own):
        return True
    if ref["adapter"] == "builtin":
        if not ref["id"].isdigit():
            return False
        return conn.execute(select(customers.c.id).where(
            customers.c.id == int(ref["id"]), customers.c.deleted_at.is_(None))).first() is not None
    known = conn.execute(select(phone_index_table.c.id).where(
        phone_index_table.c.adapter == ref["adapter"],
        phone_index_table.c.record_id == ref["id"]).limit(1)).first() is not None
    if not known:  # found or created on the agent's CRM screen (see the module docstring)
        log.info("wrap-up attached a record the call did not match",
                 extra={"adapter": ref["adapter"], "record_id": ref["id"]})
    return True


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
