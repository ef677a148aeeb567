"""The softphone in headless Chromium with a fake Twilio Device (issue 7, "Done when").

Calls are real calls of the app's simulated Twilio account (voice core webhooks, call records,
call control over REST); only the browser's WebRTC part is the fake device, which the tests
keep in step with the simulator: a call ringing ``client:agent1`` is handed to the page's fake
device, and what the page does to it (accept, hang up) is done to the simulated leg.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from connector import db, presence
from connector.schema import agent_presence, call_controls, calls
from connector.softphone import simulated
from connector.voice import numbers
from connector.voice.numbers import NumberChanges, Route
from tests.softphone.browser.conftest import (
    Live,
    fake_log,
    screenshot,
    state,
    wait_for,
    wait_registered,
)
from voice.simulator import ScriptedEndpoint

NUMBER = "+815012345678"
CUSTOMER = "+819012345678"
WAIT_SECONDS = 10.0


def eventually(check: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
    """Poll a server-side condition (the simulator runs in real time in its own thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {check}")
        time.sleep(0.05)


class Phone:
    """The live app's simulated phone network, set up for agent1 (and agent2).

    In simulated mode the app's own simulated account is used; with a Twilio account
    configured (``twilio_live``) a simulator with that account's credentials plays Twilio for
    the calls the tests place — the page then runs exactly as with Twilio, fake device aside.
    """

    def __init__(self, live: Live) -> None:
        self.live = live
        self.app = live.app
        self.agent1 = live.agent("agent1", display_name="佐藤 花子")
        self.agent2 = live.agent("agent2", display_name="田中 一郎")
        now = self.now()
        with db.get_engine(self.app).begin() as conn:
            numbers.save_number(conn, NUMBER, NumberChanges(
                label="サポート窓口", route=Route.parse("agent:agent1")), now=now)
            numbers.grant_caller_id(conn, "agent1", NUMBER, default=True)
            presence.set_status(conn, self.agent2.id, "available", now=now)
        if "cti.simulated_mode" not in self.app.extensions:
            self.app.extensions["cti.simulated_mode"] = simulated.SimulatedTwilio(self.app)
        self.service = simulated.get(self.app)
        self.service.sync_numbers()
        self.browser1 = self.endpoint("agent1")
        self.browser2 = self.endpoint("agent2")

    def now(self) -> Any:
        from connector import clock

        return clock.now(self.app)

    def endpoint(self, identity: str) -> ScriptedEndpoint:
        endpoint = ScriptedEndpoint(answer_after=None)  # the page decides
        self.service.in_engine(lambda: self.service.simulator.on_client(identity, endpoint))
        return endpoint

    def customer_calls(self) -> str:
        # Only 待機 agents are rung: wait until the softphone has set it after signing in.
        eventually(lambda: self.presence(self.agent1) == "available")
        return self.service.place_incoming(CUSTOMER, NUMBER)

    def ring_page(self, page: Any, endpoint: ScriptedEndpoint | None = None) -> Any:
        """Hand the call ringing the agent's browser identity to the page's fake device."""
        endpoint = endpoint or self.browser1
        ringing = eventually(lambda: endpoint.rung and endpoint.rung[-1])
        page.evaluate("(c) => __fake.incoming(c)", {
            "sid": ringing.call_sid, "from": ringing.from_, "params": ringing.parameters})
        return ringing

    def presence(self, agent: Any) -> str:
        with db.get_engine(self.app).connect() as conn:
            return conn.execute(select(agent_presence.c.status).where(
                agent_presence.c.agent_id == agent.id)).scalar()

    def call_row(self, call_sid: str) -> Any:
        with db.get_engine(self.app).connect() as conn:
            return conn.execute(select(calls).where(calls.c.call_sid == call_sid)).first()

    def control(self, call_sid: str) -> Any:
        with db.get_engine(self.app).connect() as conn:
            return conn.execute(select(call_controls).where(
                call_controls.c.call_sid == call_sid)).first()

    def leg_alive(self, call_sid: str) -> bool:
        return self.service.in_engine(lambda: self.service.simulator.legs[call_sid].alive)


@pytest.fixture
def phone(live: Live) -> Phone:
    return Phone(live)


#: A Twilio account for the app's configuration (never contacted: the tests' calls come from
#: a simulator with these credentials).
TWILIO_ACCOUNT = {"account_sid": "AC" + "7" * 32, "auth_token": "t" * 32,
                  "api_key_sid": "SK" + "7" * 32, "api_key_secret": "s" * 32,
                  "twiml_app_sid": "AP" + "7" * 32}


@pytest.fixture
def twilio_live(live_factory) -> Live:
    """The app configured with a Twilio account and the built-in CRM knowing the caller."""
    live = live_factory(twilio=TWILIO_ACCOUNT, crm={"adapters": ["builtin"]})
    with db.get_engine(live.app).begin() as conn:
        from connector import clock
        from connector.builtin_crm import store
        from connector.builtin_crm.model import parse_customer

        store.create_customer(conn, parse_customer({
            "name": "山田 太郎", "company": "山田商事株式会社", "phones": ["090-1234-5678"]}),
            clock.now(live.app))
    return live


def answered_call(phone: Phone, page: Any) -> tuple[str, Any]:
    """A customer calls, the page rings and the agent answers: (customer's CallSid, leg)."""
    customer = phone.customer_calls()
    ringing = phone.ring_page(page)
    page.click('[data-testid="accept"]')
    wait_for(page, "() => __fake.log.some((l) => l.startsWith('accept'))")
    ringing.answer()
    page.wait_for_selector('#call[data-phase="open"]')
    eventually(lambda: phone.presence(phone.agent1) == "on_call")
    return customer, ringing


def test_sign_in_registers_one_device_in_japanese(twilio_live):
    live = twilio_live
    phone = Phone(live)
    page = live.open()
    assert page.inner_text("#signin-title") == "サインイン"
    assert page.get_attribute("html", "lang") == "ja"
    live.sign_in(page)
    devices = page.evaluate("__fake.devices.map((d) => ({token: d.token, edge: d.options.edge,"
                            " state: d.state}))")
    assert len(devices) == 1 and devices[0]["state"] == "registered"
    assert devices[0]["edge"] == "tokyo" and devices[0]["token"].count(".") == 2  # a JWT
    assert page.inner_text('[data-testid="registration"]') == "登録済み"
    eventually(lambda: phone.presence(phone.agent1) == "available")
    device_id = page.evaluate("localStorage.getItem('cti.deviceId')")
    with db.get_engine(live.app).connect() as conn:
        row = conn.execute(select(agent_presence.c.device_id).where(
            agent_presence.c.agent_id == phone.agent1.id)).scalar()
    assert row == device_id
    assert page.evaluate("sessionStorage.getItem('cti.session')")  # survives a reload
    page.wait_for_timeout(300)
    screenshot(page, "1-idle")


def test_incoming_call_accept_hang_up_after_call_work_and_wrap_up(twilio_live):
    live = twilio_live
    phone = Phone(live)
    page = live.sign_in(live.open())
    customer, ringing = None, None
    customer = phone.customer_calls()
    ringing = phone.ring_page(page)
    page.wait_for_selector('#call[data-phase="ringing"]')
    assert page.inner_text('[data-testid="call-number"]') == "090-1234-5678"
    assert page.inner_text('[data-testid="call-name"]') == "山田 太郎"
    assert page.inner_text("#call .call-company") == "山田商事株式会社"
    assert "サポート窓口" in page.inner_text("#call .call-meta")
    assert page.evaluate("document.activeElement.id") == "accept"  # keyboard: Enter answers
    eventually(lambda: phone.presence(phone.agent1) == "ringing")
    screenshot(page, "2-ringing")

    with page.context.expect_page() as popped:  # the customer's page opens on answer
        page.keyboard.press("Enter")
    assert "/crm/customers/" in popped.value.url
    page.bring_to_front()
    wait_for(page, "() => __fake.log.some((l) => l.startsWith('accept'))")
    ringing.answer()
    page.wait_for_selector('#call[data-phase="open"]')
    eventually(lambda: phone.presence(phone.agent1) == "on_call")
    wait_for(page, "() => document.querySelector('[data-testid=\"call-timer\"]').textContent"
                   " >= '0:02'")  # the call timer runs
    assert page.get_attribute('[data-testid="call-timer"]', "aria-label").startswith("通話時間")
    screenshot(page, "3-on-call")

    page.click('[data-testid="hangup"]')
    wait_for(page, "() => __fake.log.some((l) => l.startsWith('disconnect'))")
    ringing.hangup()
    page.wait_for_selector("#acw:not([hidden])")
    eventually(lambda: phone.presence(phone.agent1) == "acw")
    assert "残り" in page.inner_text('[data-testid="acw-timer"]')
    screenshot(page, "4-after-call-work")

    page.click('[data-testid="acw-save"]')  # no result chosen yet
    assert page.inner_text('[data-testid="notice"]') == "結果を選んでください。"
    page.select_option('[data-testid="disposition"]', "対応完了")
    page.fill('[data-testid="notes"]', "請求書の再送を依頼された")
    page.click('[data-testid="acw-save"]')
    page.wait_for_selector("#acw", state="hidden")
    assert page.inner_text('[data-testid="notice"]') == "記録を保存しました。"
    row = eventually(lambda: (r := phone.call_row(customer)) and r.disposition and r)
    assert (row.disposition, row.notes) == ("対応完了", "請求書の再送を依頼された")
    assert row.customer["chosen"]["name"] == "山田 太郎"
    eventually(lambda: phone.presence(phone.agent1) == "available")


def test_caller_giving_up_is_a_missed_call_without_after_call_work(live, phone):
    page = live.sign_in(live.open())
    caller_sid = phone.customer_calls()
    phone.ring_page(page)
    page.wait_for_selector('#call[data-phase="ringing"]')
    # The caller hangs up: Twilio ends their call (its status callback frees the agent, whom
    # the server set 着信中) and cancels the ringing in the browser.
    assert phone.service.hang_up(caller_sid)
    page.evaluate("__fake.lastCall().cancelByCaller()")
    page.wait_for_selector("#call", state="hidden")
    assert page.inner_text('[data-testid="notice"]') == "不在着信: 090-1234-5678"
    assert page.is_hidden("#acw")
    eventually(lambda: phone.presence(phone.agent1) == "available")


def test_forbidden_number_is_refused_at_once_with_a_japanese_message(live, phone):
    page = live.sign_in(live.open())
    page.fill('[data-testid="number"]', "１１０")  # full-width, as typed with an IME
    page.click('[data-testid="dial"]')
    notice = page.wait_for_selector('[data-testid="notice"]:has-text("110")')
    assert "緊急通報" in notice.inner_text()
    assert not any(line.startswith("connect") for line in fake_log(page))
    assert page.is_visible('[data-testid="dial"]')

    page.fill('[data-testid="number"]', "０３－１２３４－５６７８")
    page.click('[data-testid="dial"]')
    wait_for(page, "() => __fake.log.some((l) => l.startsWith('connect'))")
    params = page.evaluate("__fake.lastCall().connectParams")
    assert params == {"To": "+81312345678", "CallerId": NUMBER}
    page.wait_for_selector('#call[data-phase="open"]')


def test_mute_hold_and_transfer_reach_the_backend(live, phone):
    page = live.sign_in(live.open())
    customer, ringing = answered_call(phone, page)

    page.click('[data-testid="mute"]')
    assert page.get_attribute('[data-testid="mute"]', "aria-pressed") == "true"
    assert "mute true" in fake_log(page)
    page.click("#keypad-toggle")
    page.click('#keypad button:has-text("1")')
    page.click('#keypad button:has-text("#")')
    assert [line for line in fake_log(page) if line.startswith("digits")] == [
        "digits 1", "digits #"]

    page.click('[data-testid="hold"]')
    eventually(lambda: (r := phone.control(customer)) and r.state == "held")
    eventually(lambda: not phone.leg_alive(ringing.call_sid))  # Twilio ended the agent's leg
    page.evaluate("__fake.lastCall().remoteHangup()")
    page.wait_for_selector('#call[data-phase="held"]')
    assert page.inner_text('[data-testid="hold"]') == "保留解除"
    assert phone.leg_alive(customer)
    eventually(lambda: phone.presence(phone.agent1) == "hold")

    page.click('[data-testid="transfer-toggle"]')
    page.wait_for_selector('[data-testid="transfer-target"] option[value="agent2"]',
                           state="attached")
    page.select_option('[data-testid="transfer-target"]', "agent2")
    page.click('[data-testid="transfer-cold"]')
    target = eventually(lambda: phone.browser2.rung and phone.browser2.rung[-1])
    assert target.parameters["cti_transfer_from"] == "佐藤 花子"
    assert target.parameters["cti_parent_call_sid"] == customer
    assert phone.control(customer).state == "transferring"
    page.wait_for_selector("#acw:not([hidden])")
    assert "田中 一郎" in page.inner_text(".acw-summary")


def test_resume_connects_again_through_the_twiml_app(live, phone):
    page = live.sign_in(live.open())
    customer, ringing = answered_call(phone, page)
    page.click('[data-testid="hold"]')
    eventually(lambda: not phone.leg_alive(ringing.call_sid))
    page.evaluate("__fake.lastCall().remoteHangup()")
    page.wait_for_selector('#call[data-phase="held"]')
    page.click('[data-testid="hold"]')  # 保留解除
    wait_for(page, "() => __fake.log.some((l) => l.includes('cti_action'))")
    assert page.evaluate("__fake.lastCall().connectParams") == {
        "cti_action": "resume", "cti_call": customer}
    page.wait_for_selector('#call[data-phase="open"]')
    assert state(page)["call"]["sid"] == customer  # wrap-up still goes to the same call


def test_tokens_are_refreshed_before_they_expire(live, phone):
    context = live.context()
    page = context.new_page()
    page.clock.install()
    page.goto(f"{live.url}/softphone/")
    live.sign_in(page)
    first_refresh = page.evaluate("JSON.parse(sessionStorage.getItem('cti.session'))"
                                  ".refresh_token")
    # The access token (15 min) is refreshed at 80 % of its life, the Twilio token (1 h) at
    # 75 %: a jump of 46 minutes passes both timers.
    page.clock.fast_forward("46:00")
    wait_for(page, "() => __fake.log.includes('updateToken')")
    # The refresh token rotates with every refresh (the app's test clock stands still, so the
    # new access token may look the same).
    wait_for(page, "(first) => JSON.parse(sessionStorage.getItem('cti.session'))"
                   ".refresh_token !== first", first_refresh)
    page.evaluate("__fake.expireSoon()")  # and on the SDK's tokenWillExpire, too
    wait_for(page, "() => __fake.log.filter((l) => l === 'updateToken').length >= 2")
    assert page.evaluate("__fake.registered()") == 1


def test_two_tabs_share_one_device_and_the_second_takes_over(live, phone):
    context = live.context()
    first = live.sign_in(live.open(context))
    second = live.open(context)
    wait_for(second, "() => window.__CTI_SOFTPHONE__.store.state.signedIn")
    wait_registered(second)  # mirrors the leader's registration
    assert second.evaluate("__fake.devices.length") == 0
    assert first.evaluate("__fake.registered()") == 1

    second.select_option('[data-testid="status"]', "away")  # forwarded to the leading tab
    eventually(lambda: phone.presence(phone.agent1) == "away")
    first.wait_for_selector('.status-picker[data-status="away"]')

    first.close()
    wait_for(second, "() => window.__fake.registered() === 1")
    wait_registered(second)
    assert phone.presence(phone.agent1) == "away"  # the chosen status survives the takeover
    second.select_option('[data-testid="status"]', "available")
    eventually(lambda: phone.presence(phone.agent1) == "available")
    phone.customer_calls()
    phone.ring_page(second)
    second.wait_for_selector('#call[data-phase="ringing"]')


def test_a_second_browser_is_asked_before_taking_over(live_factory):
    live = live_factory(softphone={"device_heartbeat_seconds": 5})
    Phone(live)
    first = live.sign_in(live.open())
    other_browser = live.context()  # another profile: its own device id
    second = live.open(other_browser)
    second.fill("#username", "agent1")
    second.fill("#password", "Correct-horse-42")
    second.click("#signin-submit")
    second.wait_for_selector('#registration[data-state="in_use"]')
    assert "別の端末" in second.inner_text("#conflict")
    assert second.evaluate("__fake.devices.length") == 0
    second.click("#takeover")
    wait_registered(second)
    first.wait_for_selector('#registration[data-state="replaced"]', timeout=15_000)
    assert first.evaluate("__fake.devices[0].state") == "destroyed"


def test_english_is_available(live, phone):
    page = live.sign_in(live.open())
    page.click("#language")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text('[data-testid="registration"]') == "Registered (simulated)"
    assert page.inner_text('[data-testid="dial"]').strip() == "Call"
    page.reload()
    page.wait_for_selector("#app:not([hidden])")
    assert page.inner_text("#tab-phone") == "Phone"  # remembered in this browser


def test_blocked_microphone_is_explained(live, phone):
    context = live.context()
    # The browser says the site may not use the microphone (as after "Block" in Chrome).
    context.add_init_script("navigator.permissions.query = async () => ({state: 'denied'});")
    page = live.sign_in(live.open(context))
    message = page.wait_for_selector("#mic-blocked:not([hidden])")
    assert "マイクの使用がブロックされています" in message.inner_text()


def test_microphone_refused_during_a_call_is_explained(live, phone):
    page = live.sign_in(live.open())
    assert page.is_hidden("#mic-blocked")
    answered_call(phone, page)
    page.evaluate("__fake.lastCall().emit('error', {code: 31208, message: 'denied'})")
    page.wait_for_selector("#mic-blocked:not([hidden])")
    assert "マイク" in page.inner_text('[data-testid="notice"]')


def test_audio_devices_are_chosen_and_remembered(live, phone):
    context = live.context()
    page = live.sign_in(live.open(context))
    page.click("#tab-settings")
    page.wait_for_function("() => document.querySelectorAll('#audio-input option').length > 1")
    device = page.evaluate("document.querySelectorAll('#audio-input option')[1].value")
    page.select_option("#audio-input", device)
    wait_for(page, "(d) => JSON.parse(localStorage.getItem('cti.audio') || '{}').input === d",
             arg=device)
    assert f"input {device}" not in fake_log(page)  # chosen, not opened: no call yet
    again = live.open(context)  # another tab of the browser: remembered
    again.click("#tab-settings")
    again.wait_for_function("(d) => document.querySelector('#audio-input').value === d", arg=device)


def test_the_twilio_sdk_is_served_by_us_and_allowed_by_the_page_policy(twilio_live):
    live = twilio_live
    Phone(live)
    context = live.context(fake_device=False)
    page = live.open(context)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text)
            if "Content Security Policy" in m.text else None)
    with page.expect_response("**/softphone/vendor/twilio.min.js") as sdk:
        live.sign_in_without_waiting(page)
    assert sdk.value.status == 200
    wait_for(page, "() => typeof window.Twilio?.Device === 'function'")
    # Offline here, so the device cannot reach Twilio: it keeps trying and says so.
    page.wait_for_selector('#registration[data-state="registering"], '
                           '#registration[data-state="error"], '
                           '#registration[data-state="unregistered"]')
    assert blocked == []


