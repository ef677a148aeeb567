"""kintone end to end in headless Chromium (issue 6; SPEC KT-3, KT-4, KT-5, KT-8).

A fake kintone domain (``kintone_site.py``) on its own origin serves the REST API the
connector's kintone adapter uses and desktop screens with a fake ``kintone`` global that load
the plugin's real ``desktop.js``. The connector runs on a loopback port with the kintone adapter
enabled against that domain; the softphone is the real popup window the plugin opens (fake
Twilio Device, the documented test switch), and its calls go through the app's simulated Twilio
account and real webhooks. Call logs are written to the fake call-history app by the write-back
jobs, run as a worker would run them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.connector.crm_fixtures import run_jobs
from tests.fakes.kintone import FakeKintone, standard_kintone, standard_settings
from tests.fakes.server import LiveServer
from tests.softphone.browser.conftest import Live, free_port, screenshot, wait_for
from tests.softphone.browser.kintone_site import KintoneSite
from tests.softphone.browser.test_softphone import Phone, eventually

#: Record cti:record messages as the softphone receives them (test-side observer).
WATCH_RECORDS = """
window.__ctiRecords = [];
window.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'cti:record') window.__ctiRecords.push(event.data);
});
"""


@dataclass
class KintoneDesk:
    """An agent's browser with kintone on one origin and the connector on another."""

    live: Live
    fake: FakeKintone
    phone: Phone
    site: str
    context: Any

    @property
    def app_id(self) -> int:
        return self.fake.crm_app_id

    def kintone(self, path: str) -> Any:
        page = self.context.new_page()
        page.on("pageerror", lambda error: self.live.errors.append(f"{page.url}: {error}"))
        page.goto(self.site + path)
        wait_for(page, "() => window.__kintone && window.__kintone.log.length > 0")
        return page

    def open_softphone(self, kintone: Any) -> Any:
        """The plugin's header button opens the softphone popup; the agent signs in."""
        with self.context.expect_page() as popped:
            kintone.click(".cti-open-button")
        softphone = popped.value
        softphone.on("pageerror", lambda e: self.live.errors.append(f"softphone: {e}"))
        softphone.wait_for_selector("#app:not([hidden])")
        return self.live.sign_in(softphone)

    def customer(self, name: str, phone: str, company: str = "") -> str:
        return self.fake.add_customer(name, phone, company=company)


@pytest.fixture
def desk(live_factory, redis_url) -> Iterator[KintoneDesk]:
    port = free_port()
    site = f"http://localhost:{port}"
    fake = standard_kintone()
    live = live_factory(
        redis_url=redis_url, server={"frame_ancestors": [site]},
        crm={"adapters": ["kintone"], "kintone": standard_settings(site, fake),
             "writeback_delay_seconds": 0},
        voice={"lookup_budget_ms": 2000})  # the live lookup of an unknown caller, unhurried
    phone = Phone(live)
    context = live.context()
    context.add_init_script(WATCH_RECORDS)
    # The tests answer outgoing calls themselves, once the simulator has the call.
    context.add_init_script("window.__fake.autoAnswerOutgoing = false;")
    plugin_config = {"backendUrl": live.url, "phoneFields": json.dumps(["電話番号", "携帯番号"]),
                     "nameFields": json.dumps(["顧客名"])}
    with LiveServer(KintoneSite(fake, plugin_config), port=port):
        yield KintoneDesk(live, fake, phone, site, context)


def connect_outgoing(desk: KintoneDesk, softphone: Any) -> tuple[str, dict[str, str]]:
    """The page's Device.connect reaches Twilio: the simulator places the call through the
    TwiML App (``/twilio/voice/outbound``) and the far end answers; returns (CallSid, params)."""
    wait_for(softphone, "() => __fake.log.some((l) => l.startsWith('connect'))")
    params = softphone.evaluate("__fake.lastCall().connectParams")
    sid = desk.phone.service.connect("agent1", params)
    # The simulator fetches the TwiML App's webhook on its own loop, as Twilio does after
    # connect() returns: the call record exists once that webhook has answered.
    eventually(lambda: desk.phone.call_row(sid))
    softphone.evaluate("(sid) => { const call = __fake.lastCall(); "
                       "call.parameters.CallSid = sid; call.answerRemote(); }", sid)
    softphone.wait_for_selector('#call[data-phase="open"]')
    return sid, params


