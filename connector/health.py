"""``GET /healthz``: is the database reachable and migrated, is Redis up, which mode runs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from . import __version__, db, queue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    settings = current_app.config["CTI_SETTINGS"]
    checks = {
        "database": db.check(db.get_engine()),
        "redis": queue.check(queue.get_redis()),
    }
    healthy = all(check["ok"] for check in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "version": __version__,
        "checks": checks,
        "twilio": "configured" if settings.twilio.configured else "simulator",
    }
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
