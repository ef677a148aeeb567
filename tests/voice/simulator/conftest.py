"""A tiny TwiML server (Flask) and a simulator wired to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from flask import Flask, Response, request

from voice.signature import SIGNATURE_HEADER, validate_signature
from voice.simulator import Simulator, WSGITransport

ACCOUNT = "AC" + "a" * 32
TOKEN = "test-auth-token"
BASE = "https://cti.example.jp"
NUMBER = "+815012345678"
CALLER = "+819012345678"

Route = str | Callable[[dict[str, str]], str | tuple[str, int]]


@dataclass
class TwimlServer:
    """Serves TwiML per path and records every request with its signature verdict."""

    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[tuple[str, str, dict[str, str], bool]] = field(default_factory=list)

    def app(self) -> Flask:
        app = Flask("twiml-test")

        @app.route("/<path:path>", methods=["GET", "POST"])
        def serve(path: str) -> Response:
            params = request.form if request.method == "POST" else None
            valid = validate_signature(request.url, params,
                                       request.headers.get(SIGNATURE_HEADER), TOKEN)
            values = dict(request.values)
            self.seen.append((request.method, request.path, values, valid))
            route = self.routes.get("/" + path)
            if route is None:
                return Response("<Response/>", mimetype="text/xml")
            body = route(values) if callable(route) else route
            status = 200
            if isinstance(body, tuple):
                body, status = body
            return Response(body, status=status, mimetype="text/xml")

        return app


def twiml(inner: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'


@pytest.fixture
def server() -> TwimlServer:
    return TwimlServer()


@pytest.fixture
def make_sim(server: TwimlServer) -> Callable[..., Simulator]:
    def make(latency: dict[str, float] | None = None, **kwargs) -> Simulator:
        transport = WSGITransport(server.app(), BASE, latency=latency)
        return Simulator(ACCOUNT, TOKEN, transport, **kwargs)
    return make


@pytest.fixture
def sim(make_sim) -> Simulator:
    return make_sim()
