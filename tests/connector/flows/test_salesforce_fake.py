"""CRM branches against the Salesforce fake (SOSL lookup by phone, SF-6), through the layer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector import crm, db, queue
from crm_adapters.base import AdapterEnvironment
from crm_adapters.http import TimeoutSession
from crm_adapters.salesforce import SalesforceAdapter, SalesforceSettings
from crm_adapters.settings import parse_settings
from tests.adapters.salesforce.conftest import (
    AUDIENCE,
    HTTP_TIMEOUT,
    ORG_HOST,
    make_key_pair,
    settings_table,
)
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.server import LiveServer, behind_tls_proxy, route_hosts
from voice.simulator import CallerScript

from ..voice.conftest import CALLER, NUMBER, make_env
from .conftest import FlowEnv

FLOW = """
[flow]
name = "sf"
entry = "known"

[nodes.known]
kind = "crm"
test = "known"
crm = "salesforce"
then = "vip"
else = "stranger"

[nodes.vip]
kind = "crm"
test = "field"
crm = "salesforce"
field = "company"
equals = "山田商事"
then = "greet_vip"
else = "greet"

[nodes.greet_vip]
kind = "announcement"
say = "{company}の{name}様、いつもありがとうございます。"

[nodes.greet]
kind = "announcement"
say = "{name}様、お電話ありがとうございます。"

[nodes.stranger]
kind = "announcement"
say = "お電話ありがとうございます。"
"""


@pytest.fixture
def salesforce(env) -> Iterator[FakeSalesforce]:
    keys = make_key_pair()
    fake = FakeSalesforce(keys.certificate_pem, audience=AUDIENCE)
    with LiveServer(behind_tls_proxy(fake)) as server:
        settings = parse_settings(SalesforceSettings, settings_table(fake, keys),
                                  where="crm.salesforce")
        http = route_hosts(TimeoutSession(HTTP_TIMEOUT), server.url, ORG_HOST)
        adapter = SalesforceAdapter(settings, http=http,
                                    env=AdapterEnvironment(timezone="Asia/Tokyo"))
        # The app's real CRM layer, with the adapter wired to the fake org (whose host the
        # adapter's session routes to loopback, as in tests/adapters/salesforce).
        real = _real_layer(env)
        real.adapters["salesforce"] = adapter
        env.app.extensions["cti.crm"] = real
        yield fake


@pytest.fixture
def env(tmp_path, sqlite_url, redis_url) -> Iterator[FlowEnv]:
    # The first lookup signs in to the fake org (JWT) as well: a wider budget than 300 ms,
    # so the test does not depend on this machine's load.
    # A private Redis: the layer remembers unknown numbers there.
    voice_env = make_env(tmp_path, sqlite_url, voice={"lookup_budget_ms": 2000},
                         queue={"redis_url": redis_url})
    voice_env.__class__ = FlowEnv
    yield voice_env
    db.get_engine(voice_env.app).dispose()


def _real_layer(env) -> crm.CRMLayer:
    return crm.CRMLayer(env.app.config["CTI_SETTINGS"], redis_client=queue.get_redis(env.app),
                        engine=db.get_engine(env.app))


def heard(env) -> list[str]:
    env.import_flow(FLOW)
    env.add_number(NUMBER, "flow:sf")
    call = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript())
    env.sim.run_until_idle()
    return call.heard


def test_known_caller_at_the_vip_company(env, salesforce):
    salesforce.add_customer("山田 太郎", "090-1234-5678", company="山田商事")
    assert heard(env) == ["山田商事の山田 太郎様、いつもありがとうございます。"]


def test_known_caller_elsewhere(env, salesforce):
    salesforce.add_customer("鈴木 花子", "090-1234-5678", company="鈴木工業")
    assert heard(env) == ["鈴木 花子様、お電話ありがとうございます。"]


def test_unknown_caller(env, salesforce):
    assert heard(env) == ["お電話ありがとうございます。"]
