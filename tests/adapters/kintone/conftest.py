"""Fixtures: a fake kintone domain on a loopback port and adapters wired to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crm_adapters.base import AdapterEnvironment, LocalLimiter
from crm_adapters.http import TimeoutSession
from crm_adapters.kintone import KintoneAdapter, KintoneSettings
from crm_adapters.settings import parse_settings
from tests.fakes.kintone import FakeKintone, standard_kintone, standard_settings
from tests.fakes.server import LiveServer

MakeAdapter = Callable[..., KintoneAdapter]


@pytest.fixture
def fake_options() -> dict[str, Any]:
    """Keyword arguments of :func:`standard_kintone`; override in a test module or class."""
    return {}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Keys replacing those of :func:`standard_settings`; override like ``fake_options``."""
    return {}


@pytest.fixture
def fake(fake_options: dict[str, Any]) -> FakeKintone:
    return standard_kintone(**fake_options)


class _Switch:
    """A WSGI app that forwards to the current test's fake, so one server serves a module
    (stopping a :class:`LiveServer` takes up to half a second)."""

    def __init__(self) -> None:
        self.target: FakeKintone | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        assert self.target is not None, "no fake kintone for this request"
        return self.target(environ, start_response)


@pytest.fixture(scope="module")
def _shared_server() -> Iterator[tuple[LiveServer, _Switch]]:
    switch = _Switch()
    with LiveServer(switch) as live:
        yield live, switch


@pytest.fixture
def server(fake: FakeKintone, _shared_server: tuple[LiveServer, _Switch]) -> Iterator[LiveServer]:
    live, switch = _shared_server
    switch.target = fake
    yield live
    switch.target = None


@pytest.fixture
def limiter() -> LocalLimiter:
    return LocalLimiter()


@pytest.fixture
def make_adapter(server: LiveServer, fake: FakeKintone, limiter: LocalLimiter,
                 settings_overrides: dict[str, Any]) -> Iterator[MakeAdapter]:
    """Build adapters against the fake; keyword arguments override settings keys."""
    sessions: list[TimeoutSession] = []

    def make(**overrides: Any) -> KintoneAdapter:
        table = standard_settings(server.url, fake, **{**settings_overrides, **overrides})
        settings = parse_settings(KintoneSettings, table, where="crm.kintone")
        http = TimeoutSession(timeout=(1.0, 1.0))
        sessions.append(http)
        return KintoneAdapter(settings, http=http, env=AdapterEnvironment(limiter=limiter))

    yield make
    for http in sessions:
        http.close()


@pytest.fixture
def adapter(make_adapter: MakeAdapter) -> KintoneAdapter:
    return make_adapter()
