"""The softphone inside Salesforce (issue 5, "Done when"), in headless Chromium.

The fake org (tests/fakes/salesforce.py) serves a Lightning page from ``http://localhost:<port>``
that frames the softphone from ``http://127.0.0.1:<port>`` — another site, so the iframe is
cross-origin and third-party as in Salesforce — and a recording fake ``opencti_min.js`` that
talks to that page by postMessage like the real library. Calls are real calls of the app's
simulated Twilio account (simulated mode: no fake device). Call logs go to the same fake org:
through the REST API (the server's write-back) or the page's ``saveLog`` (the browser path).
The server reaches the org as ``https://fake-org.my.salesforce.com`` (simple-salesforce speaks
only https to ``*.salesforce.com``): the adapter's session routes that host to the fake.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert, select

from connector import clock, crm, db
from connector.schema import agent_crm_users, calls, crm_writebacks
from connector.softphone import simulated
from connector.voice import numbers
from connector.voice.numbers import NumberChanges, Route
from tests.adapters.salesforce.conftest import (
    AUDIENCE,
    ORG_HOST,
    ORG_URL,
    KeyPair,
    make_key_pair,
)
from tests.connector.crm_fixtures import run_jobs
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.server import LiveServer, behind_tls_proxy, route_hosts
from tests.softphone.browser.conftest import Live, screenshot, state, wait_for
from tests.softphone.browser.test_softphone import eventually

NUMBER = "+815012345678"
CUSTOMER = "+819012345678"
CALLSID = "CTI_CallSid__c"


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return make_key_pair()


@pytest.fixture
def org(keys: KeyPair) -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce(keys.certificate_pem, audience=AUDIENCE)
    with LiveServer(behind_tls_proxy(fake)) as live:
        fake.url = live.url  # type: ignore[attr-defined]  # what the server calls
        # What the browser opens: another site than the app's 127.0.0.1.
        fake.lightning = f"http://localhost:{live.port}"  # type: ignore[attr-defined]
        yield fake


class Salesforce:
    """The app wired to the fake org, and the Lightning page framing its softphone."""

    def __init__(self, live_factory: Any, org: FakeSalesforce, keys: KeyPair, *,
                 logging_path: str = "api", signin: bool = False) -> None:
        self.org = org
        salesforce = {"login_url": ORG_URL, "consumer_key": org.consumer_key,
                      "username": "integration@example.com", "private_key": keys.private_pem,
                      "logging_path": logging_path}
        sections: dict[str, Any] = {
            "server": {"frame_ancestors": [org.lightning]},  # type: ignore[attr-defined]
            "crm": {"adapters": ["salesforce"], "writeback_delay_seconds": 0,
                    "salesforce": salesforce},
            "voice": {"lookup_budget_ms": 2000}}
        if signin:
            sections["auth"] = {"salesforce": {
                "enabled": True, "login_url": org.url, "consumer_key": org.consumer_key,
                "org_id": org.org_id}}
        self.live: Live = live_factory(**sections)
        self.app = self.live.app
        route_hosts(crm.get_layer(self.app).adapters["salesforce"].http,
                    org.url, ORG_HOST)  # type: ignore[attr-defined]
        org.adapter_url = self.live.url + "/softphone/?crm=salesforce"
        org.callback_urls.add(self.live.url + "/auth/salesforce/callback")
        org.call_center_settings = {"BackendUrl": self.live.url, "TwilioEdge": "tokyo",
                                    "LoggingPath": logging_path}
        self.agent = self.live.agent("agent1", display_name="佐藤 花子")
        with db.get_engine(self.app).begin() as conn:
            numbers.save_number(conn, NUMBER, NumberChanges(
                label="サポート窓口", route=Route.parse("agent:agent1")),
                now=clock.now(self.app))
            numbers.grant_caller_id(conn, "agent1", NUMBER, default=True)

    def open(self) -> tuple[Any, Any]:
        """The Lightning page and the softphone frame in it (signed out)."""
        context = self.live.context(fake_device=False)
        # A framed page asks for the microphone on behalf of the top-level site (Salesforce).
        context.grant_permissions(["microphone"], origin=self.org.lightning)  # type: ignore
        page = context.new_page()
        page.on("pageerror", lambda error: self.live.errors.append(f"{page.url}: {error}"))
        page.goto(self.org.lightning + "/lightning/page/home")  # type: ignore[attr-defined]
        frame = page.wait_for_selector("#softphone").content_frame()
        frame.wait_for_selector("#app:not([hidden])")
        return page, frame

    def signed_in(self) -> tuple[Any, Any]:
        page, frame = self.open()
        self.live.sign_in(frame)
        wait_for(page, "() => __lightning.clickToDialEnabled")
        return page, frame

    def customer_calls(self) -> str:
        eventually(lambda: self.presence() == "available")
        service = simulated.get(self.app)
        service.sync_numbers()
        return service.place_incoming(CUSTOMER, NUMBER)

    def presence(self) -> str:
        from connector.schema import agent_presence

        with db.get_engine(self.app).connect() as conn:
            return conn.execute(select(agent_presence.c.status).where(
                agent_presence.c.agent_id == self.agent.id)).scalar()

    def call_row(self, call_sid: str) -> Any:
        with db.get_engine(self.app).connect() as conn:
            return conn.execute(select(calls).where(calls.c.call_sid == call_sid)).first()

    def written(self, call_sid: str, disposition: str) -> list[dict[str, Any]]:
        """Run the write-back worker until the call's Task carries the wrap-up."""
        def done() -> list[dict[str, Any]] | None:
            run_jobs(self.app)
            tasks = self.org.logs_for(call_sid)
            return tasks if tasks and tasks[0].get("CallDisposition") == disposition else None
        return eventually(done)


