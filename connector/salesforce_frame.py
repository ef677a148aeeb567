"""Which Salesforce org frames the softphone, so its page may load that org's Open CTI library.

The Salesforce bridge (``static/softphone/js/bridges/salesforce.js``) loads
``<org>/support/api/<version>/lightning/opencti_min.js`` from the org whose Lightning page frames
the softphone (ecosystem.md §1.1). The page's Content-Security-Policy allows scripts from
``'self'`` only, plus — through :func:`org_origin` — exactly that one org origin, and only when it

1. comes from the request: the ``sfdcIFrameOrigin`` query parameter Salesforce appends to the
   adapter URL (UNVERIFIED as an official contract: seen in public adapters), else the origin in
   the ``Referer`` header (the framing page; the bridge falls back to ``document.referrer``, the
   same value, so server and browser agree);
2. is a Salesforce domain (:data:`SALESFORCE_DOMAINS`) over https — or an ``http://localhost`` /
   ``http://127.0.0.1`` origin, for development against a local stand-in;
3. may frame the softphone: it matches ``[server] frame_ancestors``, where admins name their org.

So a page that is not the admin's Salesforce org can never make the softphone run its script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request

from .config import Settings

#: Registrable domains of Salesforce's Lightning, Visualforce and setup pages (ecosystem.md §1.1;
#: reliability-performance.md §5.2). Other Salesforce clouds may use others: UNVERIFIED, add here.
SALESFORCE_DOMAINS = ("force.com", "salesforce.com", "visualforce.com", "salesforce-setup.com")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")
#: The query parameter Salesforce appends to the adapter URL (UNVERIFIED, see above).
ORIGIN_PARAMETER = "sfdcIFrameOrigin"

_PATTERN = re.compile(r"^(https?)://(\*\.)?([^/:*]+)(?::(\d+))?/?$")


def framing_org() -> str | None:
    """For the softphone page being served: the Salesforce org framing it, if allowed."""
    settings: Settings = current_app.config["CTI_SETTINGS"]
    if (request.args.get("crm") or settings.softphone.default_crm) != "salesforce":
        return None
    return org_origin([request.args.get(ORIGIN_PARAMETER), request.headers.get("Referer")],
                      settings.server.frame_ancestors)


def boot_config(settings: Settings) -> dict[str, Any]:
    """What the Salesforce bridge needs before sign-in (``/softphone/config.json``)."""
    table = settings.crm.tables.get("salesforce", {})
    enabled = "salesforce" in settings.crm.adapters
    return {"logging_path": str(table.get("logging_path", "api")) if enabled else "",
            "signin": settings.auth.salesforce.enabled}


def org_origin(candidates: Iterable[str | None], frame_ancestors: Iterable[str]) -> str | None:
    """The first candidate that names an allowed Salesforce org, as ``scheme://host[:port]``."""
    patterns = list(frame_ancestors)
    for candidate in candidates:
        origin = normalise(candidate)
        if origin and is_salesforce(origin) and origin_allowed(origin, patterns):
            return origin
    return None


def normalise(value: str | None) -> str | None:
    """``scheme://host[:port]`` of an origin or URL; None for anything else."""
    if not value or len(value) > 2048:
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username:
        return None
    host = parts.hostname.lower()
    if port == {"http": 80, "https": 443}[parts.scheme]:
        port = None  # browsers never show a default port in an origin
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def is_salesforce(origin: str) -> bool:
    parts = urlsplit(origin)
    host = parts.hostname or ""
    if parts.scheme == "http":
        return host in LOOPBACK_HOSTS
    return any(host == d or host.endswith("." + d) for d in SALESFORCE_DOMAINS)


def origin_allowed(origin: str, patterns: Iterable[str]) -> bool:
    """CSP host-source matching: ``https://*.example.com`` matches subdomains (not the domain
    itself), a pattern without a port matches only the scheme's default port."""
    parts = urlsplit(origin)
    host, port = parts.hostname or "", parts.port
    for pattern in patterns:
        match = _PATTERN.match(pattern)
        if not match or match.group(1) != parts.scheme:
            continue
        if (int(match.group(4)) if match.group(4) else None) != port:
            continue
        wildcard, domain = match.group(2), match.group(3).lower()
        if (host.endswith("." + domain) if wildcard else host == domain):
            return True
    return False
