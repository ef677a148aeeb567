"""The newcomer's path of issue 11 in the softphone: outgoing calls look the dialed number up and
say 相手, wrap-up refusals are shown in the screen's language, sign-in errors in one language."""

from __future__ import annotations

import pytest

from connector import clock, crm, db, sync
from connector.builtin_crm.demo import create_demo_data
from tests.softphone.browser.conftest import Live, screenshot, state, wait_for
from tests.softphone.browser.test_softphone import Phone, answered_call

YAMADA_OFFICE = "03-1234-5678"  # 山田 太郎's company number in the demo customers


@pytest.fixture
def demo_live(live_factory) -> Live:
    """The built-in CRM with the demo customers, indexed as `cti serve` does."""
    live = live_factory(crm={"adapters": ["builtin"]})
    with db.get_engine(live.app).begin() as conn:
        create_demo_data(conn, clock.now(live.app))
    layer = crm.get_layer(live.app)
    sync.sync_adapter(layer.engine, layer.adapters["builtin"],
                      now=live.app.extensions["cti.clock"])
    return live


@pytest.fixture
def phone(live: Live) -> Phone:
    return Phone(live)


def dial(page, number: str) -> None:
    page.fill('[data-testid="number"]', number)
    page.click('[data-testid="dial"]')


def test_outgoing_call_to_a_known_customer_shows_and_pops_the_customer(demo_live):
    live = demo_live
    Phone(live)
    context = live.context()
    page = live.sign_in(live.open(context))
    with context.expect_page() as popped:  # typed, not clicked: the customer's page opens
        dial(page, YAMADA_OFFICE)
    page.wait_for_selector('#call[data-phase="open"]')
    assert page.inner_text('[data-testid="call-name"]') == "山田 太郎"
    assert page.inner_text("#call .call-company") == "山田商事株式会社"
    assert page.inner_text('[data-testid="call-number"]') == YAMADA_OFFICE
    assert page.inner_text("#call .call-kind").startswith("発信")
    customer_page = popped.value
    customer_page.wait_for_selector("#customer-name:has-text('山田 太郎')")
    assert "/crm/customers/" in customer_page.url and "/new" not in customer_page.url
    assert state(page)["call"]["matches"][0]["name"] == "山田 太郎"
    screenshot(page, "7-outgoing-known")


def test_outgoing_call_to_an_unknown_number_names_the_other_party(live, phone):
    context = live.context()
    page = live.sign_in(live.open(context))
    dial(page, "06-6543-2100")
    page.wait_for_selector('#call[data-phase="open"]')
    assert page.inner_text('[data-testid="call-name"]') == "不明な相手"  # not 不明な発信者
    assert len(context.pages) == 1  # no new-customer form for a number the agent dialed
    page.click('[data-testid="hangup"]')
    page.wait_for_selector("#acw:not([hidden])")
    page.click("#acw-finish")
    page.click("#language")
    dial(page, "06-6543-2100")
    page.wait_for_selector('#call[data-phase="open"]')
    assert page.inner_text('[data-testid="call-name"]') == "Unknown party"


def test_wrap_up_refusal_shows_the_servers_reason_in_the_screens_language(live, phone):
    page = live.sign_in(live.open())
    _customer, ringing = answered_call(phone, page)
    page.click('[data-testid="hangup"]')
    wait_for(page, "() => __fake.log.some((l) => l.startsWith('disconnect'))")
    ringing.hangup()
    page.wait_for_selector("#acw:not([hidden])")
    notes = page.locator('[data-testid="notes"]')
    assert notes.get_attribute("maxlength") == "32000"  # the server's limit, via config.json
    page.select_option('[data-testid="disposition"]', "対応完了")
    notes.fill("あ" * 32000)
    notes.press("End")
    page.keyboard.type("いう")  # typing stops at the limit
    assert page.evaluate("document.querySelector('#notes').value.length") == 32000
    # A script (or an older page) can still send more: the server's reason is shown as it is.
    page.evaluate("document.querySelector('#notes').value = 'あ'.repeat(33000)")
    page.click('[data-testid="acw-save"]')
    notice = page.wait_for_selector('[data-testid="notice"]:has-text("32000")')
    assert notice.inner_text() == "メモは32000文字以内にしてください（今は33000文字です）。"
    page.click("#language")
    page.click('[data-testid="acw-save"]')
    page.wait_for_selector('[data-testid="notice"]:has-text("Notes may have")')
    assert page.inner_text('[data-testid="notice"]') == (
        "Notes may have at most 32000 characters (these have 33000).")
    assert not page.is_hidden("#acw")  # nothing lost: the form is still there


def test_sign_in_errors_are_in_the_screens_language_only(live):
    live.agent("agent1")
    page = live.open()
    live.sign_in_without_waiting(page, password="wrong-password-1")
    notice = page.wait_for_selector('[data-testid="notice"]:has-text("ユーザーID")')
    assert notice.inner_text() == ("ユーザーIDまたはパスワードが正しくないか、"
                                   "アカウントがロックされています。")
    page.click("#language")
    live.sign_in_without_waiting(page, password="wrong-password-1")
    notice = page.wait_for_selector('[data-testid="notice"]:has-text("Invalid")')
    assert notice.inner_text() == "Invalid user ID or password, or the account is locked."
