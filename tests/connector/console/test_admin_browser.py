"""The admin screens in real headless Chromium: a number added through the form, a bad flow
file's problems shown, the voicemail screen open for a supervisor, no JavaScript errors."""

from __future__ import annotations

import pytest

from connector import db
from connector.voice import numbers
from tests.connector.console.test_browser import chromium, console_factory, shot  # noqa: F401
from tests.connector.test_auth import add_agent

pytestmark = pytest.mark.browser

BAD_FLOW = '[flow]\nname = "desk"\nentry = "hello"\n\n[nodes.hello]\nkind = "menu"\n' \
           'say = "1を押してください。"\nkeys = { 1 = "nowhere" }\n'


def test_admin_screens_change_numbers_and_show_flow_problems(make_app, console_factory):  # noqa: F811
    app = make_app()
    add_agent(app, "admin1", role="admin", display_name="管理 太郎")
    console = console_factory(app)
    page = console.signed_in(console.sign_in(console.page(), "admin1",
                                             path="/console/admin/numbers"))
    page.wait_for_selector("#numbers-table tbody td")
    page.fill("#n-e164", "050-1234-5678")
    page.fill("#n-label", "代表")
    page.fill("#n-route", "voicemail")
    page.fill("#n-channels", "2")
    page.fill("#n-ring-pop", "https://crm.example.jp/search?tel=@@@@")
    page.click("#number-save")
    page.wait_for_selector('#numbers-table tr[data-number="+815012345678"]')
    with db.get_engine(app).connect() as conn:
        saved = numbers.get_number(conn, "+815012345678")
    assert (saved.max_channels, saved.ring_popup_url) == (
        2, "https://crm.example.jp/search?tel=@@@@")
    page.fill("#n-e164", "050-1234-9999")
    page.fill("#n-route", "group:nobody")
    page.click("#number-save")
    page.wait_for_selector('#numbers-status li[data-field="route"]')
    assert page.get_attribute("#n-route", "aria-invalid") == "true"
    shot(page, "admin-numbers")

    page.goto(f"{console.url}/console/admin/flows")
    page.fill("#flow-text", BAD_FLOW)
    page.click("#flow-check")
    page.wait_for_selector("#flow-problems tbody tr")
    assert "nowhere" in page.inner_text("#flow-problems")
    shot(page, "admin-flows")
    for path in ("/console/admin/audio", "/console/admin/number-lists", "/console/admin/crm",
                 "/console/voicemail"):
        assert page.goto(f"{console.url}{path}").status == 200, path
        page.wait_for_load_state("networkidle")
        shot(page, "admin" + path.replace("/", "-"))


def test_block_list_csv_is_previewed_then_added(make_app, console_factory, tmp_path):  # noqa: F811
    app = make_app()
    add_agent(app, "admin1", role="admin", display_name="管理 太郎")
    console = console_factory(app)
    page = console.signed_in(console.sign_in(console.page(), "admin1",
                                             path="/console/admin/number-lists"))
    block = page.locator('section.number-list[data-list="block"]')
    block.locator("table.rules tbody td").first.wait_for()
    csv = tmp_path / "block.csv"
    csv.write_bytes("0120-123-456,営業電話\nabc,\n0570*,ナビダイヤル\n".encode("cp932"))
    block.locator('input[type="file"]').set_input_files(str(csv))
    block.locator('button[value="preview"]').click()
    block.locator(".import-report:not([hidden]) .report-text").wait_for()
    assert "まだ登録していません" in block.locator(".report-text").inner_text()
    assert "追加予定 2 件" in block.locator(".report-text").inner_text()
    assert block.locator("table.rejected tbody tr").all_inner_texts() == ["2\tabc\t" + (
        block.locator("table.rejected tbody td").nth(2).inner_text())]
    assert block.locator("table.rules tbody tr[data-pattern]").count() == 0  # nothing added
    shot(page, "admin-number-lists-preview")
    block.locator(".confirm-import button").click()
    block.locator('table.rules tbody tr[data-pattern="+81120123456"]').wait_for()
    assert block.locator("table.rules tbody tr[data-pattern]").count() == 2
    assert "追加 2 件" in block.locator(".report-text").inner_text()
    assert block.locator(".confirm-import").is_hidden()
    assert console.errors == []


def test_an_uploaded_audio_file_plays_on_the_audio_screen(make_app, console_factory,  # noqa: F811
                                                         tmp_path):
    from tests.connector.flows.test_crm_and_audio import wav_bytes

    app = make_app()
    add_agent(app, "admin1", role="admin", display_name="管理 太郎")
    console = console_factory(app)
    page = console.signed_in(console.sign_in(console.page(), "admin1",
                                             path="/console/admin/audio"))
    page.wait_for_selector("#audio-table tbody td")
    wav = tmp_path / "closed.wav"
    wav.write_bytes(wav_bytes(seconds=1.0))
    page.set_input_files("#audio-file", str(wav))
    page.click("#audio-upload")
    page.click('#audio-table button[data-play="closed.wav"]')
    # The browser fetched and decoded the file: its length is the one uploaded.
    duration = page.wait_for_function("""() => {
        const p = document.getElementById("audio-player");
        return !p.hidden && p.readyState >= 1 && p.duration; }""").json_value()
    assert abs(duration - 1.0) < 0.05
    assert page.get_attribute("#audio-player", "data-playing") == "closed.wav"
    shot(page, "admin-audio-playing")
    assert console.errors == []
