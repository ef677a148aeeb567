"""``GET /healthz``: can this instance serve, and is background work getting done?

HTTP status, for load balancers: **503** only when this instance cannot serve requests — the
database is down or its schema is not the one this code needs, or Redis is down. Problems of
background work (no worker running, workers that died, crashed jobs, call logs late or failed)
leave the status at **200** with ``"status": "degraded"`` and a ``problems`` list: taking web
instances out of the load balancer would not bring a worker back, and Twilio's webhooks must
keep being answered. Monitor ``status`` for those. The body carries counts, never error texts;
``cti doctor`` gives the details.

Who sees what (issue 17): the details — Redis location, schema revision, version, workers,
problems — go only to requests from this machine (``[server] proxy_hops`` decides what a
forwarded request's client is) and to signed-in admins (``Authorization: Bearer``). Everyone
else, a load balancer elsewhere included, gets ``{"status": ...}`` and the same HTTP status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from . import __version__, callstream, db, monitoring, queue
from .auth.guard import ROLE_RANK, authenticate_request
from .client_address import is_local_request
from .errors import APIError

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    settings = current_app.config["CTI_SETTINGS"]
    checks: dict[str, Any] = {
        "database": db.check(db.get_engine()),
        "redis": queue.check(queue.get_redis(), current_app),
    }
    serving = all(check["ok"] for check in checks.values())
    # How the webhook writes call records now: "stream", or "sync" (Redis away or not
    # persisting) — informative, never a reason to stop serving.
    checks["call_records"] = callstream.health(current_app)
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
    response = jsonify(body if _may_see_details() else {"status": body["status"]})
    response.status_code = 200 if serving else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _may_see_details() -> bool:
    if is_local_request():
        return True
    if not request.headers.get("Authorization"):
        return False
    try:
        agent = authenticate_request()
    except APIError:
        return False  # a bad token still gets the status: monitors must not break on it
    return ROLE_RANK.get(agent.role, -1) >= ROLE_RANK["admin"]
