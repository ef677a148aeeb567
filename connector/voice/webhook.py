"""What every Twilio webhook view shares: the signature check, the body rules and "always
answer TwiML".

**Every route Twilio calls must be decorated with** :func:`twilio_webhook` — new features' IVR
or queue callbacks included; it carries all the rules below, and
``tests/connector/voice/test_webhook_bodies.py`` fails for any ``/twilio/`` route without it.

Body rules, applied before the body is parsed (issue 17; ecosystem.md §4.4):

* ``X-Twilio-Signature`` must look like one — ASCII base64 of an HMAC-SHA1 — or the request is
  refused with 403 before anything else happens (no 500, no traceback for odd bytes).
* At most :data:`WEBHOOK_MAX_BODY_BYTES` are read (413 beyond, before reading; a lower
  ``[server] max_request_bytes`` wins): Twilio's own parameters are a few kilobytes, and an
  unsigned megabyte must not cost a parse.
* Only ``application/x-www-form-urlencoded`` bodies are signed parameter by parameter; any other
  non-empty body (JSON, ``text/plain``, multipart) is accepted only when the URL carries
  ``bodySHA256`` — the hex SHA-256 of the raw body, as Twilio signs JSON bodies — and it
  matches. A signature over the URL alone no longer vouches for an unsigned body.

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
import re
from collections.abc import Callable
from typing import Any

from flask import Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from voice import twiml
from voice.numbering import mask
from voice.signature import SIGNATURE_HEADER, validate_signature

from .. import db
from ..errors import error_response
from .runtime import get_runtime

log = logging.getLogger("cti.voice.webhook")

TWIML_MIMETYPE = "text/xml"
FORM_MIMETYPE = "application/x-www-form-urlencoded"
#: The largest webhook body read. Twilio's voice parameters take a few kilobytes.
WEBHOOK_MAX_BODY_BYTES = 64 * 1024
#: base64 of a 20-byte HMAC-SHA1 is 28 characters; a little room either way, ASCII only.
_SIGNATURE_SHAPE = re.compile(r"[A-Za-z0-9+/]{20,64}={0,2}", re.ASCII)


def public_url() -> str:
    """The URL Twilio signed: the public base URL, the path, the raw query string."""
    url = get_runtime().base_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def signature_well_formed(signature: str | None) -> bool:
    """Whether the header could be a Twilio signature at all (checked before the body is read)."""
    return bool(signature) and _SIGNATURE_SHAPE.fullmatch(signature or "") is not None


def _has_body() -> bool:
    return bool(request.content_length) or (
        request.content_length is None and bool(request.get_data(cache=True)))


def signature_valid() -> bool:
    """The signature over the URL and the form — or, for any other body, over the URL that
    carries the body's ``bodySHA256``."""
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature_well_formed(signature):
        return False
    token = get_runtime().auth_token.reveal()
    if request.method == "POST" and request.mimetype != FORM_MIMETYPE and _has_body():
        if "bodySHA256" not in request.args:
            return False  # an unsigned body: a URL-only signature says nothing about it
        return validate_signature(public_url(), request.get_data(cache=True), signature, token)
    params = request.form if request.method == "POST" else None
    return validate_signature(public_url(), params, signature, token)


def _refuse_large_body() -> None:
    """413 before reading, when the declared body is larger than a webhook's (or than
    ``[server] max_request_bytes``, if that is lower)."""
    limit = min(WEBHOOK_MAX_BODY_BYTES, request.max_content_length or WEBHOOK_MAX_BODY_BYTES)
    length = request.content_length
    if length is not None and length > limit:
        request.max_content_length = limit
        raise RequestEntityTooLarge()


def twilio_webhook(*, on_error: str = "apology") -> Callable[[Callable[..., str]], Callable]:
    """Check ``X-Twilio-Signature``, then serve the view's TwiML string.

    Args:
        on_error: What to answer if the view raises: ``"apology"`` (the caller hears an
            apology and the call ends) or ``"empty"`` (callbacks).
    """
    def decorator(view: Callable[..., str]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            well_formed = signature_well_formed(request.headers.get(SIGNATURE_HEADER))
            if well_formed:
                _refuse_large_body()
            if not well_formed or not signature_valid():
                log.warning("refused a Twilio webhook: invalid X-Twilio-Signature",
                            extra={"path": request.path, "url": public_url(),
                                   "remote_addr": request.remote_addr,
                                   "content_type": request.mimetype[:60],
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

        # Read by connector.request_size before the view: a streamed body stops here too.
        wrapper.max_body_cap_bytes = WEBHOOK_MAX_BODY_BYTES  # type: ignore[attr-defined]
        wrapper.twilio_webhook = True  # type: ignore[attr-defined]
        return wrapper

    return decorator


def param(name: str) -> str:
    """A form parameter of the webhook (stripped; "" when absent)."""
    return (request.values.get(name) or "").strip()


def masked(number: str) -> str:
    return mask(number) if number else ""
