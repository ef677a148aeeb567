"""Recordings are played only through the connector (SPEC CF-10), never from Twilio's URL.

Two doors, both streaming Twilio's media with the account's credentials (so Twilio's "Enforce
HTTP Auth on Media URLs" can and should be on, reliability-performance.md §1.9):

* ``GET /api/calls/<sid>/recording`` — for a signed-in agent of the call, a supervisor or an
  admin (the softphone fetches it with its bearer token);
* ``GET /recordings/<sid>?exp=…&sig=…`` — a short-lived link anyone holding it may use, for CRM
  call logs and ``<audio src>``: :func:`signed_recording_url`. The signature is
  HMAC-SHA256 over ``"<call sid>:<exp>"`` with the app's secret key.

``Range`` requests are passed through, so players can seek. In embedded (simulator) mode the
media come from a simulator running in the process (:func:`.runtime.attach_simulator`);
without one the answer is a clear 503, never a fake file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Iterator
from datetime import datetime

import requests
from flask import Flask, Response, current_app, stream_with_context

from .. import clock
from ..errors import APIError
from .runtime import get_runtime

log = logging.getLogger("cti.voice.recordings")

DEFAULT_LINK_SECONDS = 900
MAX_LINK_SECONDS = 7 * 24 * 3600
#: Connect and read timeouts for the media request to Twilio.
MEDIA_TIMEOUT = (5.0, 30.0)
_CHUNK = 64 * 1024
_PASSED_HEADERS = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges")


def _signature(secret: str, call_sid: str, expires: int) -> str:
    digest = hmac.new(secret.encode(), f"{call_sid}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signed_recording_url(call_sid: str, ttl: int = DEFAULT_LINK_SECONDS, *,
                         app: Flask | None = None, now: datetime | None = None) -> str:
    """A link to the call's recording that works for ``ttl`` seconds, without signing in.

    Args:
        call_sid: The call record's SID.
        ttl: Lifetime in seconds (at most a week).
        app: The app (default: the current one).
        now: Issue time (default: the app's clock).
    """
    app = app or current_app
    ttl = max(1, min(ttl, MAX_LINK_SECONDS))
    expires = int((now or clock.now(app)).timestamp()) + ttl
    signature = _signature(app.config["SECRET_KEY"], call_sid, expires)
    base = get_runtime(app).base_url
    return f"{base}/recordings/{call_sid}?exp={expires}&sig={signature}"


def check_signed(call_sid: str, expires: str, signature: str) -> None:
    """Accept a signed link, or raise a 403 :class:`APIError` saying why not."""
    if not expires.isdigit() or not signature:
        raise APIError(403, "invalid_link", "the recording link is incomplete")
    expected = _signature(current_app.config["SECRET_KEY"], call_sid, int(expires))
    if not hmac.compare_digest(expected, signature):
        raise APIError(403, "invalid_link", "the recording link is not valid")
    if int(expires) <= clock.now().timestamp():
        raise APIError(403, "link_expired", "the recording link has expired; ask for a new one")


def stream(recording_sid: str, range_header: str | None) -> Response:
    """Stream the recording's media from Twilio (or the in-process simulator)."""
    runtime = get_runtime()
    if runtime.media is None:
        raise APIError(503, "recordings_unavailable",
                       "recordings cannot be played in simulator mode unless the simulator "
                       "runs inside the server")
    headers = {"Range": range_header} if range_header else {}
    try:
        upstream = runtime.media.get(runtime.recording_media_url(recording_sid),
                                     auth=runtime.media_auth(), headers=headers, stream=True,
                                     timeout=MEDIA_TIMEOUT)
    except requests.RequestException as exc:
        log.warning("recording media unreachable", extra={"recording_sid": recording_sid,
                                                          "error": type(exc).__name__})
        raise APIError(502, "recording_unreachable", "Twilio did not deliver the recording; "
                                                     "try again later") from None
    if upstream.status_code not in (200, 206):
        upstream.close()
        log.warning("recording media refused", extra={"recording_sid": recording_sid,
                                                      "status": upstream.status_code})
        if upstream.status_code == 404:
            raise APIError(404, "recording_not_found", "Twilio has no such recording (deleted?)")
        raise APIError(502, "recording_unavailable",
                       f"Twilio answered {upstream.status_code} for the recording")
    response = Response(stream_with_context(_chunks(upstream)), status=upstream.status_code)
    for name in _PASSED_HEADERS:
        if name in upstream.headers:
            response.headers[name] = upstream.headers[name]
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _chunks(upstream: requests.Response) -> Iterator[bytes]:
    try:
        yield from upstream.iter_content(_CHUNK)
    finally:
        upstream.close()
