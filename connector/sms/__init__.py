"""SMS (SPEC SM-1): sent from the softphone and the API (``POST /api/sms``) and from flows
(:func:`send_from_flow`), with admin-managed templates and a sender ID per number; replies
arrive through Twilio's messaging webhook (``/twilio/sms/inbound``), are stored with the
customer's number, notified (``connector.notify``) and logged to the CRMs.

The segment rule agents see (70 characters per message in Japanese, 160 in plain ASCII) is
:mod:`voice.sms_segments`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask


def deliver_now(app: Flask, **kwargs: Any) -> dict[str, Any]:
    """Send one SMS now (see :func:`.dispatch.deliver_now`)."""
    from .dispatch import deliver_now as deliver

    return deliver(app, **kwargs)


def send_from_flow(call_sid: str, **kwargs: Any) -> bool:
    """For flow nodes: queue an SMS to the caller (see :func:`.dispatch.send_from_flow`).

    (Imported lazily: ``connector.config`` imports this package's settings.)
    """
    from .dispatch import send_from_flow as send

    return send(call_sid, **kwargs)


def init_app(app: Flask) -> None:
    from .links import bp as links_bp
    from .views import bp
    from .webhooks import bp as webhooks_bp

    app.register_blueprint(bp)
    app.register_blueprint(webhooks_bp)
    app.register_blueprint(links_bp)


__all__ = ["deliver_now", "init_app", "send_from_flow"]
