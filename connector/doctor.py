"""Configuration checks (SPEC AD-7, "接続する"): every external link tested, with a verdict that
says what to fix. Used by ``cti doctor`` and ``GET /api/admin/doctor``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Flask, jsonify

from . import assets, crm, db, monitoring, queue
from .auth import require_auth
from .auth import salesforce as salesforce_signin
from .logs import Scrubber
from .monitoring import Verdict
from .runtime import app_secrets

bp = Blueprint("doctor", __name__)

__all__ = ["Verdict", "bp", "run"]


def run(app: Flask) -> list[Verdict]:
    verdicts = []
    database = db.check(db.get_engine(app))
    verdicts.append(Verdict("database", database["ok"],
                            database.get("error", f"{database['backend']} reachable, schema "
                                                  f"at {database.get('revision')}")))
    redis_state = queue.check(queue.get_redis(app), app)
    verdicts.append(Verdict("redis", redis_state["ok"],
                            redis_state.get("error", f"{redis_state['where']} reachable")))
    if app.config["CTI_SETTINGS"].auth.salesforce.enabled:
        ok, message = salesforce_signin.doctor_check(app.config["CTI_SETTINGS"])
        verdicts.append(Verdict("auth.salesforce", ok, message))
    verdicts.append(voice_sdk_verdict(app))
    layer = crm.get_layer(app)
    for name, reason in layer.unavailable.items():
        verdicts.append(Verdict(f"crm.{name}", False, reason))
    for name, adapter in layer.adapters.items():
        for check in adapter.check():
            if check.ok and check.severity == "info":
                continue
            severity = "warning" if check.severity != "error" else "error"
            verdicts.append(Verdict(f"crm.{name}: {check.name}", check.ok or severity ==
                                    "warning", check.message, severity if not check.ok
                                    else "error"))
    # Background work: workers, crashed jobs, late and failed write-backs.
    verdicts.extend(monitoring.verdicts(monitoring.report(app, repair=True),
                                        Scrubber(app_secrets(app))))
    return verdicts


def voice_sdk_verdict(app: Flask) -> Verdict:
    """Whether the softphone can load the Twilio Voice SDK, and what to run when it cannot."""
    name = "softphone: Twilio Voice SDK"
    script = assets.voice_sdk_script()
    problem = assets.voice_sdk_problem()
    if problem is None:
        return Verdict(name, True, f"served from {script}")
    if app.config["CTI_SETTINGS"].twilio.configured:
        return Verdict(name, False, f"{problem} (expected at {script})")
    # Simulated mode never loads the SDK: the softphone works, but not once Twilio is configured.
    return Verdict(name, True, f"{problem} (expected at {script}); simulated mode does not "
                               "need it, a Twilio account does", severity="warning")


@bp.get("/api/admin/doctor")
@require_auth("admin")
def doctor_api() -> Any:
    from flask import current_app

    verdicts = run(current_app)
    return jsonify({"ok": all(v.ok for v in verdicts),
                    "verdicts": [asdict(v) for v in verdicts]})
