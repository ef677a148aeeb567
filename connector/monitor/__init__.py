"""Supervisor monitoring, whisper and barge (SPEC CF-11). See docs/voice.md "Monitoring".

* :mod:`.bridge` — calls of ``bridge = "conference"`` groups are connected through a conference
  named by the caller's CallSid (the status hook moves the answered agent's leg into it);
* :mod:`.service` — a supervisor joins that conference (muted, coaching the agent, or as a full
  participant), switches mode, leaves; :mod:`.sessions` records each use and audits it;
* ``POST /twilio/voice/monitor/status`` — the supervisor's leg ended: its session ends too.

The console's API (``/console/api/monitor``) is in :mod:`connector.console.monitor_view`.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from .. import clock, db
from ..voice.runtime import WEBHOOK_PREFIX
from ..voice.webhook import param, twilio_webhook

bp = Blueprint("monitor_webhooks", __name__, url_prefix=f"{WEBHOOK_PREFIX}/monitor")


@bp.post("/status")
@twilio_webhook(on_error="empty")
def supervisor_leg_status() -> str:
    from voice import twiml

    from . import service

    if param("CallStatus") in ("completed", "canceled", "busy", "failed", "no-answer"):
        with db.get_engine().begin() as conn:
            service.leg_ended(conn, param("CallSid"), clock.now())
    return twiml.empty()


def init_app(app: Flask) -> None:
    from . import bridge

    # After the ACD's hook (registered by connector.acd.init_app): presence is current.
    app.extensions.setdefault("cti.status_hooks", []).append(bridge.on_status)
    app.register_blueprint(bp)