def wrap_up(softphone: Any, disposition: str) -> None:
    softphone.select_option('[data-testid="disposition"]', disposition)
    softphone.click('[data-testid="acw-save"]')
    softphone.wait_for_selector("#acw", state="hidden")


def logged(desk: KintoneDesk, call_sid: str) -> dict[str, Any]:
    """The call's record in the fake call-history app, once the write-back has run."""
    eventually(lambda: (row := desk.phone.call_row(call_sid)) and row.finalized_at)
    run_jobs(desk.live.app)
    (record,) = desk.fake.logs_for(call_sid)
    return record


def test_call_button_on_a_record_dials_and_logs_the_call_on_that_record(desk):
    record_id = desk.customer("山田 太郎", "03-1234-5678", company="山田商事")
    kintone = desk.kintone(f"/k/{desk.app_id}/show#record={record_id}")
    button = kintone.wait_for_selector('.value[data-field="電話番号"] .cti-call-button')
    assert button.get_attribute("aria-label") == "発信"
    assert kintone.query_selector('.value[data-field="携帯番号"] .cti-call-button') is None

    with desk.context.expect_page() as popped:
        button.click()
    softphone = popped.value  # a real window, opened by the plugin
    softphone.wait_for_selector("#app:not([hidden])")
    assert softphone.url == f"{desk.live.url}/softphone/?crm=kintone"
    # The dial arrived before sign-in: the number waits in the field, and goes out once the
    # agent has signed in and the phone is registered.
    wait_for(softphone, "() => document.getElementById('number').value === '03-1234-5678'")
    desk.live.sign_in(softphone)
    sid, params = connect_outgoing(desk, softphone)
    assert params["To"] == "+81312345678"
    clicked = {"adapter": "kintone", "id": record_id, "type": str(desk.app_id),
               "name": "山田 太郎"}
    assert json.loads(params["cti_record"]) == clicked
    assert desk.phone.call_row(sid).customer["selected"] == clicked  # the outbound webhook
    wait_for(softphone, "() => document.title.startsWith('通話中: 山田 太郎')")

    softphone.click('[data-testid="hangup"]')
    desk.phone.service.hang_up(sid)
    softphone.wait_for_selector("#acw:not([hidden])")
    assert softphone.inner_text("#acw-customer option:checked") == "山田 太郎"
    wrap_up(softphone, "対応完了")

    log = logged(desk, sid)
    assert log["顧客レコードID"] == record_id and log["顧客名"] == "山田 太郎"
    assert (log["方向"], log["対応結果"], log["顧客電話番号"]) == ("発信", "対応完了",
                                                                  "+81312345678")


def test_list_buttons_dial_their_row_and_do_not_open_the_record(desk):
    desk.customer("山田 太郎", "03-1234-5678")
    suzuki = desk.customer("鈴木 花子", "06-1111-2222")
    kintone = desk.kintone(f"/k/{desk.app_id}/")
    buttons = kintone.query_selector_all('td[data-field="電話番号"] .cti-call-button')
    assert [b.get_attribute("title") for b in buttons] == ["発信: 03-1234-5678",
                                                           "発信: 06-1111-2222"]
    softphone = desk.open_softphone(kintone)  # the header button: no call yet
    assert not any(line.startswith("connect") for line in softphone.evaluate("__fake.log"))

    kintone.click(f'tr[data-id="{suzuki}"] .cti-call-button')
    wait_for(softphone, "() => __fake.log.some((l) => l.startsWith('connect'))")
    params = softphone.evaluate("__fake.lastCall().connectParams")
    assert params["To"] == "+81611112222"
    assert json.loads(params["cti_record"]) == {"adapter": "kintone", "id": suzuki,
                                                "type": str(desk.app_id), "name": "鈴木 花子"}
    assert kintone.url == f"{desk.site}/k/{desk.app_id}/"  # the row click did not open it


