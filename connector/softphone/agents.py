"""``/api/agents``: agent statuses (SPEC SP-6) and the one active softphone device (SP-9).

* ``GET/PUT /api/agents/me/status`` — the softphone shows and sets its agent's status; calls
  drive 着信中 / 通話中 / 保留 / 後処理 automatically, the agent chooses 待機 / 離席 / 停止.
* ``GET /api/agents`` and ``PUT /api/agents/<id>/status`` — supervisors see everyone and may
  change anyone's status (the agent's softphone picks it up with its next heartbeat).
* ``POST /api/agents/me/device`` (register), ``POST …/device/heartbeat``, ``DELETE …/device``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import Connection, select

from .. import clock, db, presence
from ..acd import events as acd_events
from ..acd import get_acd, presence_ops
from ..auth import accounts as account_store
from ..auth import current_agent, require_auth
from ..errors import APIError
from ..schema import stop_statuses
from ..validation import fields, json_object
from . import devices

bp = Blueprint("softphone_agents", __name__, url_prefix="/api/agents")


def _settings() -> Any:
    return current_app.config["CTI_SETTINGS"].softphone


def _stale_after() -> timedelta:
    return timedelta(seconds=_settings().device_stale_seconds)


def presence_json(conn: Connection, agent_id: int) -> dict[str, Any]:
    """An agent's status for the API: code, Japanese and English labels, since, stop status."""
    state = presence.get(conn, agent_id)
    stop = None
    if state.stop_status_id is not None:
        row = conn.execute(select(stop_statuses).where(
            stop_statuses.c.id == state.stop_status_id)).first()
        if row is not None:
            stop = {"id": row.id, "name": row.name, "icon": row.icon, "color": row.color}
    return {
        "status": state.status,
        "label": stop["name"] if stop else presence.LABELS_JA[state.status],
        "label_en": stop["name"] if stop else presence.LABELS_EN[state.status],
        "since": state.since.isoformat() if state.since else None,
        "stop_status": stop,
        "updated_by": state.updated_by,
    }


def _change_status(agent_id: int, by: int, *, force: bool = False) -> dict[str, Any]:
    """A chosen status (待機 / 離席 / 停止 / offline); the call statuses are the server's."""
    body = fields(json_object(), {"status": str}, {"stop_status_id": int})
    answer = _save_status(agent_id, by, body, force=force)
    if body["status"] == "available":  # waiting callers may be offered to the agent now
        acd_events.agent_may_be_free(agent_id)
    return answer


def _save_status(agent_id: int, by: int, body: dict[str, Any], *, force: bool
                 ) -> dict[str, Any]:
    stop_id = body.get("stop_status_id")
    with db.get_engine().begin() as conn:
        if stop_id is not None and not conn.execute(select(stop_statuses.c.id).where(
                stop_statuses.c.id == stop_id, stop_statuses.c.active.is_(True))).first():
            raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                           {"fields": {"stop_status_id": "no active stop status with this id"}})
        try:
            presence_ops.choose(conn, get_acd().board, agent_id, body["status"],
                                now=clock.now(), by=by, stop_status_id=stop_id, force=force)
        except presence.PresenceError as exc:
            name, _, problem = str(exc).partition(": ")
            raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                           {"fields": {name: problem}}) from None
        except presence_ops.Busy as exc:
            raise APIError(409, "busy_with_call",
                           "通話中は状態を変更できません（通話が終わると自動で切り替わります）。 "
                           "(The status follows the call until it ends.)",
                           {"status": exc.status}) from None
        return presence_json(conn, agent_id)


@bp.get("/me/status")
@require_auth()
def my_status() -> Any:
    with db.get_engine().connect() as conn:
        return jsonify(presence_json(conn, current_agent().id))


@bp.put("/me/status")
@require_auth()
def set_my_status() -> Any:
    agent = current_agent()
    return jsonify(_change_status(agent.id, by=agent.id))


@bp.get("")
@require_auth("supervisor")
def list_agents() -> Any:
    """Every active agent with status and device — the supervisor's view."""
    now = clock.now()
    with db.get_engine().begin() as conn:
        devices.sweep_stale(conn, now=now, stale_after=_stale_after(),
                            on_offline=_off_board)
        rows = [{
            **agent.public(),
            "presence": presence_json(conn, agent.id),
            "device": devices.active_device(conn, agent.id, now=now,
                                            stale_after=_stale_after()),
        } for agent in account_store.list_agents(conn) if agent.active]
    return jsonify({"agents": rows})


@bp.put("/<int:agent_id>/status")
@require_auth("supervisor")
def set_agent_status(agent_id: int) -> Any:
    with db.get_engine().connect() as conn:
        if account_store.get_agent(conn, agent_id) is None:
            raise APIError(404, "not_found", f"no agent with id {agent_id}")
    # A supervisor may release an agent stuck on a call whose end never reported.
    return jsonify(_change_status(agent_id, by=current_agent().id, force=True))


def _off_board(agent_id: int) -> None:
    presence_ops.went_offline(get_acd().board, agent_id, clock.now())


# -- the softphone device -------------------------------------------------------------------

def _device_id(body: dict[str, Any]) -> str:
    device_id = body["device_id"]
    if not devices.DEVICE_ID_RE.fullmatch(device_id):
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": {"device_id": "8 to 64 letters, digits, '-' or '_'"}})
    return device_id


@bp.post("/me/device")
@require_auth()
def register_device() -> Any:
    body = fields(json_object(), {"device_id": str}, {"takeover": bool})
    device_id = _device_id(body)
    settings = _settings()
    agent = current_agent()
    with db.get_engine().begin() as conn:
        try:
            registration = devices.register(
                conn, agent.id, device_id, now=clock.now(), policy=settings.second_device,
                stale_after=_stale_after(), takeover=body.get("takeover", False))
        except devices.DeviceInUse as exc:
            raise APIError(409, "device_in_use",
                           "別の端末でこのオペレーターのソフトフォンが使用中です。 "
                           "(Another device is using this agent's softphone.)",
                           {"can_take_over": exc.can_take_over,
                            "policy": settings.second_device}) from None
        return jsonify({"device_id": registration.device_id,
                        "replaced": registration.replaced is not None,
                        "heartbeat_seconds": settings.device_heartbeat_seconds,
                        "presence": presence_json(conn, agent.id)})


@bp.post("/me/device/heartbeat")
@require_auth()
def device_heartbeat() -> Any:
    body = fields(json_object(), {"device_id": str})
    device_id = _device_id(body)
    agent = current_agent()
    now = clock.now()
    with db.get_engine().begin() as conn:
        try:
            devices.heartbeat(conn, agent.id, device_id, now=now)
        except devices.DeviceReplaced:
            raise APIError(409, "device_replaced",
                           "別の端末がこのオペレーターのソフトフォンを引き継ぎました。 "
                           "(Another device took over this agent's softphone.)") from None
        # Any agent's heartbeat tidies up everyone's vanished browsers.
        devices.sweep_stale(conn, now=now, stale_after=_stale_after(),
                            on_offline=_off_board)
        return jsonify({"presence": presence_json(conn, agent.id)})


@bp.delete("/me/device")
@require_auth()
def release_device() -> Any:
    body = fields(json_object(), {"device_id": str})
    device_id = _device_id(body)
    with db.get_engine().begin() as conn:
        released = devices.release(conn, current_agent().id, device_id, now=clock.now())
    if released:
        _off_board(current_agent().id)
    return jsonify({"released": released})
