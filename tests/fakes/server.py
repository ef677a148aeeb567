"""Run a WSGI app on a loopback port in a background thread, for fake external services."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

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
