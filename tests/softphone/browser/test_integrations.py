"""The softphone's integrations in a real browser: the SMS card with the segment rule, and the
pops of URL-template integrations (HT-1 browser templates, HT-2 per-number pop-up URLs)."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from connector import clock, db
from connector.schema import sms_messages
from connector.voice import numbers
from connector.voice.numbers import NumberChanges, Route
from tests.fakes.server import LiveServer
from tests.softphone.browser.conftest import screenshot, wait_for

NUMBER = "+815012345678"


def add_number(live) -> None:
    with db.get_engine(live.app).begin() as conn:
        numbers.save_number(conn, NUMBER, NumberChanges(
            label="代表", route=Route.parse("agent:agent1")), now=clock.now(live.app))


def test_sms_card_counts_segments_and_sends(live_factory, redis_url):
    live = live_factory(queue={"redis_url": redis_url}, sms={"sender_ids": {NUMBER: "ACME"}})
    live.agent("agent1", display_name="佐藤 花子")
    add_number(live)
    page = live.sign_in(live.open(live.context(fake_device=False)))
    page.wait_for_selector('[data-testid="sms"]:not([hidden])')
    page.fill('[data-testid="sms-to"]', "090-1234-5678")
    page.fill('[data-testid="sms-body"]', "あ" * 70)
    assert page.inner_text('[data-testid="sms-count"]') == \
        "70文字・1通分（1通 70文字まで、あと 0文字）"
    thanks = "本日はお電話ありがとうございました。"  # 18 characters
    page.fill('[data-testid="sms-body"]', thanks * 2 + "折り返します")
    count = page.inner_text('[data-testid="sms-count"]')
    assert count.startswith("42文字・1通分")
    page.fill('[data-testid="sms-body"]', "あ" * 71)
    assert page.inner_text('[data-testid="sms-count"]').startswith("71文字・2通分")
    page.fill('[data-testid="sms-body"]', "本日はお電話ありがとうございました。明日折り返します。")
    screenshot(page, "sms-card")
    page.click('[data-testid="sms-send"]')
    wait_for(page, "() => document.querySelector('[data-testid=\"notice\"]').textContent"
                   ".includes('SMS を送信しました')")
    with db.get_engine(live.app).connect() as conn:
        (row,) = conn.execute(select(sms_messages)).all()
    assert (row.customer_number, row.sender_id, row.body) == (
        "+819012345678", "ACME", "本日はお電話ありがとうございました。明日折り返します。")
    assert page.input_value('[data-testid="sms-body"]') == ""


def test_ringing_opens_the_per_number_popup(live_factory, redis_url):
    seen: list[str] = []

    def sfa(environ, start_response):  # the CRM's search page
        seen.append(Request(environ).full_path)
        return Response("<title>SFA</title>検索結果", content_type="text/html")(
            environ, start_response)

    crm_site = LiveServer(sfa).start()
    live = live_factory(queue={"redis_url": redis_url}, crm={
        "adapters": ["builtin", "http"], "writeback_delay_seconds": 0,
        "http": {"sfa": {"ring_popups": {NUMBER: f"{crm_site.url}/search?tel=@@@@"}}}})
    live.agent("agent1", display_name="佐藤 花子")
    add_number(live)
    context = live.context(fake_device=False)
    page = live.sign_in(live.open(context))
    page.wait_for_selector('[data-testid="sim-incoming"]:not([disabled])')
    with context.expect_page() as popped:
        page.click('[data-testid="sim-incoming"]')
    # A window opened with a URL may show about:blank first.
    popped.value.wait_for_url(f"{crm_site.url}/search?tel=09012345678")
    # (the browser may also ask for /favicon.ico)
    assert [path for path in seen if path.startswith("/search")] == ["/search?tel=09012345678"]
    crm_site.stop()


def test_ringing_opens_the_numbers_own_popup_url(live_factory, redis_url):
    seen: list[str] = []

    def crm(environ, start_response):  # the page the number's 着信ポップアップ points at
        seen.append(Request(environ).full_path)
        return Response("<title>CRM</title>顧客検索: " + Request(environ).args["num"],
                        content_type="text/html; charset=utf-8")(
            environ, start_response)

    crm_site = LiveServer(crm).start()
    live = live_factory(queue={"redis_url": redis_url})
    live.agent("agent1", display_name="佐藤 花子")
    with db.get_engine(live.app).begin() as conn:
        numbers.save_number(conn, NUMBER, NumberChanges(
            label="代表", route=Route.parse("agent:agent1"),
            ring_popup_url=f"{crm_site.url}/customers?num=@@@@&from=cti"),
            now=clock.now(live.app))
    context = live.context(fake_device=False)
    page = live.sign_in(live.open(context))
    page.wait_for_selector('[data-testid="sim-incoming"]:not([disabled])')
    with context.expect_page() as popped:
        page.click('[data-testid="sim-incoming"]')
    popped.value.wait_for_url(f"{crm_site.url}/customers?num=09012345678&from=cti")
    popped.value.wait_for_load_state()
    screenshot(popped.value, "number-ring-popup")
    assert [p for p in seen if p.startswith("/customers")] == [
        "/customers?num=09012345678&from=cti"]
    crm_site.stop()


def test_ringing_hands_an_app_scheme_url_to_the_app(live_factory, redis_url):
    """BIZTEL's "OSコマンド": a template of an app's own scheme is handed to that app (a link
    click), with the caller's number in it; no window opens and the softphone stays."""
    live = live_factory(queue={"redis_url": redis_url}, crm={
        "adapters": ["builtin", "http"], "writeback_delay_seconds": 0,
        "http": {"pbx": {"incoming": {"url": "myapp://open?tel={TEL}&name={CALLEDNAME}",
                                      "run": "browser"}}}})
    live.agent("agent1", display_name="佐藤 花子")
    add_number(live)
    context = live.context(fake_device=False)
    # Record what is handed to apps instead of asking the OS for a handler it does not have.
    context.add_init_script("""
      window.__launched = [];
      const click = HTMLAnchorElement.prototype.click;
      HTMLAnchorElement.prototype.click = function () {
        if (/^myapp:/.test(this.href)) { window.__launched.push(this.href); return; }
        return click.call(this);
      };
    """)
    page = live.sign_in(live.open(context))
    softphone_url = page.url
    page.wait_for_selector('[data-testid="sim-incoming"]:not([disabled])')
    page.click('[data-testid="sim-incoming"]')
    wait_for(page, "() => window.__launched.length > 0")
    launched = page.evaluate("window.__launched")
    assert len(launched) == 1 and launched[0].startswith("myapp://open?tel=09012345678&name=")
    assert page.url == softphone_url and len(context.pages) == 1
