"""``GET /api/integrations/pops``: what the softphone opens for a call event (HT-1 browser
templates, HT-2 per-number pop-ups)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from ..auth import require_auth
from ..errors import APIError
from ..messages import Text
from . import template_adapters
from .jobs import call_context
from .number_pops import number_pops

bp = Blueprint("integrations", __name__)

BROWSER_EVENTS = ("click", "incoming", "answered", "hangup", "wrapup")
BAD_EVENT = Text("event は {events} のどれかです", "event must be one of {events}")
BAD_SID = Text("call_sid を指定してください", "call_sid is required")


@bp.get("/api/integrations/pops")
@require_auth()
def pops() -> Any:
    event = request.args.get("event", "")
    call_sid = request.args.get("call_sid", "")
    if event not in BROWSER_EVENTS:
        raise APIError(400, "invalid_request", BAD_EVENT.format(events=", ".join(
            BROWSER_EVENTS)), {"field": "event"})
    if not call_sid:
        raise APIError(400, "invalid_request", BAD_SID, {"field": "call_sid"})
    opened = number_pops(call_sid, event)
    for name, adapter in template_adapters().items():
        context = call_context(call_sid, name)
        if context is None:
            continue
        for item in adapter.browser_requests(event, context):
            opened.append({"integration": name, **item})
    return jsonify({"event": event, "call_sid": call_sid, "pops": opened})