def lightning_calls(page: Any, method: str) -> list[dict[str, Any]]:
    return [c["args"] for c in page.evaluate("(m) => __lightning.callsOf(m)", method)]


def wrap_up(frame: Any, disposition: str, notes: str) -> None:
    frame.wait_for_selector("#acw:not([hidden])")
    frame.select_option('[data-testid="disposition"]', disposition)
    frame.fill('[data-testid="notes"]', notes)
    frame.click('[data-testid="acw-save"]')
    frame.wait_for_selector("#acw", state="hidden")


def test_click_to_dial_calls_with_the_record_and_logs_one_task(live_factory, org, keys):
    sf = Salesforce(live_factory, org, keys)
    contact = org.add_customer("山田 太郎", "03-1234-5678")
    page, frame = sf.signed_in()
    assert lightning_calls(page, "enableClickToDial") == [{}]

    page.evaluate("(p) => __lightning.clickToDial(p)", {
        "number": "03-1234-5678", "recordId": contact, "recordName": "山田 太郎",
        "objectType": "Contact"})

    frame.wait_for_selector('#call[data-phase="open"]')  # the outside number answers
    call_sid = state(frame)["call"]["sid"]
    row = sf.call_row(call_sid)
    assert row.direction == "outbound" and row.customer_number == "+81312345678"
    assert row.customer["selected"] == {"adapter": "salesforce", "id": contact,
                                        "type": "Contact", "name": "山田 太郎"}
    wait_for(page, "() => __lightning.itemLabel.includes('山田 太郎')")
    frame.click('[data-testid="hangup"]')
    wrap_up(frame, "対応完了", "見積もりを送付")

    (task,) = sf.written(call_sid, "対応完了")
    assert (task["WhoId"], task["CallType"], task["Description"]) == (
        contact, "Outbound", "見積もりを送付")
    assert task["CTI_CallSid__c"] == call_sid
    assert lightning_calls(page, "saveLog") == []  # the API path only


def test_a_typed_number_of_one_contact_pops_that_contact(live_factory, org, keys):
    sf = Salesforce(live_factory, org, keys)
    contact = org.add_customer("山田 太郎", "03-1234-5678")
    page, frame = sf.signed_in()
    frame.fill('[data-testid="number"]', "03-1234-5678")  # typed, not clicked on the record
    frame.click('[data-testid="dial"]')
    frame.wait_for_selector('#call[data-phase="open"]')
    assert frame.inner_text('[data-testid="call-name"]') == "山田 太郎"
    wait_for(page, "() => __lightning.callsOf('screenPop').length > 0")
    assert lightning_calls(page, "screenPop") == [
        {"type": "sobject", "params": {"recordId": contact}}]
    assert lightning_calls(page, "searchAndScreenPop") == []  # outgoing: no search, no form
    row = sf.call_row(state(frame)["call"]["sid"])
    assert row.customer["matches"][0]["id"] == contact  # the write-back's customer


