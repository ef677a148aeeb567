"""The built-in CRM pages in headless Chromium: the screen pop with the softphone's token, the
opener hand-off, the sign-in fallback, notes, search, the form's errors and click-to-call."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector import db
from connector.auth import accounts
from connector.schema import customers
from crm_adapters.base import AdapterEnvironment
from crm_adapters.builtin import BuiltinCRMAdapter, BuiltinSettings
from crm_adapters.http import TimeoutSession
from crm_adapters.testing import sample_log
from tests.conftest import need_service
from tests.connector.crm_fixtures import add_call
from tests.connector.test_auth import PASSWORD, add_agent, login
from tests.fakes.server import LiveServer

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 10_000
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "crm"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_service("Chromium", shutil.which(CHROMIUM) is not None, CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture
def crm_app(app):
    """One database is enough for the browser (``add_customer`` uses this)."""
    return app


@pytest.fixture
def server(app) -> Iterator[LiveServer]:
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url, locale="ja-JP")
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def yamada(app, add_customer) -> int:
    customer_id = add_customer("山田 太郎", {"number": "03-1234-5678", "label": "会社"},
                               company="山田商事", tags=["VIP"])
    url = db.get_engine(app).url.render_as_string(hide_password=False)
    adapter = BuiltinCRMAdapter(BuiltinSettings(), http=TimeoutSession(),
                                env=AdapterEnvironment(database_url=url))
    adapter.write_call_logs([sample_log("CA" + "b" * 32, customer_record_id=str(customer_id))])
    adapter.close()
    return customer_id


def token_for(app, username="agent1", role="agent") -> str:
    add_agent(app, username=username, role=role)
    return login(app.test_client(), username=username).get_json()["access_token"]


def with_token(page, token: str) -> None:
    """What window.open gives a pop-up: the softphone's sessionStorage, token included."""
    page.goto("/crm/static/crm.css")  # any page of the origin
    page.evaluate("token => sessionStorage.setItem('cti.access_token', token)", token)


def test_screen_pop_with_the_softphones_token(app, page, yamada, clock):
    token = token_for(app)
    with db.get_engine(app).connect() as conn:  # agents see their own calls in the history
        agent = accounts.find_agent(conn, "agent1")
    add_call(app, "CA" + "b" * 32, clock=clock, agent_id=agent.id)
    with_token(page, token)
    page.goto(f"/crm/customers/{yamada}")
    page.locator("#customer-name", has_text="山田 太郎").wait_for()  # "…" until loaded
    assert page.title() == "山田 太郎 — 顧客管理"
    assert page.locator("#customer-company").inner_text() == "山田商事"
    assert page.locator("#customer-phones li").first.inner_text().split("\n")[:2] == [
        "03-1234-5678", "会社"]
    assert page.locator("#customer-tags li").all_inner_texts() == ["VIP"]
    row = page.locator("#history tbody tr").first
    assert "解決" in row.inner_text() and "佐藤 花子" in row.inner_text()
    assert page.locator("#edit-link").is_hidden()  # agents do not edit customers
    assert page.locator("#signin").is_hidden()


def test_token_from_the_opener_when_storage_was_not_copied(app, page, yamada):
    token = token_for(app)
    page.goto("/crm/static/crm.css")
    page.evaluate("""token => window.addEventListener('message', event => {
        if (event.data && event.data.type === 'cti:token-request') {
            event.source.postMessage({type: 'cti:token', version: 1, access_token: token},
                                     location.origin);
        }
    })""", token)
    with page.expect_popup() as popup_info:
        page.evaluate(f"window.open('/crm/customers/{yamada}', 'crm')")
    popup = popup_info.value
    popup.locator("#customer-name", has_text="山田 太郎").wait_for()
    assert popup.evaluate("sessionStorage.getItem('cti.access_token')") == token


