"""``GET /callcenter.xml``: the Salesforce call-center definition for this deployment (SF-1)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app

from crm_adapters.salesforce.callcenter import build_callcenter_metadata, build_callcenter_xml

from .config import Settings
from .errors import APIError

bp = Blueprint("callcenter", __name__)

#: What fixes an unusable URL, for every caller.
FIX = ("set [server] public_base_url (or CTI_SERVER__PUBLIC_BASE_URL) to the https URL "
       "Salesforce reaches this deployment at")


def definition(settings: Settings, base_url: str | None = None, *,
               metadata: bool = False) -> str:
    """The import file (or, with ``metadata``, the SFDX ``CallCenter`` metadata file), with the
    settings the softphone reads via getCallCenterSettings.

    Raises:
        ValueError: the base URL (``base_url``, else ``[server] public_base_url``) is not one
            Salesforce can load the softphone from; the message says which and why.
    """
    url = importable_base_url(settings, base_url)
    custom = {"TwilioEdge": settings.twilio.edge}
    salesforce = settings.crm.tables.get("salesforce", {})
    if "salesforce" in settings.crm.adapters:
        custom["LoggingPath"] = str(salesforce.get("logging_path", "api"))
    build = build_callcenter_metadata if metadata else build_callcenter_xml
    return build(url, custom=custom)


def importable_base_url(settings: Settings, base_url: str | None = None) -> str:
    """``base_url``, else ``[server] public_base_url``, if Salesforce can use it: https (Lightning
    loads the softphone only over https) and not this machine's loopback address (the agents'
    browsers load it)."""
    source = "--base-url" if base_url else "[server] public_base_url"
    url = base_url or settings.server.public_base_url
    parts = urlsplit(url)
    if base_url is None and settings.server.public_url_derived:
        problem = (f"{source} is not set, and its development default {url!r} is not a URL "
                   "Salesforce can load the softphone from")
    elif parts.scheme != "https" or not parts.hostname:
        problem = (f"{source} {url!r} is not an https URL (Lightning loads the softphone only "
                   "over https)")
    elif _is_loopback(parts.hostname):
        problem = f"{source} {url!r} points at this machine, which agents' browsers cannot reach"
    else:
        return url
    raise ValueError(problem)


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


@bp.get("/callcenter.xml")
def callcenter_xml() -> Any:
    try:
        text = definition(current_app.config["CTI_SETTINGS"])
    except ValueError as exc:
        raise APIError(409, "not_importable", f"{exc} — {FIX}") from None
    return Response(text, mimetype="application/xml", headers={
        "Content-Disposition": 'attachment; filename="callcenter.xml"'})
