"""A local template CRM and adapters wired to it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine

from crm_adapters.base import AdapterEnvironment
from crm_adapters.http import TimeoutSession
from crm_adapters.httptemplate import HTTPTemplateAdapter, HTTPTemplateSettings
from crm_adapters.httptemplate.ledger import metadata as ledger_metadata
from crm_adapters.settings import parse_settings
from tests.fakes.http_template_crm import PASSWORD, USER, FakeTemplateCRM
from tests.fakes.server import LiveServer


@pytest.fixture(scope="module")
def server():
    fake = FakeTemplateCRM(hang_seconds=1.0)
    with LiveServer(fake) as live:
        live.fake = fake
        yield live


@pytest.fixture
def crm(server):
    server.fake.reset()
    return server.fake


@pytest.fixture
def ledger_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = create_engine(url)
    ledger_metadata.create_all(engine)
    engine.dispose()
    return url


def standard_table(base: str) -> dict[str, Any]:
    """A typical in-house CRM: sign in, search as text, hang-up and wrap-up server-side."""
    return {
        "secrets": {"user": USER, "password": PASSWORD},
        "auth": {"url": f"{base}/login.php?userid={{SECRET:user}}&password={{SECRET:password}}",
                 "format": "{SID}{CRLF}"},
        "search": {"url": f"{base}/search.php?tel={{TEL}}&sid={{SID}}",
                   "format": "{ID},{NAME},{COMPANY}{CRLF}",
                   "record_url": f"{base}/customer.php?id={{ID}}"},
        "hangup": {"url": f"{base}/hook/hangup?callsid={{CALLSID}}&tel={{TEL}}"
                          "&duration={DURATION}"},
        "wrapup": {"url": f"{base}/hook/wrapup", "method": "POST",
                   "body": "callsid={CALLSID}&result={RESULT}&note={NOTE}"},
        "timeout_seconds": 0.5,
    }


@pytest.fixture
def make_adapter(server, ledger_url):
    def make(table: dict[str, Any] | None = None, *, name: str = "http_test",
             **changes: Any) -> HTTPTemplateAdapter:
        raw = dict(standard_table(server.url) if table is None else table)
        raw.update(changes)
        settings = parse_settings(HTTPTemplateSettings, raw, where="crm.http.test")
        cls = type("HTTPTemplateAdapter_test", (HTTPTemplateAdapter,), {"name": name})
        return cls(settings, http=TimeoutSession(timeout=0.5),
                   env=AdapterEnvironment(database_url=ledger_url))
    return make


@pytest.fixture(autouse=True)
def _quiet_fake_server():
    # werkzeug logs each request line, query strings (test passwords) included; the contract's
    # "no secret in logs" check is about the adapter's logs, not the fake server's.
    import logging

    logger = logging.getLogger("werkzeug")
    before = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(before)
