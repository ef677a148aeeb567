"""How much of a request body is read: ``[server] max_request_bytes``, larger per upload route.

Flask's ``MAX_CONTENT_LENGTH`` makes werkzeug refuse a body whose ``Content-Length`` is over
the limit before anything is read. A streamed body (chunked, no ``Content-Length``) is read
here, up to the limit, before the view runs: werkzeug's form parser would otherwise stop at the
limit and parse what it had, silently losing the rest. The refusal is a 413 in the project's
JSON error shape (:mod:`connector.errors`) naming the limit that applied. Upload views carry
their own limit (:func:`body_limit`); it is applied before the body is touched. Twilio
webhooks carry a cap (``max_body_cap_bytes``, :mod:`connector.voice.webhook`) that can only
lower the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from .config import Settings
from .errors import error_response

F = TypeVar("F", bound=Callable[..., Any])

#: Room for the multipart envelope and the other form fields around an uploaded file.
MULTIPART_OVERHEAD = 64 * 1024


def init_app(app: Flask) -> None:
    settings: Settings = app.config["CTI_SETTINGS"]
    app.config["MAX_CONTENT_LENGTH"] = settings.server.max_request_bytes

    @app.before_request
    def _limit_body() -> None:
        view = app.view_functions.get(request.endpoint or "")
        limit = getattr(view, "max_body_bytes", None)
        if limit is not None:
            request.max_content_length = limit
        cap = getattr(view, "max_body_cap_bytes", None)  # lowers the limit, never raises it
        if cap is not None:
            request.max_content_length = min(cap, request.max_content_length or cap)
        if request.content_length is None and "wsgi.input_terminated" in request.environ:
            _read_streamed_body()

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
        limit = request.max_content_length
        return error_response(
            413, "too_large",
            f"The request body is larger than {limit:,} bytes, the most this endpoint accepts.",
            {"limit_bytes": limit})


def _read_streamed_body() -> None:
    """Read a body sent without ``Content-Length`` now, refusing it past the limit.

    werkzeug stops reading such a body at the limit without telling whether more followed, so
    one byte more than the limit is read: if it arrives, the body is too large.
    """
    limit = request.max_content_length
    if limit is None:
        return
    request.max_content_length = limit + 1
    data = request.get_data(cache=True)
    request.max_content_length = limit
    if len(data) > limit:
        raise RequestEntityTooLarge()


def body_limit(file_bytes: int) -> Callable[[F], F]:
    """Let the decorated view read an upload of up to ``file_bytes`` (plus its envelope).

    The limit travels as an attribute of the view, so the decorators above it must keep the
    view's ``__dict__`` (``functools.wraps`` does).
    """
    def decorate(view: F) -> F:
        view.max_body_bytes = file_bytes + MULTIPART_OVERHEAD  # type: ignore[attr-defined]
        return view
    return decorate
