"""``/console/api/monitor``: supervisors listen to, whisper to, or join an agent's call (CF-11).

* ``GET /console/api/monitor`` — your monitorings going on;
* ``POST /console/api/monitor`` ``{agent_id, mode, phone?}`` — join the agent's call (from your
  softphone, or ``phone``), in ``monitor``, ``whisper`` or ``barge`` mode (201);
* ``PATCH /console/api/monitor/<session>`` ``{mode}`` — switch mode;
* ``DELETE /console/api/monitor/<session>`` — leave the call.

Supervisors and admins only (the ``monitor`` screen's ``update`` permission); agents get 403
from the console's guard. Errors name the field: 422 for bad input, 404 for an unknown agent or
session, 409 when the agent is not on a call or the call is not bridged through a conference.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request

from .. import clock, db
from ..monitor import service, sessions
from .board import forget_snapshots
from .common import bp
from .guard import require
from .security import client_ip


def _who() -> sessions.Who:
    return sessions.Who(g.agent.id, g.agent.username, client_ip(),
                        request.headers.get("User-Agent", ""))


def _refused(exc: service.MonitorError) -> Any:
    response = jsonify({"error": {"code": "invalid_fields", "message": str(exc),
                                  "details": {"fields": exc.problems}}})
    response.status_code = exc.status
    return response


@bp.get("/api/monitor")
@require("monitor", "view", api=True)
def my_monitorings() -> Any:
    with db.get_engine().connect() as conn:
        found = sessions.open_sessions(conn, supervisor_id=g.agent.id)
    return jsonify({"sessions": [s.public() for s in found]})


@bp.post("/api/monitor")
@require("monitor", "update", api=True)
def start_monitoring() -> Any:
    body = request.get_json(silent=True) or {}
    try:
        with db.get_engine().begin() as conn:
            session = service.start(conn, _who(), g.agent, agent_id=body.get("agent_id"),
                                    mode=body.get("mode"), phone=body.get("phone"),
                                    now=clock.now())
    except service.MonitorError as exc:
        return _refused(exc)
    forget_snapshots()
    return jsonify(session.public()), 201


@bp.patch("/api/monitor/<leg>")
@require("monitor", "update", api=True)
def switch_mode(leg: str) -> Any:
    body = request.get_json(silent=True) or {}
    try:
        with db.get_engine().begin() as conn:
            session = service.switch(conn, _who(), g.agent, leg, body.get("mode"), clock.now())
    except service.MonitorError as exc:
        return _refused(exc)
    return jsonify(session.public())


@bp.delete("/api/monitor/<leg>")
@require("monitor", "update", api=True)
def stop_monitoring(leg: str) -> Any:
    try:
        with db.get_engine().begin() as conn:
            service.stop(conn, _who(), g.agent, leg, clock.now())
    except service.MonitorError as exc:
        return _refused(exc)
    forget_snapshots()
    return jsonify({"session": leg, "stopped": True})
