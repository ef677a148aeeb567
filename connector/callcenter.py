"""``GET /callcenter.xml``: the Salesforce call-center definition for this deployment (SF-1)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from crm_adapters.salesforce.callcenter import build_callcenter_xml

from .config import Settings
from .errors import APIError

bp = Blueprint("callcenter", __name__)


def definition(settings: Settings, base_url: str | None = None) -> str:
    """The import file, with the settings the softphone reads via getCallCenterSettings."""
    custom = {"TwilioEdge": settings.twilio.edge}
    salesforce = settings.crm.tables.get("salesforce", {})
    if "salesforce" in settings.crm.adapters:
        custom["LoggingPath"] = str(salesforce.get("logging_path", "api"))
    return build_callcenter_xml(base_url or settings.server.public_base_url, custom=custom)


@bp.get("/callcenter.xml")
def callcenter_xml() -> Any:
    try:
        text = definition(current_app.config["CTI_SETTINGS"])
    except ValueError as exc:
        raise APIError(409, "not_importable", f"{exc} — set [server] public_base_url to the "
                       "https URL Salesforce reaches this deployment at") from None
    return Response(text, mimetype="application/xml", headers={
        "Content-Disposition": 'attachment; filename="callcenter.xml"'})
