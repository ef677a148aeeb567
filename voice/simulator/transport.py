"""How the simulator reaches the application: in-process WSGI, or real HTTP.

A transport sends one webhook request and reports what came back, including how long it took
(``elapsed``): the engine advances the call's clock by that much, and Twilio's 15-second budget
applies to it. A transport never raises for network trouble; it returns a
:class:`TransportResponse` with ``error`` set, and the engine maps that to Twilio's error codes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import requests
from werkzeug.test import Client

from voice.simulator import facts

FormParams = Sequence[tuple[str, str]]
Latency = Callable[[str, str], float] | Mapping[str, float] | None


@dataclass(frozen=True)
class TransportResponse:
    """The outcome of one request; ``status`` is ``None`` when no HTTP answer arrived."""

    status: int | None
    body: str = ""
    content_type: str = ""
    elapsed: float = 0.0
    error: str = ""
    timed_out: bool = False


class Transport(Protocol):
    """Sends the simulator's webhook requests."""

    def request(self, method: str, url: str, params: FormParams,
                headers: Mapping[str, str]) -> TransportResponse:
        """Send a request: POST params as a form body, GET params already in ``url``."""


class WSGITransport:
    """Calls a WSGI application (e.g. a Flask app) in-process.

    The scheme and host come from ``base_url``, so an app that validates signatures against
    its public URL (``https://cti.example.jp``) sees exactly that URL. Only URLs under
    ``base_url`` are reachable; others fail like an unreachable host.

    Args:
        app: The WSGI application.
        base_url: The public origin the app is served at, e.g. ``https://cti.example.jp``.
        latency: Simulated response time in seconds, per URL path (a mapping) or computed
            (``fn(method, url)``); used to test slow responses without waiting.
    """

    def __init__(self, app: Callable[..., Any], base_url: str, latency: Latency = None) -> None:
        self._client = Client(app)
        self.base_url = base_url.rstrip("/")
        self._origin = _origin(self.base_url)
        parts = urlsplit(self.base_url)
        self._host_url = f"{parts.scheme}://{parts.netloc}"
        self._latency = latency

    def request(self, method: str, url: str, params: FormParams,
                headers: Mapping[str, str]) -> TransportResponse:
        if _origin(url) != self._origin:
            return TransportResponse(None, error=f"cannot connect to {_origin(url)}")
        parts = urlsplit(url)
        form = urlencode(list(params)) if method == "POST" else None
        response = self._client.open(
            parts.path or "/", base_url=self._host_url, method=method,
            query_string=parts.query, data=form, headers=dict(headers),
            content_type=facts.FORM_CONTENT_TYPE if form is not None else None,
        )
        try:
            body = response.get_data(as_text=True)
        finally:
            response.close()
        return TransportResponse(response.status_code, body, response.content_type or "",
                                 elapsed=self._elapsed(method, url))

    def _elapsed(self, method: str, url: str) -> float:
        if self._latency is None:
            return 0.0
        if callable(self._latency):
            return float(self._latency(method, url))
        return float(self._latency.get(urlsplit(url).path, 0.0))


class HTTPTransport:
    """Sends real HTTP requests with a ``requests`` session (``cti simulate`` → ``cti serve``).

    Args:
        session: The session to use (its adapters, proxies and certificates apply).
        timeout: Seconds to wait for a response; never more than Twilio's 15 s.
    """

    def __init__(self, session: requests.Session | None = None,
                 timeout: float = facts.HTTP_TOTAL_TIMEOUT) -> None:
        self._session = session or requests.Session()
        self.timeout = min(timeout, facts.HTTP_TOTAL_TIMEOUT)

    def request(self, method: str, url: str, params: FormParams,
                headers: Mapping[str, str]) -> TransportResponse:
        started = time.monotonic()
        try:
            response = self._session.request(
                method, url, data=list(params) if method == "POST" else None,
                headers=dict(headers), timeout=self.timeout, allow_redirects=True,
            )
        except requests.Timeout:
            return TransportResponse(None, elapsed=self.timeout, error="timed out",
                                     timed_out=True)
        except requests.RequestException as exc:
            return TransportResponse(None, elapsed=time.monotonic() - started,
                                     error=f"{type(exc).__name__}: {exc}")
        return TransportResponse(response.status_code, response.text,
                                 response.headers.get("Content-Type", ""),
                                 elapsed=time.monotonic() - started)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{parts.hostname}:{port}"