def test_sign_in_form_when_there_is_no_token(app, page, yamada):
    add_agent(app, username="agent1")
    page.goto(f"/crm/customers/{yamada}")
    page.locator("#signin-title").wait_for()
    assert page.locator("#content").is_hidden()
    page.get_by_label("ユーザーID").fill("agent1")
    page.get_by_label("パスワード").fill("wrong-password-1")
    page.get_by_role("button", name="サインイン").click()
    page.locator("#signin-error", has_text="正しくないか").wait_for()
    assert "Invalid" not in page.locator("#signin-error").inner_text()  # Japanese page only
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="サインイン").click()
    page.locator("#customer-name", has_text="山田 太郎").wait_for()
    own = page.evaluate("[sessionStorage.getItem('cti.crm.own_session'), window.name]")
    assert own[0] and own[0] == own[1]  # this window may refresh its own session


def test_agent_saves_notes(app, page, yamada):
    with_token(page, token_for(app))
    page.goto(f"/crm/customers/{yamada}")
    page.locator("#customer-name", has_text="山田 太郎").wait_for()
    page.get_by_role("textbox", name="メモ").fill("折り返しは午後に")
    page.get_by_role("button", name="メモを保存").click()
    page.locator("#notes-status", has_text="保存しました").wait_for()
    with db.get_engine(app).connect() as conn:
        notes = conn.execute(select(customers.c.notes)
                             .where(customers.c.id == yamada)).scalar_one()
    assert notes == "折り返しは午後に"


def test_search_by_full_width_number(app, page, yamada, add_customer):
    add_customer("鈴木 一郎", "06-6123-4567")
    with_token(page, token_for(app))
    page.goto("/crm/customers")
    page.locator("#customers tbody tr").nth(1).wait_for()
    page.get_by_label("氏名・フリガナ・会社名・電話番号").fill("０３－１２３４")
    page.get_by_role("button", name="検索").click()
    page.locator("#result-count", has_text="1 件中").wait_for()
    assert page.locator("#customers tbody tr").all_inner_texts()[0].startswith("山田 太郎")
    page.get_by_role("link", name="山田 太郎").click()
    page.locator("#customer-name", has_text="山田 太郎").wait_for()


def test_form_shows_field_errors_then_saves(app, page):
    with_token(page, token_for(app, "super1", "supervisor"))
    page.goto("/crm/customers/new")
    page.get_by_label("氏名").fill("高橋 美咲")
    page.get_by_label("電話番号 1", exact=True).fill("312345678")
    page.get_by_role("button", name="保存").click()
    error = page.locator("#phone-rows .error").first
    error.wait_for()
    assert "先頭の0" in error.inner_text()
    assert page.get_by_label("電話番号 1", exact=True).get_attribute("aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.get_by_label("電話番号 1", exact=True).fill("０４５－２２２－３３３３")
    page.get_by_role("button", name="保存").click()
    page.locator("#customer-name", has_text="高橋 美咲").wait_for()
    assert page.locator("#customer-phones .number").inner_text() == "045-222-3333"


def test_agent_registers_an_unknown_caller_from_the_screen_pop(app, page):
    """The softphone's pop for an unknown caller: /crm/customers/new?phone=<E.164>."""
    with_token(page, token_for(app))  # an agent: [crm.builtin] add_customer_role = "agent"
    page.goto("/crm/customers/new?phone=%2B81355550000")
    number = page.get_by_label("電話番号 1", exact=True)
    page.locator("#who", has_text="さん").wait_for()
    assert number.input_value() == "03-5555-0000"  # pre-filled, as people write it
    assert page.get_by_role("button", name="保存").is_enabled()
    assert page.locator("#status").inner_text() == ""
    assert page.get_by_role("link", name="新規登録").is_visible()
    page.get_by_label("氏名").fill("新規 花子")
    page.wait_for_timeout(100)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "register-caller.png"))
    page.get_by_role("button", name="保存").click()
    page.locator("#customer-name", has_text="新規 花子").wait_for()
    assert page.locator("#customer-phones .number").inner_text() == "03-5555-0000"


def test_a_bad_phone_in_the_pop_url_is_explained_at_its_field(app, page):
    with_token(page, token_for(app))
    page.goto("/crm/customers/new?phone=312345678")
    page.locator("#status", has_text="このままでは登録できません").wait_for()
    number = page.get_by_label("電話番号 1", exact=True)
    assert number.input_value() == "312345678"  # kept for the agent to correct
    assert number.get_attribute("aria-invalid") == "true"
    assert "先頭の0" in page.locator("#phone-rows .error").first.inner_text()


