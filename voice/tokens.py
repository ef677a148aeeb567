"""Twilio access tokens for the browser softphone (SPEC SP-1, SP-2).

An access token is a JWT (HS256) signed with an API key's secret (``SK…``), not the auth token
(ecosystem.md §4.1). Its Voice grant lets the browser receive calls for its identity
(``incoming.allow``) and place calls through the TwiML App (``outgoing.application_sid``), whose
Voice URL is our ``/twilio/voice/outbound`` webhook.

Facts relied on:

* Identities must avoid control, space, delimiter and "unwise" characters; Twilio's mobile SDKs
  accept only letters, digits and underscores (twilio.com/docs/voice/twiml/client), so we
  accept exactly ``[A-Za-z0-9_]``, at most 256 characters. Calls from the browser arrive with
  ``From=client:<identity>``.
* The lifetime may be at most 24 hours; Twilio refuses longer tokens (error 20157) although
  twilio-python does not check it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jwt
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

__all__ = ["MAX_TTL", "TokenError", "VoiceToken", "check_identity", "read_voice_token",
           "voice_access_token"]

#: Twilio's maximum token lifetime in seconds (errors/20157).
MAX_TTL = 86400
_IDENTITY = re.compile(r"[A-Za-z0-9_]{1,256}")


class TokenError(ValueError):
    """An identity, lifetime or token that cannot be used; the message names the problem."""


@dataclass(frozen=True)
class VoiceToken:
    """A signed token and what the browser needs to know about it."""

    token: str
    identity: str
    expires_at: int  # Unix time
    ttl: int


def check_identity(identity: str) -> str:
    """Return ``identity`` if Twilio and every SDK accept it.

    Raises:
        TokenError: The identity is empty, too long or has other characters than
            letters, digits and underscores.
    """
    if not _IDENTITY.fullmatch(identity or ""):
        raise TokenError("identity: 1 to 256 letters, digits or underscores (A-Z, a-z, 0-9, _)")
    return identity


def voice_access_token(*, account_sid: str, api_key_sid: str, api_key_secret: str,
                       identity: str, application_sid: str, ttl: int, now: int) -> VoiceToken:
    """An access token with a Voice grant: incoming calls allowed, outgoing via the TwiML App.

    Args:
        account_sid: The ``AC…`` account the token belongs to.
        api_key_sid: The ``SK…`` API key that signs it.
        api_key_secret: That key's secret (the HMAC key).
        identity: The client identity (see :func:`check_identity`).
        application_sid: The ``AP…`` TwiML App used for outgoing calls.
        ttl: Lifetime in seconds, 1 to :data:`MAX_TTL`.
        now: Unix time of issue (the app's clock), so expiry is testable.

    Raises:
        TokenError: Bad identity or lifetime.
    """
    check_identity(identity)
    if not 1 <= ttl <= MAX_TTL:
        raise TokenError(f"ttl: must be between 1 and {MAX_TTL} seconds (Twilio's maximum), "
                         f"got {ttl}")
    token = AccessToken(account_sid, api_key_sid, api_key_secret, identity=identity,
                        nbf=now, valid_until=now + ttl)
    token.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=application_sid))
    return VoiceToken(token.to_jwt(), identity, now + ttl, ttl)


def read_voice_token(token: str, secret: str, *, now: int) -> dict:
    """Verify a token made by :func:`voice_access_token` and return its payload.

    The Twilio simulator's browser side uses this to authenticate a softphone in embedded
    mode, where the "API key secret" is the deployment's simulator token.

    Raises:
        TokenError: Forged, malformed, not yet valid or expired.
    """
    try:
        payload = jwt.decode(token, secret, algorithms=["HS256"],
                             options={"require": ["exp", "sub", "iss", "grants"],
                                      "verify_exp": False, "verify_nbf": False})
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"invalid token: {type(exc).__name__}") from None
    if payload["exp"] <= now or payload.get("nbf", now) > now:
        raise TokenError("token expired or not yet valid")
    if "voice" not in payload["grants"] or "identity" not in payload["grants"]:
        raise TokenError("invalid token: no voice grant")
    return payload
