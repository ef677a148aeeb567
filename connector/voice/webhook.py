"""What every Twilio webhook view shares: the signature check and "always answer TwiML".

The signature is computed over the URL Twilio requested, which behind a proxy, load balancer
or tunnel is not the URL Flask sees: it is rebuilt as ``[server] public_base_url`` + path +
query string (ecosystem.md §4.4, errors/57012). A request without a valid signature gets a
403 JSON error and a log line — it did not come from Twilio, so no TwiML is owed.

Everything else answers TwiML with status 200, even when our code fails: an HTTP error would
make Twilio play its own English error message to the caller (errors/11200, 11205). A failure
is logged and the caller hears a short Japanese apology instead; callbacks whose answer Twilio
ignores get an empty ``<Response/>``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Response, request

from voice import twiml
from voice.numbering import mask
from voice.signature import SIGNATURE_HEADER, validate_signature

from .. import db
from ..errors import error_response
from .runtime import get_runtime

log = logging.getLogger("cti.voice.webhook")

TWIML_MIMETYPE = "text/xml"


def public_url() -> str:
    """The URL Twilio signed: the public base URL, the path, the raw query string."""
    url = get_runtime().base_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def signature_valid() -> bool:
    params = request.form if request.method == "POST" else None
    return validate_signature(public_url(), params, request.headers.get(SIGNATURE_HEADER),
                              get_runtime().auth_token.reveal())


def twilio_webhook(*, on_error: str = "apology") -> Callable[[Callable[..., str]], Callable]:
    """Check ``X-Twilio-Signature``, then serve the view's TwiML string.

    Args:
        on_error: What to answer if the view raises: ``"apology"`` (the caller hears an
            apology and the call ends) or ``"empty"`` (callbacks).
    """
    def decorator(view: Callable[..., str]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            if not signature_valid():
                log.warning("refused a Twilio webhook: invalid X-Twilio-Signature",
                            extra={"path": request.path, "url": public_url(),
                                   "remote_addr": request.remote_addr,
                                   "signed": bool(request.headers.get(SIGNATURE_HEADER))})
                return error_response(
                    403, "invalid_signature",
                    "X-Twilio-Signature does not match this request; check [server] "
                    "public_base_url and the Twilio auth token")
            try:
                try:
                    body = view(*args, **kwargs)
                except Exception as exc:
                    if not db.disconnected(exc):
                        raise
                    # Its transaction was rolled back; the pool reconnects. Once, or a
                    # database failover would lose the callback (Twilio does not resend it).
                    body = view(*args, **kwargs)
            except Exception:  # the caller must never hear Twilio's own error message
                log.exception("Twilio webhook failed; answering with a fallback",
                              extra={"path": request.path,
                                     "call_sid": request.values.get("CallSid", "")})
                body = (twiml.say_and_hang_up(twiml.MESSAGES["system_error"],
                                              get_runtime().speaker)
                        if on_error == "apology" else twiml.empty())
            return Response(body, mimetype=TWIML_MIMETYPE)

        return wrapper

    return decorator


def param(name: str) -> str:
    """A form parameter of the webhook (stripped; "" when absent)."""
    return (request.values.get(name) or "").strip()


def masked(number: str) -> str:
    return mask(number) if number else ""