def test_agents_may_not_add_customers_when_the_policy_says_so(make_app, browser):
    app = make_app(crm={"adapters": ["builtin"], "builtin": {"add_customer_role": "supervisor"}})
    with LiveServer(app) as live:
        context = browser.new_context(base_url=live.url, locale="ja-JP")
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        with_token(page, token_for(app))
        page.goto("/crm/customers/new?phone=%2B81355550000")
        page.locator("#status", has_text="顧客を登録する権限がありません").wait_for()
        assert page.get_by_role("button", name="保存").is_disabled()
        assert page.get_by_role("link", name="新規登録").is_hidden()
        context.close()


def test_dial_button_hands_the_number_to_the_softphone(app, page, yamada):
    token = token_for(app)
    page.goto("/crm/static/crm.css")
    page.evaluate("""token => {
        sessionStorage.setItem('cti.access_token', token);
        window.dials = [];
        window.addEventListener('message', event => {
            if (event.data && event.data.type === 'cti:dial') window.dials.push(event.data);
        });
    }""", token)
    with page.expect_popup() as popup_info:
        page.evaluate(f"window.open('/crm/customers/{yamada}', 'crm')")
    popup = popup_info.value
    popup.get_by_role("button", name="03-1234-5678 に発信").click()
    page.wait_for_function("window.dials.length === 1")
    dial = page.evaluate("window.dials[0]")
    assert dial == {"type": "cti:dial", "version": 1, "number": "+81312345678",
                    "record": {"crm": "builtin", "recordId": str(yamada), "name": "山田 太郎",
                               "url": f"{page.evaluate('location.origin')}/crm/customers/"
                                      f"{yamada}"}}


def test_own_session_is_refreshed_and_a_lost_one_asks_to_sign_in_again(app, page, yamada):
    add_agent(app, username="agent1")
    page.goto(f"/crm/customers/{yamada}")
    page.get_by_label("ユーザーID").fill("agent1")
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="サインイン").click()
    page.locator("#customer-name", has_text="山田 太郎").wait_for()
    refresh = page.evaluate("sessionStorage.getItem('cti.refresh_token')")
    page.evaluate("sessionStorage.setItem('cti.access_token', 'expired')")
    page.get_by_role("textbox", name="メモ").fill("一回目")
    page.get_by_role("button", name="メモを保存").click()
    page.locator("#notes-status", has_text="保存しました").wait_for()
    assert page.evaluate("sessionStorage.getItem('cti.refresh_token')") != refresh  # rotated
    # Without any usable token the form stays as it is, behind a sign-in.
    page.evaluate("sessionStorage.setItem('cti.access_token', 'expired');"
                  "sessionStorage.removeItem('cti.refresh_token')")
    page.get_by_role("textbox", name="メモ").fill("二回目")
    page.get_by_role("button", name="メモを保存").click()
    page.locator("#signin-title").wait_for()
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="サインイン").click()
    page.locator("#status", has_text="もう一度操作してください").wait_for()
    assert page.get_by_role("textbox", name="メモ").input_value() == "二回目"


def test_a_copied_refresh_token_is_never_used(app, page, yamada):
    """Rotating the softphone's refresh token from the pop-up would end the softphone's
    session at its next refresh (replay detection)."""
    add_agent(app, username="agent1")
    softphone = login(app.test_client(), username="agent1").get_json()
    page.goto("/crm/static/crm.css")
    page.evaluate("""tokens => {
        sessionStorage.setItem('cti.access_token', 'expired');
        sessionStorage.setItem('cti.refresh_token', tokens.refresh_token);
    }""", softphone)
    page.goto(f"/crm/customers/{yamada}")
    page.locator("#signin-title").wait_for()
    still_valid = app.test_client().post("/api/auth/refresh",
                                         json={"refresh_token": softphone["refresh_token"]})
    assert still_valid.status_code == 200