def test_known_caller_is_named_from_the_crm_app_and_popped_in_the_kintone_window(desk):
    record_id = desk.customer("山田 太郎", "090-1234-5678", company="山田商事")
    kintone = desk.kintone(f"/k/{desk.app_id}/")
    softphone = desk.open_softphone(kintone)
    customer = desk.phone.customer_calls()
    ringing = desk.phone.ring_page(softphone)
    softphone.wait_for_selector('#call[data-phase="ringing"]')
    # KT-3: the name and company come from the kintone CRM app (a live lookup while ringing).
    assert softphone.inner_text('[data-testid="call-name"]') == "山田 太郎"
    assert softphone.inner_text("#call .call-company") == "山田商事"
    assert softphone.title() == "📞 着信中: 山田 太郎 090-1234-5678 — ソフトフォン"
    screenshot(softphone, "7-kintone-ringing")

    softphone.click('[data-testid="accept"]')
    ringing.answer()
    softphone.wait_for_selector('#call[data-phase="open"]')
    # KT-4: the record opens in the kintone window the softphone came from.
    kintone.wait_for_url(f"{desk.site}/k/{desk.app_id}/show#record={record_id}")
    kintone.wait_for_selector('.value[data-field="電話番号"] .cti-call-button')
    wait_for(softphone, "(id) => __ctiRecords.some((m) => m.screen === 'detail' "
                        "&& m.record.recordId === id)", record_id)

    softphone.click('[data-testid="hangup"]')
    ringing.hangup()
    softphone.wait_for_selector("#acw:not([hidden])")
    wrap_up(softphone, "対応完了")
    log = logged(desk, customer)
    assert (log["顧客レコードID"], log["顧客名"], log["方向"]) == (record_id, "山田 太郎", "着信")


def test_unknown_caller_gets_the_add_screen_and_the_log_follows_the_record_on_screen(desk):
    colleague = desk.customer("佐藤 次郎", "03-9999-0000", company="山田商事")
    kintone = desk.kintone(f"/k/{desk.app_id}/")
    softphone = desk.open_softphone(kintone)
    customer = desk.phone.customer_calls()
    ringing = desk.phone.ring_page(softphone)
    softphone.wait_for_selector('#call[data-phase="ringing"]')
    assert softphone.inner_text('[data-testid="call-name"]') == "不明な発信者"
    softphone.click('[data-testid="accept"]')
    ringing.answer()
    # No match: the CRM app's add-record screen, the caller's number filled in by the plugin.
    kintone.wait_for_url(f"{desk.site}/k/{desk.app_id}/edit?cti_phone=090-1234-5678")
    wait_for(kintone, "() => document.querySelector('input[data-field=\"電話番号\"]')"
                      ".value === '090-1234-5678'")
    assert kintone.input_value('input[data-field="携帯番号"]') == ""

    # The caller turns out to be a colleague of a customer: the agent opens that record.
    kintone.goto(f"{desk.site}/k/{desk.app_id}/show#record={colleague}")
    wait_for(softphone, "(id) => __ctiRecords.some((m) => m.record && "
                        "m.record.recordId === id)", colleague)
    softphone.click('[data-testid="hangup"]')
    ringing.hangup()
    softphone.wait_for_selector("#acw:not([hidden])")
    assert softphone.inner_text("#acw-customer option:checked") == "佐藤 次郎"  # on screen
    wrap_up(softphone, "折り返し予定")

    log = logged(desk, customer)
    assert (log["顧客レコードID"], log["顧客名"], log["対応結果"]) == (colleague, "佐藤 次郎",
                                                                      "折り返し予定")


