"""CRM branches against the kintone fake (HTTP), through the app's real CRM layer (KT-6)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from connector import create_app, crm, db
from connector.voice import attach_simulator, webhook_auth_token
from tests.conftest import app_config
from tests.connector.voice.conftest import BASE, CALLER, NUMBER, SIMULATOR_ACCOUNT_SID, START
from tests.fakes.kintone import FakeKintone, standard_kintone, standard_settings, text
from tests.fakes.server import LiveServer
from voice.simulator import CallerScript, Simulator, WSGITransport

from .conftest import FlowEnv

ORDERS = 40
FLOW = """
[flow]
name = "kintone"
entry = "known"

[nodes.known]
kind = "crm"
test = "known"
crm = "kintone"
then = "order"
else = "stranger"

[nodes.order]
kind = "lookup"
crm = "kintone"
app = "注文"
field = "電話番号"
save = { item = "商品名" }
then = "tell"
else = "greet"

[nodes.tell]
kind = "announcement"
say = "{name}様、ご注文の{item}について承ります。"

[nodes.greet]
kind = "announcement"
say = "{name}様、お電話ありがとうございます。"

[nodes.stranger]
kind = "announcement"
say = "はじめてのお客様ですね。"
"""


@pytest.fixture
def kintone() -> Iterator[tuple[FakeKintone, LiveServer]]:
    fake = standard_kintone()
    fake.add_app(ORDERS, {"電話番号": text("電話番号"), "商品名": text("商品名")},
                 tokens={"orders-token": {"view"}})
    with LiveServer(fake) as live:
        yield fake, live


@pytest.fixture
def env(tmp_path, sqlite_url, redis_url, kintone) -> Iterator[FlowEnv]:
    fake, live = kintone
    settings = standard_settings(live.url, fake)
    settings["apps"].append({"name": "注文", "kind": "general", "app_id": ORDERS,
                             "api_token": "orders-token"})
    holder: dict[str, Simulator] = {}

    def sim_clock() -> datetime:
        sim = holder.get("sim")
        return sim.wall_time(sim.now()) if sim else START

    app = create_app(app_config(tmp_path, sqlite_url, redis_url, crm={
        "adapters": ["kintone"], "kintone": settings}), clock=sim_clock)
    sim = Simulator(SIMULATOR_ACCOUNT_SID, webhook_auth_token(app), WSGITransport(app, BASE),
                    start_time=START)
    holder["sim"] = sim
    attach_simulator(app, sim)
    flow_env = FlowEnv(app, sim, handoffs=None, crm=crm.get_layer(app))
    flow_env.import_flow(FLOW)
    flow_env.add_number(NUMBER, "flow:kintone")
    yield flow_env
    db.get_engine(app).dispose()


def heard(env) -> list[str]:
    call = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript())
    env.sim.run_until_idle()
    return call.heard


def test_known_caller_with_an_order(env, kintone):
    fake, _ = kintone
    fake.add_customer("山田 太郎", "090-1234-5678")
    fake.add_record(ORDERS, {"電話番号": "090-1234-5678", "商品名": "緑茶セット"})
    assert heard(env) == ["山田 太郎様、ご注文の緑茶セットについて承ります。"]


def test_known_caller_without_an_order(env, kintone):
    fake, _ = kintone
    fake.add_customer("山田 太郎", "090-1234-5678")
    assert heard(env) == ["山田 太郎様、お電話ありがとうございます。"]


def test_unknown_caller(env):
    assert heard(env) == ["はじめてのお客様ですね。"]
