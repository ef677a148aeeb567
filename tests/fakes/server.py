"""Run a WSGI app on a loopback port in a background thread, for fake external services.

Some clients only speak https to fixed host names (simple-salesforce builds
``https://{domain}.salesforce.com``). :class:`HostRoute` sends such requests to a local fake
instead, and :func:`behind_tls_proxy` lets the fake see the URL the client asked for — the
pair plays the part of an ``/etc/hosts`` entry and a TLS-terminating proxy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import BaseWSGIServer, make_server


class LiveServer:
    """A threaded WSGI server on ``127.0.0.1`` and a free port; use as a context manager.

    Example::

        with LiveServer(fake_app) as server:
            requests.get(server.url + "/ping", timeout=2)
    """

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        self._server = make_server(self.host, self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"fake-server-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HostRoute(HTTPAdapter):
    """A transport adapter that sends every request it gets to ``server_url`` over plain http,
    telling the server the scheme and host that were asked for (``X-Forwarded-*``).

    Mount it on a session for the https hosts a fake plays::

        session.mount("https://acme.my.salesforce.com", HostRoute(server.url))
    """

    def __init__(self, server_url: str) -> None:
        super().__init__()
        self.server = urlsplit(server_url)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        asked = urlsplit(request.url or "")
        request.headers["X-Forwarded-Proto"] = asked.scheme
        request.headers["X-Forwarded-Host"] = asked.netloc
        request.url = urlunsplit(asked._replace(scheme=self.server.scheme,
                                                netloc=self.server.netloc))
        return super().send(request, **kwargs)


def route_hosts(session: requests.Session, server_url: str, *hosts: str) -> requests.Session:
    """Mount :class:`HostRoute` on ``session`` for each of ``hosts`` (https); returns it."""
    for host in hosts:
        session.mount(f"https://{host}/", HostRoute(server_url))
    return session


def behind_tls_proxy(app: Callable[..., Any]) -> Callable[..., Any]:
    """``app`` seeing the scheme and host a :class:`HostRoute` forwarded (werkzeug's
    ProxyFix); requests that come straight to the server are unchanged."""
    return ProxyFix(app, x_proto=1, x_host=1)
