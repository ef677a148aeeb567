"""The softphone's campaign panel in simulated mode: an agent on a preview campaign skips one
contact, dials the next, talks (the simulator's callee answers and hangs up), enters the result
with a recall, and sees it in their recall list (再コール一覧)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from connector import clock, db
from connector.campaigns import dialer
from connector.schema import calls, campaign_contacts
from connector.voice import numbers
from connector.voice.numbers import NumberChanges, Route
from tests.connector.test_auth import bearer, login
from tests.softphone.browser.conftest import PANEL, screenshot, wait_for
from voice.simulator import answers

NUMBER = "+815012345678"
DOCS_IMAGE = Path(__file__).resolve().parents[3] / "docs" / "images" / "softphone-campaign.png"
ALWAYS = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00",
          "end": "24:00", "skip_holidays": False}
CALL_LIST = ("電話番号,氏名,会社名,支店\n"
             "090-1111-2222,山田 太郎,山田商事,渋谷\n"
             "090-3333-4444,鈴木 一郎,鈴木工業,新宿\n").encode("cp932")


def _setup(live, mode: str = "preview"):
    live.agent("sato", display_name="佐藤 花子")
    live.agent("boss", role="admin")
    with db.get_engine(live.app).begin() as conn:
        numbers.save_number(conn, NUMBER, NumberChanges(label="営業", route=Route.parse(
            "agent:sato")), now=clock.now(live.app))
    client = live.app.test_client()
    admin = bearer(login(client, "boss").get_json()["access_token"])
    created = client.post("/api/campaigns", headers=admin, json={
        "name": "秋の見直し", "settings": {"caller_id": NUMBER, "mode": mode,
                                       "agents": ["sato"], "window": ALWAYS}})
    assert created.status_code == 201, created.get_json()
    campaign_id = created.get_json()["campaign"]["id"]
    mapping = json.dumps({"phone": "電話番号", "name": "氏名", "company": "会社名",
                          "支店": "支店"})
    imported = client.post(f"/api/campaigns/{campaign_id}/contacts/import", data=CALL_LIST,
                           headers=admin, content_type="text/csv",
                           query_string={"mapping": mapping})
    assert imported.get_json()["imported"] == 2, imported.get_json()
    if mode == "preview":
        assert client.post(f"/api/campaigns/{campaign_id}/start",
                           headers=admin).status_code == 200
    simulated = live.app.extensions["cti.simulated_mode"]
    for number in ("+819011112222", "+819033334444"):
        simulated.in_engine(lambda n=number: simulated.simulator.on_number(
            n, answers(after=1, hangup_after=2)))
    return campaign_id


def test_preview_skip_dial_result_and_recall_in_the_panel(live_factory, redis_url):
    live = live_factory(queue={"redis_url": redis_url}, softphone={"acw_seconds": 0})
    campaign_id = _setup(live)
    context = live.context(fake_device=False)
    page = live.sign_in(live.open(context), "sato")
    page.wait_for_selector('[data-testid="campaign"]:not([hidden])')
    page.wait_for_selector('#campaign[data-state="preview"]')
    assert page.inner_text('[data-testid="campaign-contact-name"]') == "山田 太郎"
    assert page.inner_text('[data-testid="campaign-contact-number"]') == "090-1111-2222"
    assert "渋谷" in page.inner_text('[data-testid="campaign-fields"]')
    assert page.inner_text('[data-testid="campaign-recalls"]') == "予約された再コールはありません。"

    page.click('[data-testid="campaign-skip"]')
    wait_for(page, "() => document.querySelector('[data-testid=\"campaign-contact-name\"]')"
                   ".textContent === '鈴木 一郎'")
    page.click('[data-testid="campaign-dial"]')
    page.wait_for_selector('#call[data-phase="ringing"]')  # the callee answered: the agent rings
    assert page.inner_text('[data-testid="call-number"]') == "090-3333-4444"
    page.click('[data-testid="accept"]')
    page.wait_for_selector('#call[data-phase="open"]')
    page.wait_for_selector('#campaign[data-state="wrapup"]')  # the callee hung up
    page.select_option('[data-testid="campaign-disposition"]', "considering")
    assert page.is_checked('input[name="recall"][value="1h"]')  # 検討 suggests a recall
    page.fill('[data-testid="campaign-note"]', "夕方に再度")
    page.check('[data-testid="recall-at"]')
    page.fill('[data-testid="campaign-recall-at"]', "2031-04-01T15:30")
    page.evaluate("document.activeElement.blur()")
    screenshot(page, "campaign-result")
    DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
    assert not page.is_visible("#acw")  # the panel's form replaces the after-call form
    page.set_viewport_size({"width": 360, "height": 1100})
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(DOCS_IMAGE))
    page.set_viewport_size(PANEL)
    page.click('[data-testid="campaign-save"]')
    wait_for(page, "() => document.querySelector('[data-testid=\"campaign-recalls\"]')"
                   ".textContent.includes('鈴木 一郎')")
    assert "4/1 15:30" in page.inner_text('[data-testid="campaign-recalls"]')
    wait_for(page, "() => window.__CTI_SOFTPHONE__.store.state.acw === null")
    wait_for(page, "() => window.__CTI_SOFTPHONE__.store.state.presence?.status === 'available'")
    page.wait_for_selector('#campaign[data-state="idle"]')  # the skipped one: in a minute
    assert page.inner_text('[data-testid="campaign-idle"]') == "今発信できる発信先はありません。"

    with db.get_engine(live.app).connect() as conn:
        rows = {r.e164: r for r in conn.execute(select(campaign_contacts).where(
            campaign_contacts.c.campaign_id == campaign_id))}
        record = conn.execute(select(calls).where(
            calls.c.call_sid == rows["+819033334444"].last_call_sid)).first()
    called = rows["+819033334444"]
    assert (called.state, called.result, called.agent_note, called.attempts) == (
        "pending", "considering", "夕方に再度", 1)
    assert called.recall_at is not None and called.owner_agent_id is not None
    assert (rows["+819011112222"].state, rows["+819011112222"].attempts) == ("pending", 0)
    assert (record.disposition, record.notes) == ("検討", "夕方に再度")


def test_progressive_call_shows_its_contact_in_english(live_factory, redis_url):
    live = live_factory(queue={"redis_url": redis_url}, softphone={"acw_seconds": 0})
    campaign_id = _setup(live, mode="progressive")
    context = live.context(fake_device=False)
    page = live.sign_in(live.open(context, "?lang=en"), "sato")
    assert page.is_hidden('[data-testid="campaign"]')  # a draft is nobody's work yet
    client = live.app.test_client()
    admin = bearer(login(client, "boss").get_json()["access_token"])
    assert client.post(f"/api/campaigns/{campaign_id}/start", headers=admin).status_code == 200
    with live.app.app_context():  # the maintenance tick: a test client's request may not
        dialer.tick(live.app)  # run the after-response nudge that a browser's start would
    page.wait_for_selector('#call[data-phase="ringing"]')  # the dialer bridged a callee
    page.wait_for_selector('#campaign[data-state="dialing"]')
    number = page.inner_text('[data-testid="campaign-contact-number"]')
    assert number == page.inner_text('[data-testid="call-number"]')
    page.click('[data-testid="accept"]')
    page.wait_for_selector('#campaign[data-state="wrapup"]')
    assert page.inner_text("#campaign-result button[type=submit]") == "Save result"
    page.select_option('[data-testid="campaign-disposition"]', "success")
    page.click('[data-testid="campaign-save"]')
    wait_for(page, "() => document.querySelector('[data-testid=\"notice\"]')"
                   ".textContent === 'Result saved.'")
