"""Short-lived bearer tokens for the API, and opaque refresh tokens.

The softphone lives in Salesforce's and kintone's iframes, where third-party cookies are blocked,
so the API authenticates with ``Authorization: Bearer <access token>`` kept in ``sessionStorage``.

- Access token: a JWT (HS256) valid for ``[auth] access_token_minutes``, naming the agent and the
  login session. Checked for signature, expiry and type, then against the session row, so logout,
  disabling an agent or revoking a session takes effect at once.
- Refresh token: ``<session id>.<random>``, stored only as a SHA-256 hash, rotated on every use;
  presenting an already-rotated token revokes the whole session (it was stolen or replayed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

ISSUER = "cti-connector"
ALGORITHM = "HS256"


class TokenError(Exception):
    """The token is missing, malformed, forged or expired."""


@dataclass(frozen=True)
class AccessClaims:
    agent_id: int
    session_id: str
    role: str
    expires_at: datetime


def issue_access_token(*, secret: str, agent_id: int, session_id: str, role: str,
                       now: datetime, lifetime: timedelta) -> str:
    payload = {
        "iss": ISSUER, "typ": "access", "sub": str(agent_id), "sid": session_id, "role": role,
        "iat": int(now.timestamp()), "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def verify_access_token(token: str, *, secret: str, now: datetime) -> AccessClaims:
    """Check signature, issuer, type and expiry against ``now`` (the app's clock)."""
    try:
        payload = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                             options={"require": ["exp", "iat", "sub", "sid"],
                                      "verify_exp": False, "verify_iat": False})
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"invalid token: {type(exc).__name__}") from None
    if payload.get("typ") != "access":
        raise TokenError("invalid token: not an access token")
    if payload["exp"] <= now.timestamp():
        raise TokenError("token expired")
    try:
        agent_id = int(payload["sub"])
    except ValueError:
        raise TokenError("invalid token: bad subject") from None
    return AccessClaims(agent_id=agent_id, session_id=str(payload["sid"]),
                        role=str(payload.get("role", "")),
                        expires_at=datetime.fromtimestamp(payload["exp"], now.tzinfo))


def new_session_id() -> str:
    return secrets.token_hex(16)


def new_refresh_token(session_id: str) -> tuple[str, str]:
    """A fresh refresh token for ``session_id`` and the hash to store."""
    token = f"{session_id}.{secrets.token_urlsafe(32)}"
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def split_refresh_token(token: str) -> str:
    """The session id inside a refresh token; :class:`TokenError` if malformed."""
    session_id, _, rest = token.partition(".")
    if len(session_id) != 32 or not rest:
        raise TokenError("invalid refresh token")
    return session_id


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
