"""Fixtures for connector tests that need a CRM: the example adapter on a local fake."""

import pytest

from tests.connector.crm_fixtures import TOKEN, crm_section
from tests.fakes.example_crm import FakeExampleCRM
from tests.fakes.server import LiveServer


@pytest.fixture
def fake_crm():
    fake = FakeExampleCRM(token=TOKEN, hang_seconds=1.0)
    with LiveServer(fake) as live:
        fake.url = live.url
        yield fake


@pytest.fixture
def crm_app(make_app, fake_crm, redis_url, database_url):
    app = make_app(database_url=database_url, redis_url=redis_url,
                   crm=crm_section(fake_crm))
    # Short HTTP timeouts so "timeout" faults take a fraction of a second.
    for adapter in app.extensions["cti.crm"].adapters.values():
        adapter.http.timeout = 0.4
    return app
