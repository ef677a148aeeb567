"""lookup and update nodes (KT-6): kintone general apps, within the budget and in the worker."""

from __future__ import annotations

import threading

import pytest

from connector import db
from tests.connector.crm_fixtures import run_jobs
from voice.simulator import CallerScript

from ..voice.conftest import CALLER, NUMBER, make_env
from .conftest import FlowEnv

FLOW = """
[flow]
name = "orders"
entry = "find"

[nodes.find]
kind = "lookup"
crm = "kintone"
app = "注文"
field = "電話番号"
value = "{caller}"
save = { item = "商品名", status = "状況" }
then = "tell"
else = "unknown"

[nodes.tell]
kind = "update"
crm = "kintone"
app = "入電記録"
key_field = "電話番号"
key = "{caller_e164}"
values = { "最終入電" = "{caller}", "件名" = "{item}" }
next = "say"

[nodes.say]
kind = "announcement"
say = "ご注文の{item}は、{status}です。"

[nodes.unknown]
kind = "announcement"
say = "ご注文が見つかりませんでした。"
"""


class KintoneStub:
    """Plays the kintone adapter's flow methods (their HTTP side is tested against the fake
    in tests/adapters/kintone/test_flow.py)."""

    def __init__(self, records=(), delay: float = 0.0) -> None:
        self.records = list(records)
        self.delay = delay
        self.asked: list[tuple[str, str, str]] = []
        self.upserts: list[tuple] = []
        self.release = threading.Event()

    def match_general(self, app, field, value):
        self.asked.append((app, field, value))
        if self.delay:
            self.release.wait(self.delay)
        return [r for r in self.records if r.get(field) == value]

    def upsert_general(self, app, key_field, key, values):
        self.upserts.append((app, key_field, key, dict(values)))
        return "99"


@pytest.fixture
def env(tmp_path, sqlite_url, redis_url):
    voice_env = make_env(tmp_path, sqlite_url, queue={"redis_url": redis_url})
    voice_env.__class__ = FlowEnv
    yield voice_env
    db.get_engine(voice_env.app).dispose()


def place(env, stub):
    env.crm.adapters = {"kintone": stub}
    env.import_flow(FLOW)
    env.add_number(NUMBER, "flow:orders")
    call = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript())
    env.sim.run_until_idle()
    return call


def test_found_record_is_merged_and_the_update_runs_in_the_worker(env):
    stub = KintoneStub([{"電話番号": "090-1234-5678", "商品名": "緑茶", "状況": "発送済み"}])
    call = place(env, stub)
    assert call.heard == ["ご注文の緑茶は、発送済みです。"]
    assert stub.asked == [("注文", "電話番号", "090-1234-5678")]
    assert stub.upserts == []  # not on the ringing path
    run_jobs(env.app)
    assert stub.upserts == [("入電記録", "電話番号", CALLER,
                             {"最終入電": "090-1234-5678", "件名": "緑茶"})]


def test_no_record_goes_to_else(env):
    assert place(env, KintoneStub([])).heard == ["ご注文が見つかりませんでした。"]


def test_a_slow_crm_counts_as_not_found(env):
    stub = KintoneStub([{"電話番号": "090-1234-5678", "商品名": "緑茶", "状況": "x"}],
                       delay=5.0)
    try:
        assert place(env, stub).heard == ["ご注文が見つかりませんでした。"]
    finally:
        stub.release.set()
