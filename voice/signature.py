"""Twilio's ``X-Twilio-Signature``: compute it (the simulator signs its webhooks) and check it.

The algorithm (twilio-python ``twilio/request_validator.py``; twilio.com/docs/usage/security):

* Form-encoded requests: start from the full URL Twilio requested (scheme, host, port if any,
  path and query string, exactly as configured); for every POST parameter name in sorted order,
  append ``name + value`` (a repeated name appends each of its distinct values, sorted).
  The signature is ``base64(HMAC-SHA1(key=auth_token, msg=that string))``.
* GET requests carry their parameters in the query string, so only the URL is signed.
* JSON bodies: Twilio adds ``bodySHA256=<hex sha256 of the raw body>`` to the URL's query and
  signs the URL alone; the validator checks that hash against the raw body.
* Twilio's own validator accepts the URL both with and without the scheme's default port
  (``:443`` / ``:80``), because Twilio's signing side has not been consistent about it.

Comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

SIGNATURE_HEADER = "X-Twilio-Signature"

Params = Mapping[str, Any] | Iterable[tuple[str, str]] | None


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
    message = url + "".join(name + value for name, value in _signing_pairs(params))
    digest = hmac.new(auth_token.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def validate_signature(
    url: str, params: Params | str, signature: str | None, auth_token: str
) -> bool:
    """Check a request's ``X-Twilio-Signature`` the way twilio-python's validator does.

    Args:
        url: The absolute public URL of the request (rebuild it behind a proxy).
        params: The form parameters, or for a JSON request the raw body string.
        signature: The header value (``None`` or empty fails).
        auth_token: The account's auth token.

    Returns:
        ``True`` if the signature matches the URL with or without the default port, and, for
        JSON bodies, the ``bodySHA256`` query parameter matches the body.
    """
    if not signature:
        return False
    body_ok = True
    if isinstance(params, str):
        expected_hash = parse_qs(urlsplit(url).query).get("bodySHA256", [""])[0]
        actual_hash = hashlib.sha256(params.encode("utf-8")).hexdigest()
        body_ok = hmac.compare_digest(actual_hash, expected_hash)
        params = None
    # Twilio may have signed the URL with or without its port. The URL as given is tried
    # first (the usual match); a generator signs the other forms only when it does not.
    candidates = dict.fromkeys((url, _without_port(url), _with_default_port(url)))
    matches = (
        hmac.compare_digest(compute_signature(candidate, params, auth_token), signature)
        for candidate in candidates
    )
    return body_ok and any(matches)


def _signing_pairs(params: Params) -> list[tuple[str, str]]:
    """Sorted ``(name, value)`` pairs; repeated names contribute their distinct values."""
    if params is None:
        return []
    values: dict[str, set[str]] = {}
    if isinstance(params, Mapping):
        getall = getattr(params, "getlist", None)
        for name in params:
            raw = getall(name) if getall else params[name]
            items = raw if isinstance(raw, list | tuple) else [raw]
            values.setdefault(name, set()).update(str(item) for item in items)
    else:
        for name, value in params:
            values.setdefault(name, set()).add(str(value))
    return [(name, value) for name in sorted(values) for value in sorted(values[name])]


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def _without_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is None:
        return url
    host = parts.netloc.rsplit(":", 1)[0]
    return urlunsplit(parts._replace(netloc=host))


def _with_default_port(url: str) -> str:
    parts = urlsplit(url)
    if parts.port is not None:
        return url
    netloc = f"{parts.netloc}:{_default_port(parts.scheme)}"
    return urlunsplit(parts._replace(netloc=netloc))