def test_the_device_registers_again_after_unregistered_or_error(live, phone):
    page = live.sign_in(live.open())
    page.evaluate("__fake.devices[0].state = 'unregistered'; "
                  "__fake.devices[0].emit('unregistered')")
    page.wait_for_selector('#registration[data-state="unregistered"]')
    wait_for(page, "() => __fake.log.filter((l) => l === 'register').length === 2")
    wait_registered(page)
    page.evaluate("__fake.devices[0].state = 'unregistered'; "
                  "__fake.devices[0].emit('error', {code: 31005, message: 'connection lost'})")
    page.wait_for_selector('#registration[data-state="error"]')
    assert "connection lost" in page.inner_text("#reg-error")
    wait_for(page, "() => __fake.log.filter((l) => l === 'register').length === 3")
    wait_registered(page)


@pytest.mark.parametrize("width", [200, 400])
def test_fits_the_utility_bar_from_200_to_400_pixels(live, phone, width):
    context = live.context()
    page = live.sign_in(live.open(context))
    page.set_viewport_size({"width": width, "height": 600})
    answered_call(phone, page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    for control in ("mute", "hold", "transfer-toggle", "hangup"):
        box = page.locator(f'[data-testid="{control}"]').bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, control
    screenshot(page, f"6-on-call-{width}px")


def microphone_log(page: Any) -> list[str]:
    """What the page did to the microphone and the calls, in order."""
    return [line.split(" ")[0] if line.startswith(("accept", "disconnect", "connect"))
            else line for line in fake_log(page)
            if line.startswith(("input", "unset input", "accept", "disconnect", "connect"))]


def test_the_microphone_is_open_only_during_calls_and_keeps_the_chosen_device(live, phone):
    context = live.context()
    page = live.sign_in(live.open(context))
    page.click("#tab-settings")
    page.wait_for_function("() => document.querySelectorAll('#audio-input option').length > 1")
    device = page.evaluate("document.querySelectorAll('#audio-input option')[1].value")
    page.select_option("#audio-input", device)
    page.click("#tab-phone")
    assert microphone_log(page) == []  # signed in with a chosen microphone: still closed

    customer, ringing = answered_call(phone, page)
    assert microphone_log(page) == [f"input {device}", "accept"]  # opened before answering
    page.evaluate("__fake.lastCall().remoteHangup()")
    ringing.hangup()
    page.wait_for_selector("#acw:not([hidden])")
    wait_for(page, "() => __fake.log.includes('unset input')")
    assert microphone_log(page) == [f"input {device}", "accept", "unset input"]
    page.select_option('[data-testid="disposition"]', "対応完了")
    page.click('[data-testid="acw-save"]')
    page.wait_for_selector("#acw", state="hidden")

    page.fill('[data-testid="number"]', "03-1234-5678")  # the next call, outgoing
    page.click('[data-testid="dial"]')
    page.wait_for_selector('#call[data-phase="open"]')
    assert microphone_log(page)[3:] == [f"input {device}", "connect"]  # the same device
    page.click('[data-testid="hangup"]')
    wait_for(page, "() => __fake.log.filter((l) => l === 'unset input').length === 2")
    assert microphone_log(page)[3:] == [f"input {device}", "connect", "disconnect",
                                        "unset input"]
    assert page.evaluate("JSON.parse(localStorage.getItem('cti.audio')).input") == device


def test_a_missed_call_releases_the_microphone_it_never_used(live, phone):
    page = live.sign_in(live.open())
    caller_sid = phone.customer_calls()
    phone.ring_page(page)
    page.wait_for_selector('#call[data-phase="ringing"]')
    # The caller hangs up: Twilio ends their call (its status callback frees the agent, whom
    # the server set 着信中) and cancels the ringing in the browser.
    assert phone.service.hang_up(caller_sid)
    page.evaluate("__fake.lastCall().cancelByCaller()")
    page.wait_for_selector("#call", state="hidden")
    wait_for(page, "() => __fake.log.includes('unset input')")
    assert not any(line.startswith("input") for line in fake_log(page))  # none chosen
