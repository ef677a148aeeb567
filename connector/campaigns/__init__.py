"""Outbound campaigns (SPEC CA-1): call lists, preview and progressive dialing, results,
recalls, do-not-call marks and statistics. See docs/campaigns.md.

The decisions are pure (:mod:`voice.campaigns`); this package stores campaigns
(:mod:`.store`), places and follows their calls (:mod:`.dialer`, :mod:`.webhooks`) and
serves the API (:mod:`.api` for supervisors and admins, :mod:`.agent_api` for agents).

``app.extensions["cti.campaigns"]`` is the app's :class:`CampaignService` (the holiday
calendar, shared by every request of the process). Pacing runs on each maintenance tick of
``cti worker`` (``app.extensions["cti.tick_hooks"]``) and, in tests, whenever they call
:func:`.dialer.tick`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app

from voice.flows.calendar import HolidayCalendar


@dataclass
class CampaignService:
    calendar: HolidayCalendar = field(default_factory=HolidayCalendar)


def get_service(app: Flask | None = None) -> CampaignService:
    return (app or current_app).extensions["cti.campaigns"]


def init_app(app: Flask) -> None:
    from . import agent_api, api, crm_lists, dialer, webhooks

    app.extensions["cti.campaigns"] = CampaignService()
    app.extensions.setdefault("cti.status_hooks", []).append(dialer.on_status)
    app.extensions.setdefault("cti.tick_hooks", []).append(dialer.tick)
    app.register_blueprint(api.bp)
    app.register_blueprint(agent_api.bp)
    app.register_blueprint(crm_lists.bp)
    app.register_blueprint(webhooks.bp)
