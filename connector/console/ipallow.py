"""IP allowlists (SPEC AD-4): which client addresses may use the product, per kind of user.

Two CIDR lists: ``admin`` (supervisors and admins — the console users) and ``agent``. An empty
list allows every address. Behind a reverse proxy the client is found in ``X-Forwarded-For``
only through the configured trusted hops: walking the header from the right, each address that
is itself a trusted proxy is skipped, and the first one that is not is the client. A header
sent by a client that is not a trusted proxy is ignored altogether, so it cannot be forged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str], field: str) -> list[Network]:
    """CIDR strings (a bare address means /32 or /128); ValueError names the bad entry."""
    networks = []
    for position, value in enumerate(values, 1):
        text = str(value).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{field}: entry {position} {text!r} is not an address or CIDR "
                             "range (like 203.0.113.0/24)") from None
    return networks


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _inside(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
            networks: Sequence[Network]) -> bool:
    return address is not None and any(address in n for n in networks)


def client_address(remote_addr: str, forwarded_for: str, trusted: Sequence[Network]) -> str:
    """The client's address: ``remote_addr`` unless it is a trusted hop that forwarded it."""
    current = remote_addr or ""
    if not _inside(_address(current), trusted):
        return current
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        current = hop
        if not _inside(_address(hop), trusted):
            return hop
    return current


def allowed(address: str, networks: Sequence[Network]) -> bool:
    if not networks:
        return True
    return _inside(_address(address), networks)
