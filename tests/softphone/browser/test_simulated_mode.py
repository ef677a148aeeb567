"""Simulated mode end to end: no Twilio account, no fake device — the product's own simulated
device against the in-process simulator (ring → answer → screen pop → after-call work → log)."""

from __future__ import annotations

from sqlalchemy import select

from connector import crm, db, sync
from connector.builtin_crm.demo import create_demo_data
from connector.schema import calls
from connector.voice import numbers
from connector.voice.numbers import NumberChanges, Route
from tests.connector.crm_fixtures import run_jobs
from tests.softphone.browser.conftest import screenshot, state, wait_for

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