def test_incoming_call_pops_the_one_match_on_ring_and_logs_one_task(live_factory, org, keys):
    sf = Salesforce(live_factory, org, keys)
    contact = org.add_customer("山田 太郎", "090-1234-5678", company="山田商事")
    org.add_customer("別人", "03-9999-0000")
    page, frame = sf.signed_in()
    wait_for(page, "() => __lightning.itemLabel === '待機'")
    assert page.evaluate("__lightning.itemIcon") == "call"

    customer = sf.customer_calls()

    frame.wait_for_selector('#call[data-phase="ringing"]')
    wait_for(page, "() => __lightning.callsOf('screenPop').length > 0")
    assert page.evaluate("__lightning.panelVisible") is True
    assert lightning_calls(page, "screenPop") == [
        {"type": "sobject", "params": {"recordId": contact}}]
    assert lightning_calls(page, "searchAndScreenPop") == []
    wait_for(page, "() => __lightning.itemLabel === '着信中 山田 太郎'")
    screenshot(page, "salesforce-ringing")

    frame.click('[data-testid="accept"]')
    frame.wait_for_selector('#call[data-phase="open"]')
    wait_for(page, "() => __lightning.itemLabel === '通話中 山田 太郎'")
    assert len(lightning_calls(page, "screenPop")) == 1  # popped on ring, not again on answer
    frame.click('[data-testid="hangup"]')
    wrap_up(frame, "対応完了", "請求書の再送")

    (task,) = sf.written(customer, "対応完了")
    assert (task["WhoId"], task["CallType"], task["Description"]) == (
        contact, "Inbound", "請求書の再送")
    assert lightning_calls(page, "saveLog") == []


def test_unknown_caller_is_searched_and_browser_path_saves_one_log(live_factory, org, keys):
    """Professional edition: no API. The layout's search pops; saveLog writes the Task."""
    sf = Salesforce(live_factory, org, keys, logging_path="browser")
    contact = org.add_customer("山田 太郎", "090-1234-5678")
    page, frame = sf.signed_in()

    customer = sf.customer_calls()

    frame.wait_for_selector('#call[data-phase="ringing"]')
    wait_for(page, "() => __lightning.callsOf('searchAndScreenPop').length > 0")
    assert lightning_calls(page, "searchAndScreenPop") == [{
        "searchParams": "09012345678", "queryParams": "",
        "defaultFieldValues": {"Phone": "090-1234-5678"}, "callType": "inbound",
        "deferred": False}]
    assert lightning_calls(page, "screenPop") == []
    frame.click('[data-testid="accept"]')
    frame.wait_for_selector('#call[data-phase="open"]')
    page.evaluate("(v) => __lightning.navigate(v)", {  # the agent opens the customer
        "recordId": contact, "recordName": "山田 太郎", "objectType": "Contact"})
    frame.click('[data-testid="hangup"]')
    frame.wait_for_selector("#acw:not([hidden])")
    wait_for(frame, "() => document.querySelector('#acw-customer').textContent"
                    ".includes('山田 太郎')")
    wrap_up(frame, "折り返し予定", "明日午前に折り返す")

    wait_for(page, "() => __lightning.callsOf('saveLog').length > 0")
    page.wait_for_timeout(300)  # nothing more comes
    (saved,) = lightning_calls(page, "saveLog")
    value = saved["value"]
    assert value["entityApiName"] == "Task" and value["CTI_CallSid__c"] == customer
    assert value["CallObject"] == customer and value["WhoId"] == contact
    assert (value["CallType"], value["CallDisposition"], value["Description"]) == (
        "Inbound", "折り返し予定", "明日午前に折り返す")
    (task,) = org.logs_for(customer)
    assert task["TaskSubtype"] == "Call"
    run_jobs(sf.app)
    with db.get_engine(sf.app).connect() as conn:
        assert conn.execute(select(crm_writebacks)).first() is None  # the server wrote nothing
    assert len(org.logs_for(customer)) == 1


def test_both_paths_on_make_one_task(live_factory, org, keys):
    """The server logs the call as soon as it ends; the browser's saveLog after wrap-up finds
    that Task (the CallSid field is unique) and the server's next upsert completes it."""
    sf = Salesforce(live_factory, org, keys, logging_path="both")
    contact = org.add_customer("山田 太郎", "090-1234-5678")
    page, frame = sf.signed_in()

    customer = sf.customer_calls()
    frame.wait_for_selector('#call[data-phase="ringing"]')
    frame.click('[data-testid="accept"]')
    frame.wait_for_selector('#call[data-phase="open"]')
    frame.click('[data-testid="hangup"]')
    frame.wait_for_selector("#acw:not([hidden])")
    eventually(lambda: (run_jobs(sf.app), org.logs_for(customer))[1])  # written at call end
    wrap_up(frame, "対応完了", "両方の経路")
    wait_for(page, "() => __lightning.callsOf('saveLog').length > 0")

    (task,) = sf.written(customer, "対応完了")
    assert task["WhoId"] == contact and task["Description"] == "両方の経路"
    assert len(lightning_calls(page, "saveLog")) == 1
    assert len(org.savelog_requests) == 1  # refused as a duplicate, not retried
    assert frame.inner_text('[data-testid="notice"]') == "記録を保存しました。"  # no error


