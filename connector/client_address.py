"""Who is asking: the client's address, behind ``[server] proxy_hops`` trusted proxies.

With no proxy configured the peer address is the client's and ``X-Forwarded-For`` is ignored —
anyone can send that header. With N proxies, the N-th address from the right of
``X-Forwarded-For`` is the one the outermost trusted proxy saw.
"""

from __future__ import annotations

import ipaddress

from flask import current_app, request


def client_address() -> str:
    hops = current_app.config["CTI_SETTINGS"].server.proxy_hops
    peer = request.remote_addr or ""
    if not hops:
        return peer
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")
                 if part.strip()]
    return forwarded[-hops][:64] if len(forwarded) >= hops else peer


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def is_local_request() -> bool:
    """A request from this machine itself. A proxy on this machine forwards everyone's
    requests from 127.0.0.1, so a forwarded request is local only when its client is."""
    hops = current_app.config["CTI_SETTINGS"].server.proxy_hops
    if not hops and request.headers.get("X-Forwarded-For"):
        return False
    return is_loopback(client_address())
