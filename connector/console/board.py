"""The real-time board (SPEC ST-2): today's figures per group, waiting callers, agents.

The browser polls ``/console/api/board`` every ``[console] board_refresh_ms`` (1 s). The
snapshot is computed from the database at most once per refresh interval for all web instances
together: the first instance to need it stores it in Redis
(``cti:console:board:<deployment>:<hours>``, with that lifetime) and the others read it, so
every screen shows the same figures and the database sees one set of queries per second however
many supervisors watch. A status change by a supervisor deletes the snapshots, so the change
shows on the next poll.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app, g, jsonify, request
from sqlalchemy import Connection, func, select

from .. import clock, db, presence, queue
from ..schema import (
    agent_group_members,
    agent_groups,
    agent_presence,
    agents,
    calls,
    stop_statuses,
)
from . import audit, stats_sql, texts
from .common import FormError, bp, int_arg, page, zone
from .guard import require
from .security import client_ip

ON_CALL = ("on_call", "ringing", "hold")
KEY = "cti:console:board:{deployment}:{hours}"
HOURS = (3, 6, 12, 24)


def snapshot(conn: Connection, now: datetime, tz: Any, hours: int) -> dict[str, Any]:
    """Everything the board shows, as JSON-ready data."""
    day_start = datetime.combine(now.astimezone(tz).date(), time(0), tz)
    figures = stats_sql.today_by_group(conn, day_start, now + timedelta(seconds=1))
    groups = conn.execute(select(agent_groups).order_by(agent_groups.c.name)).all()
    members: dict[int, list[int]] = {}
    for row in conn.execute(select(agent_group_members)):
        members.setdefault(row.group_id, []).append(row.agent_id)
    people = _agents(conn, now, day_start)
    waiting = _waiting(conn, now, day_start)
    chart_start = now - timedelta(hours=hours)
    board_groups = [_group(None, "", people, list(people), figures.get(None), waiting)]
    for group in groups:
        board_groups.append(_group(group.id, group.display_name or group.name, people,
                                   members.get(group.id, []), figures.get(group.id), waiting))
    return {"at": now.isoformat(), "hours": hours, "groups": board_groups,
            "agents": list(people.values()), "waiting": waiting,
            "chart": stats_sql.rate_series(conn, chart_start, now + timedelta(seconds=1),
                                           group_id=None)}


def _group(group_id: int | None, name: str, people: dict[int, dict[str, Any]],
           member_ids: list[int], figures: dict[str, Any] | None,
           waiting: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = [people[a]["status"] for a in member_ids if a in people]
    figures = figures or stats_sql._figures(None)
    return {"id": group_id, "name": name, **{k: figures[k] for k in (
        "calls", "answered", "abandoned", "overflow", "timed_out", "answer_rate")},
            "agents_total": len(statuses),
            "agents_online": sum(s != "offline" for s in statuses),
            "on_call": sum(s in ON_CALL for s in statuses),
            "available": statuses.count("available"),
            "paused": statuses.count("paused"),
            "waiting": sum(1 for w in waiting if group_id is None or w["group_id"] == group_id)}


def _agents(conn: Connection, now: datetime, day_start: datetime) -> dict[int, dict[str, Any]]:
    today = dict(conn.execute(select(calls.c.agent_id, func.count()).where(
        calls.c.parent_call_sid.is_(None), calls.c.agent_id.is_not(None),
        calls.c.started_at >= day_start, calls.c.answered_at.is_not(None)).group_by(
        calls.c.agent_id)).all())
    query = select(agents.c.id, agents.c.username, agents.c.display_name, agents.c.extension,
                   agent_presence.c.status, agent_presence.c.since,
                   stop_statuses.c.name.label("stop_name")).select_from(
        agents.outerjoin(agent_presence, agent_presence.c.agent_id == agents.c.id).outerjoin(
            stop_statuses, stop_statuses.c.id == agent_presence.c.stop_status_id)).where(
        agents.c.active.is_(True), agents.c.role == "agent").order_by(agents.c.username)
    out = {}
    for row in conn.execute(query):
        status = row.status or "offline"
        out[row.id] = {"id": row.id, "username": row.username, "name": row.display_name,
                       "extension": row.extension, "status": status,
                       "stop_status": row.stop_name or "",
                       "seconds": int((now - row.since).total_seconds()) if row.since else None,
                       "today_calls": int(today.get(row.id, 0))}
    return out


def _waiting(conn: Connection, now: datetime, day_start: datetime) -> list[dict[str, Any]]:
    """Callers in a group who are neither answered nor gone (the ACD's queue, once it lands)."""
    rows = conn.execute(select(calls.c.call_sid, calls.c.group_id, calls.c.customer_number,
                               calls.c.started_at).where(
        calls.c.parent_call_sid.is_(None), calls.c.direction == "inbound",
        calls.c.group_id.is_not(None), calls.c.started_at >= day_start - timedelta(hours=6),
        calls.c.answered_at.is_(None), calls.c.ended_at.is_(None)).order_by(
        calls.c.started_at)).all()
    return [{"call_sid": r.call_sid, "group_id": r.group_id,
             "number": _masked(r.customer_number),
             "seconds": int((now - r.started_at).total_seconds())} for r in rows]


def _masked(number: str) -> str:
    """Supervisors see the caller's last four digits only on the wallboard."""
    return ("…" + number[-4:]) if number else ""


def cached_snapshot(hours: int) -> dict[str, Any]:
    settings = current_app.config["CTI_SETTINGS"].console
    client = queue.get_redis()
    key = KEY.format(deployment=queue.deployment_id(), hours=hours)
    raw = client.get(key)
    if raw:
        return json.loads(raw)
    with db.get_engine().connect() as conn:
        data = snapshot(conn, clock.now(), zone(), hours)
    client.set(key, json.dumps(data, ensure_ascii=False), px=settings.board_refresh_ms,
               nx=True)
    return data


def forget_snapshots() -> None:
    deployment = queue.deployment_id()
    queue.get_redis().delete(*(KEY.format(deployment=deployment, hours=h) for h in HOURS))


@bp.get("/board")
@require("board", "view")
def board() -> Any:
    with db.get_engine().connect() as conn:
        choices = conn.execute(select(stop_statuses).where(
            stop_statuses.c.active.is_(True)).order_by(stop_statuses.c.sort_order)).all()
    lang = texts.language()
    labels = presence.LABELS_JA if lang == "ja" else presence.LABELS_EN
    return page("board.html", "board", labels=labels, stop_choices=choices, hours=HOURS,
                tz=current_app.config["CTI_SETTINGS"].console.timezone,
                refresh=current_app.config["CTI_SETTINGS"].console.board_refresh_ms)


@bp.get("/api/board")
@require("board", "view", api=True)
def board_data() -> Any:
    hours = int_arg("hours", 3, 24) or 3
    if hours not in HOURS:
        raise FormError({"hours": "3, 6, 12 or 24"})
    response = jsonify(cached_snapshot(hours))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/agents/<int:agent_id>/status")
@require("board", "update", api=True)
def change_status(agent_id: int) -> Any:
    body = request.get_json(silent=True) or {}
    status, stop = body.get("status"), body.get("stop_status_id")
    if stop is not None and not isinstance(stop, int):
        raise FormError({"stop_status_id": "a stop status id or null"})
    now = clock.now()
    with db.get_engine().begin() as conn:
        if conn.execute(select(agents.c.id).where(agents.c.id == agent_id)).first() is None:
            raise FormError({"agent": f"no agent with id {agent_id}"})
        before = presence.get(conn, agent_id)
        try:
            after = presence.set_status(conn, agent_id, str(status), now=now, by=g.agent.id,
                                        stop_status_id=stop)
        except presence.PresenceError as exc:
            field, _, problem = str(exc).partition(": ")
            raise FormError({field: problem}) from None
        audit.record(conn, at=now, action="presence.change", actor_id=g.agent.id,
                     actor=g.agent.username, target=f"agent:{agent_id}",
                     details={"from": before.status, "to": after.status,
                              "stop_status_id": stop}, ip=client_ip(),
                     user_agent=request.headers.get("User-Agent", ""))
    forget_snapshots()
    return jsonify({"agent_id": agent_id, "status": after.status,
                    "stop_status_id": after.stop_status_id})
