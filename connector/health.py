"""``GET /healthz``: can this instance serve, and is background work getting done?

HTTP status, for load balancers: **503** only when this instance cannot serve requests — the
database is down or its schema is not the one this code needs, or Redis is down. Problems of
background work (no worker running, workers that died, crashed jobs, call logs late or failed)
leave the status at **200** with ``"status": "degraded"`` and a ``problems`` list: taking web
instances out of the load balancer would not bring a worker back, and Twilio's webhooks must
keep being answered. Monitor ``status`` for those. The body carries counts, never error texts
(it is not authenticated); ``cti doctor`` gives the details.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from . import __version__, db, monitoring, queue

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    settings = current_app.config["CTI_SETTINGS"]
    checks: dict[str, Any] = {
        "database": db.check(db.get_engine()),
        "redis": queue.check(queue.get_redis(), current_app),
    }
    serving = all(check["ok"] for check in checks.values())
    problems: list[str] = []
    jobs = monitoring.report(current_app, crashed_limit=0,
                             use_redis=checks["redis"]["ok"],
                             use_database=checks["database"]["ok"])
    background, problems = monitoring.health(jobs)
    checks.update(background)
    body = {
        "status": "unavailable" if not serving else "degraded" if problems else "ok",
        "version": __version__,
        "checks": checks,
        "problems": problems,
        "twilio": "configured" if settings.twilio.configured else "simulator",
    }
    response = jsonify(body)
    response.status_code = 200 if serving else 503
    response.headers["Cache-Control"] = "no-store"
    return response
