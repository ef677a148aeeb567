"""Twilio's ``X-Twilio-Signature`` through twilio-python's ``RequestValidator``: compute it (the
simulator signs its webhooks) and check it.

The algorithm (``twilio/request_validator.py``; twilio.com/docs/usage/security): the full URL
Twilio requested, then every POST parameter name in sorted order followed by each of its
distinct values, sorted; ``base64(HMAC-SHA1(auth_token, that string))``. GET requests sign the
URL alone. JSON bodies: Twilio adds ``bodySHA256=<hex sha256 of the raw body>`` to the query and
signs the URL alone. The validator accepts the URL with and without the scheme's default port
(``:443`` / ``:80``), because Twilio's signing side has not been consistent about it.

What this module adds around the library:

* The URL **as configured** is tried first, with one HMAC; only when it does not match does
  ``RequestValidator.validate`` sign the with/without-port forms (a deployment whose
  ``public_base_url`` carries a port pays for one HMAC per webhook, not two).
* Parameters may be a mapping (values may be lists, or a Werkzeug ``MultiDict``) or a list of
  ``(name, value)`` pairs — the validator itself takes only flat dicts and ``getlist``/``getall``
  objects.
* A JSON body is accepted only with a matching ``bodySHA256`` (the validator skips the hash when
  the URL has none, then cannot sign a string body at all).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import SIGNATURE_HEADER, RequestValidator

__all__ = ["SIGNATURE_HEADER", "compute_signature", "validate_signature"]

Params = Mapping[str, Any] | Iterable[tuple[str, str]] | None


class _Form(dict[str, list[str]]):
    """Form parameters as the validator reads a Django ``QueryDict``: name -> all its values."""

    def getlist(self, name: str) -> list[str]:
        return self[name]


def compute_signature(url: str, params: Params, auth_token: str) -> str:
    """Return the ``X-Twilio-Signature`` value for a request.

    Args:
        url: The absolute URL requested, including any query string.
        params: The form (POST) parameters: a mapping (values may be lists, or a Werkzeug
            ``MultiDict``), a list of ``(name, value)`` pairs, or ``None`` for GET requests.
        auth_token: The account's auth token (the HMAC key).

    Returns:
        The base64-encoded HMAC-SHA1 signature.
    """
    return RequestValidator(auth_token).compute_signature(url, _form(params))


def validate_signature(
    url: str, params: Params | str | bytes, signature: str | None, auth_token: str
) -> bool:
    """Check a request's ``X-Twilio-Signature``.

    Args:
        url: The absolute public URL of the request (rebuild it behind a proxy).
        params: The form parameters, or for any other body (JSON) the raw body, as bytes
            or as text (UTF-8).
        signature: The header value (``None``, empty or non-ASCII fails).
        auth_token: The account's auth token.

    Returns:
        ``True`` if the signature matches the URL as given, or with or without the default
        port, and, for JSON bodies, the ``bodySHA256`` query parameter matches the body.
    """
    if not signature or not signature.isascii():
        return False  # hmac.compare_digest raises TypeError on non-ASCII text
    if isinstance(params, str | bytes):
        raw = params.encode("utf-8") if isinstance(params, str) else params
        expected_hash = parse_qs(urlsplit(url).query).get("bodySHA256", [""])[0]
        actual_hash = hashlib.sha256(raw).hexdigest()
        if not hmac.compare_digest(actual_hash.encode(), expected_hash.encode("utf-8")):
            return False
        params = None
    validator = RequestValidator(auth_token)
    form = _form(params)
    if hmac.compare_digest(validator.compute_signature(url, form), signature):
        return True
    return validator.validate(url, form, signature)


def _form(params: Params) -> _Form:
    """Every parameter name with its values; repeated names keep each value."""
    form = _Form()
    if params is None:
        return form
    if isinstance(params, Mapping):
        getlist = getattr(params, "getlist", None)
        for name in params:
            raw = getlist(name) if getlist else params[name]
            items = raw if isinstance(raw, list | tuple) else [raw]
            form.setdefault(name, []).extend(str(item) for item in items)
    else:
        for name, value in params:
            form.setdefault(name, []).append(str(value))
    return form