def test_a_record_being_edited_is_never_replaced_by_a_screen_pop(desk):
    caller = desk.customer("山田 太郎", "090-1234-5678")
    other = desk.customer("佐藤 次郎", "03-9999-0000")
    kintone = desk.kintone(f"/k/{desk.app_id}/show#record={other}")
    softphone = desk.open_softphone(kintone)
    kintone.evaluate(f"window.location.hash = 'record={other}&mode=edit'")  # 編集 clicked
    wait_for(softphone, "() => __ctiRecords.some((m) => m.screen === 'edit')")
    editing = kintone.url
    desk.phone.customer_calls()
    ringing = desk.phone.ring_page(softphone)
    softphone.wait_for_selector('#call[data-phase="ringing"]')
    with desk.context.expect_page() as popped:  # a tab of its own instead
        softphone.click('[data-testid="accept"]')
    ringing.answer()
    popped.value.wait_for_url(f"{desk.site}/k/{desk.app_id}/show#record={caller}")
    assert kintone.url == editing


def test_record_messages_count_only_from_crm_origins(live):
    page = live.open(query="?crm=kintone")
    verdicts = page.evaluate("""async () => {
      const { createBridge } = await import('./js/bridges/kintone.js');
      const message = { type: 'cti:record', version: 1, screen: 'detail',
        record: { crm: 'kintone', appId: '11', recordId: '5', name: '山田 太郎', url: 'x' } };
      const seen = [];
      for (const origins of [['https://*.cybozu.com'], [window.location.origin]]) {
        const bridge = createBridge({ config: { crm_origins: origins }, t: (k) => k });
        await bridge.init();
        window.postMessage(message, '*');
        await new Promise((resolve) => setTimeout(resolve, 100));
        seen.push(bridge.recordOnScreen());
      }
      return seen;
    }""")
    assert verdicts == [None, {"adapter": "kintone", "id": "5", "type": "11",
                               "name": "山田 太郎", "url": "x"}]


def test_record_urls_titles_and_the_add_screen_address(live):
    page = live.open(query="?crm=kintone")
    result = page.evaluate("""async () => {
      const k = await import('./js/bridges/kintone.js');
      const links = { record_url: 'https://acme.cybozu.com/k/guest/5/{app}/show#record={id}',
        new_record_url: 'https://acme.cybozu.com/k/guest/5/11/edit', crm_app_id: '11' };
      const t = (key) => ({ 'app.title': 'ソフトフォン', 'status.ringing': '着信中',
        'call.unknown': '不明な発信者', 'call.outgoing': '発信',
        'reg.unregistered': '未登録' })[key];
      const view = (patch) => ({ registration: 'registered', statusLabel: '待機', phase: 'idle',
        name: '', number: '', ...patch });
      return {
        own: k.recordUrl({ id: '7', type: '11',
          url: 'https://acme.cybozu.com/k/11/show#record=7' }, links),
        built: k.recordUrl({ id: '7', type: '12' }, links),
        noType: k.recordUrl({ id: '7' }, links),
        none: k.recordUrl({ id: '7' }, null),
        add: k.newRecordUrl(links, '090-1234-5678'),
        titles: [view({}), view({ registration: 'unregistered' }),
          view({ phase: 'ringing', number: '090-1234-5678' }),
          view({ phase: 'ringing_out', name: '山田 太郎', number: '03-1234-5678' }),
          view({ phase: 'open', statusLabel: '通話中', name: '山田 太郎', number: '03-1234-5678' })]
          .map((v) => k.windowTitle(v, t)),
      };
    }""")
    assert result == {
        "own": "https://acme.cybozu.com/k/11/show#record=7",
        "built": "https://acme.cybozu.com/k/guest/5/12/show#record=7",
        "noType": "https://acme.cybozu.com/k/guest/5/11/show#record=7",
        "none": "",
        "add": "https://acme.cybozu.com/k/guest/5/11/edit?cti_phone=090-1234-5678",
        "titles": ["待機 — ソフトフォン", "未登録 — ソフトフォン",
                   "📞 着信中: 090-1234-5678 — ソフトフォン",
                   "発信: 山田 太郎 03-1234-5678 — ソフトフォン",
                   "通話中: 山田 太郎 03-1234-5678 — ソフトフォン"],
    }
