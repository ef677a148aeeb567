"""The browser softphone (SPEC SP-1…SP-10): its page, agent statuses, the one active device,
call control (hold, transfer) and simulated mode. See docs/softphone.md."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import (
        agents,
        control,
        page,
        sim_views,
        simulated,
        stop_statuses,
        twilio_rest,
        webhooks,
    )

    simulated.init_app(app)
    twilio_rest.init_app(app)
    app.extensions.setdefault("cti.outbound_hooks", []).append(webhooks.outbound_action)
    for blueprint in (page.bp, agents.bp, stop_statuses.bp, control.bp, webhooks.bp,
                      sim_views.bp):
        app.register_blueprint(blueprint)
