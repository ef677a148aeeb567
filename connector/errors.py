"""JSON errors with one stable shape for every API and webhook failure.

``{"error": {"code": "not_found", "message": "...", "details": {...}}}`` — ``code`` is stable and
machine-readable, ``message`` is for people, ``details`` is optional (e.g. which fields are wrong).
A message given as a :class:`~connector.messages.Text` is answered in the reader's language,
with both texts in ``details.message_ja`` / ``details.message_en`` (see ``connector.messages``).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .messages import Text, request_language

log = logging.getLogger("cti.errors")


class APIError(Exception):
    """Raise from a view to answer with a JSON error."""

    def __init__(self, status: int, code: str, message: str | Text,
                 details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.headers = headers or {}  # e.g. Retry-After on a 429
        self.text = message if isinstance(message, Text) else None
        self.message = message.ja if isinstance(message, Text) else message
        super().__init__(self.message)
        self.status = status
        self.code = code
        self.details = details or {}

    def body(self) -> tuple[str, dict[str, Any]]:
        """The message for the current reader, and the details to send with it."""
        if self.text is None:
            return self.message, self.details
        return self.text.get(request_language()), {**self.text.both(), **self.details}


def error_response(status: int, code: str, message: str,
                   details: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    return response


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def init_app(app: Flask) -> None:
    @app.errorhandler(APIError)
    def _api_error(exc: APIError):  # type: ignore[no-untyped-def]
        message, details = exc.body()
        response = error_response(exc.status, exc.code, message, details)
        response.headers.update(exc.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        response = error_response(exc.code or 500, _http_code(exc), exc.description or "")
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error")
        return error_response(500, "internal_error",
                              "An internal error occurred; it has been logged.")
