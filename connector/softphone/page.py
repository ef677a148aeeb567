"""``GET /softphone/``: the browser softphone page, its static files and the Twilio Voice SDK.

The page is plain HTML + ES modules from ``static/softphone/`` (no build step). The Twilio Voice
JS SDK is served from the npm package ``@twilio/voice-sdk`` installed by ``npm ci`` — never from
a CDN and never committed. A wheel carries copies of both (:mod:`connector.assets`). The page's
Content-Security-Policy adds Twilio's signalling and media hosts and, in Salesforce, the framing
org whose ``opencti_min.js`` the bridge loads (:mod:`connector.salesforce_frame`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, send_file, send_from_directory

from .. import __version__, assets, salesforce_frame, wrapup
from ..errors import APIError

#: Where the Voice SDK connects: signalling (wss), insights and ICE-server lookups (https), and
#: the ringtones it plays (sdk.twilio.com). ecosystem.md §4.5; exact host names UNVERIFIED,
#: hence the wildcards.
TWILIO_CONNECT_SOURCES = ["https://*.twilio.com", "wss://*.twilio.com"]
TWILIO_MEDIA_SOURCES = ["https://sdk.twilio.com"]

bp = Blueprint("softphone_page", __name__, url_prefix="/softphone")


def crm_origins() -> list[str]:
    """The origins allowed to frame the softphone (and so to talk to it and serve bridge code)."""
    return [s for s in current_app.config["CTI_SETTINGS"].server.frame_ancestors
            if s not in ("'self'", "'none'")]


def crm_links() -> dict[str, dict[str, str]]:
    """Per enabled CRM, the pages its bridge opens itself (adapters with ``browser_links()``;
    kintone: record and new-record URLs). Addresses only, nothing secret."""
    layer = current_app.extensions.get("cti.crm")
    adapters = layer.adapters if layer is not None else {}
    return {name: adapter.browser_links() for name, adapter in adapters.items()
            if callable(getattr(adapter, "browser_links", None))}


def page_csp_extra() -> dict[str, list[str]]:
    # A bridge's own scripts are ours ('self'); the only foreign one is Salesforce's Open CTI
    # library, from the one org that frames this page — never from any framing origin.
    org = salesforce_frame.framing_org()
    return {
        "connect-src": [*TWILIO_CONNECT_SOURCES, *([org] if org else [])],
        "media-src": TWILIO_MEDIA_SOURCES,
        "script-src": [org] if org else [],
    }


@bp.get("/")
def page() -> Response:
    g.csp_extra = page_csp_extra()
    response = send_from_directory(assets.directory(assets.SOFTPHONE), "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/config.json")
def boot_config() -> Any:
    """What the page needs before sign-in: language, CRM bridge defaults, call-handling rules."""
    settings = current_app.config["CTI_SETTINGS"]
    softphone = settings.softphone
    return jsonify({
        "version": __version__,
        "edge": settings.twilio.edge,
        "mode": "twilio" if settings.twilio.configured else "simulator",
        "default_language": softphone.default_language,
        "default_crm": softphone.default_crm,
        "dispositions": softphone.dispositions,
        "notes_max_length": wrapup.MAX_NOTES,
        "acw_seconds": softphone.acw_seconds,
        "acw_auto_available": softphone.acw_auto_available,
        "acw_after_unanswered": softphone.acw_after_unanswered,
        "device_heartbeat_seconds": softphone.device_heartbeat_seconds,
        "crm_origins": crm_origins(),
        "salesforce": salesforce_frame.boot_config(settings),
        "crm_links": crm_links(),
        "simulator_controls": softphone.simulator_controls and not settings.twilio.configured,
        "sms_max_segments": settings.sms.max_segments,
    })


@bp.get("/vendor/twilio.min.js")
def voice_sdk() -> Response:
    problem = assets.voice_sdk_problem()
    if problem:
        raise APIError(404, "voice_sdk_missing", problem)
    return send_file(assets.voice_sdk_script(), mimetype="text/javascript", max_age=3600)


@bp.get("/<path:filename>")
def static_file(filename: str) -> Response:
    response = send_from_directory(assets.directory(assets.SOFTPHONE), filename, max_age=0)
    if filename.endswith(".js"):
        response.mimetype = "text/javascript"
    return response