def answered_and_wrapped_up(sf: Salesforce, page: Any, frame: Any, notes: str, *,
                            server_first: bool = False) -> str:
    """A customer calls, the agent answers, hangs up and saves the wrap-up: the CallSid.
    Unless ``server_first``, no write-back job runs meanwhile, so the browser's saveLog comes
    first; with it, the server logs the call as it ends, before the wrap-up."""
    customer = sf.customer_calls()
    frame.wait_for_selector('#call[data-phase="ringing"]')
    frame.click('[data-testid="accept"]')
    frame.wait_for_selector('#call[data-phase="open"]')
    frame.click('[data-testid="hangup"]')
    if server_first:
        frame.wait_for_selector("#acw:not([hidden])")
        eventually(lambda: (run_jobs(sf.app), sf.org.logs_for(customer))[1])
    wrap_up(frame, "対応完了", notes)
    wait_for(page, "() => __lightning.callsOf('saveLog').length > 0")
    return customer


@pytest.mark.parametrize("server_first", [False, True], ids=["browser-first", "server-first"])
@pytest.mark.parametrize("editable", [False, True], ids=["read-only", "editable"])
def test_both_paths_make_one_task_whatever_the_agents_field_access(live_factory, org, keys,
                                                                   editable, server_first):
    """Issue 17: with CTI_CallSid__c read-only for agents, saveLog used to be retried without
    it, and the server's upsert by CallSid then added a second Task."""
    sf = Salesforce(live_factory, org, keys, logging_path="both")
    contact = org.add_customer("山田 太郎", "090-1234-5678")
    agent = org.add_agent_user("hanako@acme.example")  # Minimum Access + CTI_Connector_Agent
    if not editable:  # as the package granted before
        org.grant_field(org.permission_set_id("CTI_Connector_Agent"), "Task.CTI_CallSid__c",
                        readable=True, editable=False)
    org.sign_in_browser(agent)  # saveLog runs as the agent
    page, frame = sf.signed_in()

    customer = answered_and_wrapped_up(sf, page, frame, "権限の確認",
                                       server_first=server_first)
    page.wait_for_timeout(300)  # a retry would come now
    assert [request[CALLSID] for request in org.savelog_requests] == [customer]  # no retry
    assert len(org.records["Task"]) == (1 if editable or server_first else 0)

    (task,) = sf.written(customer, "対応完了")
    assert len(org.records["Task"]) == 1  # one Task per call
    assert task["WhoId"] == contact and task["Description"] == "権限の確認"
    browsers = editable and not server_first
    assert (task["OwnerId"] == agent) is browsers  # the browser's Task, or the server's
    assert frame.inner_text('[data-testid="notice"]') == "記録を保存しました。"


def test_browser_path_saves_without_the_field_only_when_the_org_lacks_it(live_factory, org,
                                                                         keys):
    sf = Salesforce(live_factory, org, keys, logging_path="browser")
    org.remove_field("Task", CALLSID)  # an edition where the package was not deployed
    page, frame = sf.signed_in()

    customer = answered_and_wrapped_up(sf, page, frame, "項目なし")
    wait_for(page, "() => __lightning.callsOf('saveLog').length === 2")
    # The page records a call before its request reaches the org: wait for the org's side.
    eventually(lambda: len(org.savelog_requests) == 2 and org.records["Task"])
    first, second = org.savelog_requests
    assert first[CALLSID] == customer and CALLSID not in second
    (task,) = org.records["Task"].values()
    assert task["CallObject"] == customer and task["Description"] == "項目なし"


