"""The shipped example adapter passes the shipped contract suite (against a local fake CRM)."""

import pytest

from crm_adapters.base import AdapterEnvironment
from crm_adapters.example import ExampleAdapter, ExampleSettings
from crm_adapters.http import TimeoutSession
from crm_adapters.settings import Secret, SettingsError, parse_settings
from crm_adapters.testing import AdapterContract
from tests.fakes.example_crm import FakeExampleCRM
from tests.fakes.server import LiveServer

TOKEN = "example-secret-token-9f8e7d"


@pytest.fixture(scope="module")
def server():
    fake = FakeExampleCRM(token=TOKEN, hang_seconds=1.0)
    with LiveServer(fake) as live:
        live.fake = fake
        yield live


class TestExampleContract(AdapterContract):
    @pytest.fixture
    def crm(self, server):
        fake = server.fake
        fake.contacts.clear()
        fake.logs.clear()
        fake._failures.clear()
        return fake

    @pytest.fixture
    def adapter(self, server, crm):
        settings = ExampleSettings(base_url=server.url, api_token=Secret(TOKEN))
        return ExampleAdapter(settings, http=TimeoutSession(timeout=0.5),
                              env=AdapterEnvironment())

    @pytest.fixture
    def secrets(self):
        return [TOKEN]


def test_settings_errors_name_the_key():
    with pytest.raises(SettingsError) as excinfo:
        parse_settings(ExampleSettings, {"base_url": "ftp://x", "api_token": "t"},
                       where="crm.example")
    assert excinfo.value.problems == [
        "crm.example: base_url: an http(s) URL is required, got 'ftp://x'"]
