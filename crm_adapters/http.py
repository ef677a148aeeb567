"""The HTTP session adapters receive, and the mapping of HTTP failures onto typed errors.

Every outbound request needs a timeout (simple-salesforce has none of its own, and Twilio gives a
webhook 15 s in total), so the core hands adapters a :class:`TimeoutSession` that applies one to any
request that does not set its own.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import requests

from .errors import (
    AdapterAuthError,
    AdapterError,
    AdapterPermanentError,
    AdapterRateLimited,
    AdapterTemporaryError,
)

#: (connect, read) seconds; adapters on the ringing path get much shorter ones from the core.
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 15.0)

USER_AGENT = "cti-connector/0.1 (+https://github.com/cti-connector/cti-connector)"


class TimeoutSession(requests.Session):
    """A ``requests.Session`` whose requests time out unless they say otherwise."""

    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = USER_AGENT

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


@contextlib.contextmanager
def transport_errors(adapter: str) -> Iterator[None]:
    """Turn ``requests`` transport failures into :class:`AdapterTemporaryError`."""
    try:
        yield
    except AdapterError:
        raise
    except requests.Timeout as exc:
        raise AdapterTemporaryError(f"timed out: {_short(exc)}", adapter=adapter) from exc
    except requests.ConnectionError as exc:
        raise AdapterTemporaryError(f"connection failed: {_short(exc)}", adapter=adapter) from exc
    except requests.RequestException as exc:
        raise AdapterTemporaryError(f"request failed: {_short(exc)}", adapter=adapter) from exc


def raise_for_status(response: requests.Response, *, adapter: str, detail: str = "") -> None:
    """Raise the typed error for a non-2xx ``response``; ``detail`` is the CRM's own message."""
    if response.status_code < 400:
        return
    raise status_error(response.status_code, f"{response.request.method} {_path(response.url)}",
                       adapter=adapter, detail=detail, retry_after=retry_after(response))


def status_error(status: int, request: str, *, adapter: str, detail: str = "",
                 retry_after: float | None = None) -> AdapterError:
    """The typed error for an HTTP error ``status``; ``request`` is "METHOD /path" (no query
    string: it may carry phone numbers or tokens)."""
    what = f"HTTP {status} from {request}"
    message = f"{what}: {detail}" if detail else what
    if status == 401:
        return AdapterAuthError(message, adapter=adapter)
    if status == 429:
        return AdapterRateLimited(message, adapter=adapter, retry_after=retry_after)
    if status >= 500 or status == 408:
        return AdapterTemporaryError(message, adapter=adapter, retry_after=retry_after)
    return AdapterPermanentError(message, adapter=adapter)


def retry_after(response: requests.Response) -> float | None:
    """Seconds from a numeric ``Retry-After`` header, if any."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _path(url: str) -> str:
    # Only the path: query strings may carry search terms (phone numbers) or tokens.
    return requests.utils.urlparse(url).path or "/"


def _short(exc: Exception) -> str:
    # requests puts the URL in its messages; drop query strings (search terms, tokens).
    text = re.sub(r"\?[^\s'\")]*", "?...", str(exc))
    return text if len(text) <= 200 else text[:197] + "..."