def test_browser_path_read_only_field_is_shown_not_dropped(live_factory, org, keys):
    sf = Salesforce(live_factory, org, keys, logging_path="browser")
    agent = org.add_agent_user("hanako@acme.example")
    org.grant_field(org.permission_set_id("CTI_Connector_Agent"), "Task.CTI_CallSid__c",
                    readable=True, editable=False)
    org.sign_in_browser(agent)
    page, frame = sf.signed_in()

    answered_and_wrapped_up(sf, page, frame, "")
    notice = frame.wait_for_selector('[data-testid="notice"]:has-text("Salesforce")')
    assert "INVALID_FIELD_FOR_INSERT_UPDATE" in notice.inner_text()
    assert len(org.savelog_requests) == 1 and org.records["Task"] == {}


def test_a_failed_browser_log_is_shown_to_the_agent(live_factory, org, keys):
    sf = Salesforce(live_factory, org, keys, logging_path="browser")
    org.set_field("Task", "Status", picklist=("Open", "Closed"))  # no "Completed" in this org
    page, frame = sf.signed_in()

    sf.customer_calls()
    frame.wait_for_selector('#call[data-phase="ringing"]')
    frame.click('[data-testid="accept"]')
    frame.wait_for_selector('#call[data-phase="open"]')
    frame.click('[data-testid="hangup"]')
    wrap_up(frame, "対応完了", "")

    notice = frame.wait_for_selector('[data-testid="notice"]:has-text("Salesforce")')
    assert "通話記録を保存できませんでした" in notice.inner_text()
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in notice.inner_text()
    assert org.records["Task"] == {}


def test_sign_in_with_salesforce_in_a_popup(live_factory, org, keys):
    sf = Salesforce(live_factory, org, keys, signin=True)
    with db.get_engine(sf.app).begin() as conn:
        conn.execute(insert(agent_crm_users).values(
            agent_id=sf.agent.id, adapter="salesforce", crm_user="hanako@acme.example"))
    org.sign_in_browser(org.add_user("hanako@acme.example", "hanako@acme.example"))
    page, frame = sf.open()
    button = frame.wait_for_selector("#signin-salesforce")
    assert button.inner_text() == "Salesforce でサインイン"
    wait_for(page, "() => __lightning.itemLabel === 'オフライン'")  # not signed in yet
    assert page.evaluate("__lightning.itemIcon") == "end_call"

    with page.context.expect_page() as opened:
        button.click()
    popup = opened.value
    popup.wait_for_event("close")

    frame.wait_for_selector('#registration[data-state="registered"]')
    assert state(frame)["agent"]["username"] == "agent1"
    assert frame.get_attribute("#signin-salesforce", "data-via") == "message"
    (authorize,) = org.authorize_requests
    assert authorize["code_challenge_method"] == "S256" and authorize["display"] == "popup"
    wait_for(page, "() => __lightning.itemLabel === '待機'")


def test_sign_in_completes_when_the_login_page_cuts_the_popup_off(live_factory, org, keys):
    """A login page with Cross-Origin-Opener-Policy leaves the popup without window.opener:
    the softphone collects the outcome with its pickup secret instead."""
    sf = Salesforce(live_factory, org, keys, signin=True)
    sf.live.agent("agent2", email="jiro@acme.example")  # unmapped: matched by e-mail
    org.sign_in_browser(org.add_user("jiro@acme.example", "jiro@acme.example"))
    org.opener_policy = "same-origin"
    page, frame = sf.open()

    frame.click("#signin-salesforce")

    frame.wait_for_selector('#registration[data-state="registered"]')
    assert state(frame)["agent"]["username"] == "agent2"
    assert frame.get_attribute("#signin-salesforce", "data-via") == "pickup"


def test_refused_sign_in_is_shown_in_the_softphone(live_factory, org, keys):
    sf = Salesforce(live_factory, org, keys, signin=True)
    org.sign_in_browser(org.add_user("stranger@acme.example"))
    page, frame = sf.open()

    with page.context.expect_page() as opened:
        frame.click("#signin-salesforce")
    popup = opened.value
    popup.wait_for_selector("#error-message")

    notice = frame.wait_for_selector('[data-testid="notice"]:has-text("stranger@acme.example")')
    assert "対応するエージェントがいません" in notice.inner_text()
    assert "No agent" not in notice.inner_text()  # the softphone's language only
    assert not state(frame)["signedIn"]


def test_outside_salesforce_the_bridge_stays_idle(live_factory, org, keys):
    sf = Salesforce(live_factory, org, keys)
    page = sf.live.open(sf.live.context(fake_device=False), "?crm=salesforce")  # not framed

    sf.live.sign_in(page)

    assert page.evaluate("typeof window.sforce") == "undefined"  # no Open CTI loaded
    assert page.query_selector("#signin-salesforce") is None  # sign-in not enabled here
