"""Simulated mode end to end: no Twilio account, no fake device — the product's own simulated
device against the in-process simulator (ring → answer → screen pop → after-call work → log)."""

from __future__ import annotations

from sqlalchemy import select

from connector import crm, db, sync
from connector.acd import get_acd
from connector.acd import groups as acd_groups
from connector.builtin_crm.demo import create_demo_data
from connector.schema import calls
from connector.softphone import simulated
from connector.voice import groups, numbers
from connector.voice.numbers import NumberChanges, Route
from tests.connector.crm_fixtures import run_jobs
from tests.softphone.browser.conftest import screenshot, state, wait_for
from tests.softphone.browser.test_softphone import eventually

NUMBER = "+815012345678"


def test_newcomer_sees_a_whole_call_without_an_account(live_factory, redis_url):
    live = live_factory(crm={"adapters": ["builtin"], "writeback_delay_seconds": 0},
                        queue={"redis_url": redis_url})
    live.agent("agent1", display_name="佐藤 花子")
    with db.get_engine(live.app).begin() as conn:
        from connector import clock

        numbers.save_number(conn, NUMBER, NumberChanges(
            label="代表", route=Route.parse("agent:agent1")), now=clock.now(live.app))
        # The demo customers `cti serve` creates on a fresh install; 山田 太郎 is the caller.
        create_demo_data(conn, clock.now(live.app))
    layer = crm.get_layer(live.app)  # … and indexes at once (cti serve does the same)
    sync.sync_adapter(layer.engine, layer.adapters["builtin"],
                      now=live.app.extensions["cti.clock"])
    context = live.context(fake_device=False)
    page = live.sign_in(live.open(context))
    assert page.inner_text('[data-testid="registration"]') == "登録済み（模擬）"
    assert state(page)["mode"] == "simulator"
    page.wait_for_selector('[data-testid="sim-incoming"]:not([disabled])')

    page.click('[data-testid="sim-incoming"]')
    page.wait_for_selector('#call[data-phase="ringing"]')
    assert page.inner_text('[data-testid="call-number"]') == "090-1234-5678"
    with context.expect_page() as popped:  # the built-in CRM's page opens on answer
        page.click('[data-testid="accept"]')
    assert "/crm/customers/" in popped.value.url and "/new" not in popped.value.url
    page.wait_for_selector('#call[data-phase="open"]')
    call_sid = state(page)["call"]["sid"]

    page.click('[data-testid="sim-hangup"]')  # the simulated customer hangs up
    page.wait_for_selector("#acw:not([hidden])")
    page.select_option('[data-testid="disposition"]', "折り返し予定")
    page.fill('[data-testid="notes"]', "明日午前に折り返す")
    page.click('[data-testid="acw-save"]')
    page.wait_for_selector("#acw", state="hidden")
    with db.get_engine(live.app).connect() as conn:
        row = conn.execute(select(calls).where(calls.c.call_sid == call_sid)).first()
    assert (row.disposition, row.notes, row.direction) == ("折り返し予定", "明日午前に折り返す",
                                                           "inbound")

    page.click('[data-testid="tab-log"]')
    wait_for(page, "() => document.querySelectorAll('#log li button').length > 0")
    assert "折り返し予定" in page.inner_text('[data-testid="log"]')
    screenshot(page, "5-history")

    # The worker writes the call into the built-in CRM: the customer's page lists it.
    run_jobs(live.app)
    customer_page = popped.value
    customer_page.reload()
    customer_page.wait_for_selector("#history tbody tr")
    history = customer_page.inner_text("#history")
    assert "明日午前に折り返す" in history and "折り返し予定" in history


def test_a_queued_caller_reaches_the_agent_who_becomes_free(live_factory, redis_url):
    """Issue 12: with agent1 on a call, a second caller waits in the group's queue (not
    voicemail) and rings agent1's softphone once agent1 has finished after-call work."""
    live = live_factory(queue={"redis_url": redis_url})
    live.agent("agent1", display_name="佐藤 花子")
    with db.get_engine(live.app).begin() as conn:
        from connector import clock

        groups.save_group(conn, "support", display_name="サポート", members=["agent1"],
                          now=clock.now(live.app))
        acd_groups.configure(conn, "support", settings={"acw_seconds": 120})
        numbers.save_number(conn, NUMBER, NumberChanges(
            label="代表", route=Route.parse("group:support"),
            fallback=Route.parse("voicemail")), now=clock.now(live.app))
    page = live.sign_in(live.open(live.context(fake_device=False)))
    page.wait_for_selector('[data-testid="sim-incoming"]:not([disabled])')

    page.click('[data-testid="sim-incoming"]')
    page.wait_for_selector('#call[data-phase="ringing"]')
    page.click('[data-testid="accept"]')
    page.wait_for_selector('#call[data-phase="open"]')
    first = state(page)["call"]["sid"]

    # A second customer calls while agent1 talks: they wait in the queue.
    service = simulated.get(live.app)
    second_leg = service.place_incoming("+818011112222", NUMBER)
    waiting = eventually(lambda: _waiting_sids(live.app, "support"))
    assert waiting == [second_leg]
    assert page.get_attribute("#call", "data-phase") == "open"  # agent1 is not rung meanwhile

    page.click('[data-testid="sim-hangup"]')
    page.wait_for_selector("#acw:not([hidden])")
    assert _waiting_sids(live.app, "support") == [second_leg]  # 後処理: still no offer
    page.select_option('[data-testid="disposition"]', "折り返し予定")
    page.click('[data-testid="acw-save"]')  # agent1 is free: the queue offers the caller
    wait_for(page, """(first) => {
        const call = window.__CTI_SOFTPHONE__.store.state.call;
        return call && call.sid !== first && call.phase === "ringing"; }""", first)
    assert page.inner_text('[data-testid="call-number"]') == "080-1111-2222"
    page.click('[data-testid="accept"]')
    page.wait_for_selector('#call[data-phase="open"]')
    screenshot(page, "6-queued-call-answered")
    assert eventually(lambda: _waiting_sids(live.app, "support") == [] or None)
    with db.get_engine(live.app).connect() as conn:
        row = conn.execute(select(calls).where(calls.c.call_sid == second_leg)).first()
    assert row is not None and row.direction == "inbound"
    page.click('[data-testid="sim-hangup"]')
    page.wait_for_selector("#acw:not([hidden])")


def _waiting_sids(app, name: str) -> list[str]:
    with db.get_engine(app).connect() as conn:
        group = groups.get_group(conn, name)
    return get_acd(app).queues.head(group.id, count=10)
