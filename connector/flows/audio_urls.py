"""Signed, expiring URLs of uploaded announcement audio, for ``<Play>``.

Twilio fetches ``<Play>`` media with a plain GET (no ``X-Twilio-Signature`` to rely on), so
the URL carries its own expiry and an HMAC of name and expiry made with the webhook token:
a leaked URL stops working after :data:`URL_SECONDS`, and no name can be guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import quote

from ..voice.runtime import VoiceRuntime

#: How long a ``<Play>`` URL works: long enough for a call's announcements and Twilio's
#: fetch retries, short enough that a copied link soon dies.
URL_SECONDS = 3600


def sign(runtime: VoiceRuntime, name: str, expires: int) -> str:
    key = runtime.auth_token.reveal().encode()
    return hmac.new(key, f"flow-audio|{name}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def url(runtime: VoiceRuntime, name: str, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + URL_SECONDS)
    return runtime.url(f"flow/audio/{quote(name)}", e=str(expires),
                       t=sign(runtime, name, expires))


def signer(runtime: VoiceRuntime) -> Callable[[str], str]:
    return lambda name: url(runtime, name)


def valid(runtime: VoiceRuntime, name: str, expires: str, token: str,
          now: float | None = None) -> bool:
    """Whether the URL's signature matches and it has not expired."""
    if not expires.isdigit() or int(expires) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(token, sign(runtime, name, int(expires)))
