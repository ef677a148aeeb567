"""The キャンペーン screen in headless Chromium: a supervisor reads the figures, pauses, resumes
and stops a campaign, and downloads its statistics for Excel. The screenshot goes to
docs/images/console-campaigns.png (docs/campaigns.md shows it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connector import db
from connector.schema import audit_log
from tests.conftest import need_service
from tests.connector.campaigns.conftest import _env
from tests.connector.console.test_browser import VOICE_PASSWORD, Console
from tests.connector.console.test_campaigns import _campaign_with_a_call
from tests.softphone.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser
DOCS_IMAGE = Path(__file__).resolve().parents[3] / "docs" / "images" / "console-campaigns.png"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    need_service("Chromium", CHROMIUM.is_file(), f"{CHROMIUM}, Debian package chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _state(page: Any, campaign_id: int) -> str:
    return page.get_attribute(f'tr[data-campaign="{campaign_id}"]', "data-status")


def test_supervisor_runs_campaigns_from_the_console(tmp_path, sqlite_url, chromium):
    env = _env(tmp_path, sqlite_url)
    done = _campaign_with_a_call(env, [{"code": "success", "label": "受注"},
                                       {"code": "declined", "label": "NG"}])
    running = env.create("冬の案内", agents=["sato"])
    env.upload(running["id"], b"09077778888\n09066667777\n")
    env.action(running["id"], "start")
    env.create("春の下書き")
    console = Console(env.app, chromium)
    try:
        page = console.signed_in(console.sign_in(console.page(accept_downloads=True), "boss",
                                                 VOICE_PASSWORD, "/console/campaigns"))
        row = f'tr[data-campaign="{done["id"]}"]'
        assert page.inner_text(f'{row} td[data-col="attempts"]') == "3"
        assert page.inner_text(f'{row} td[data-col="connected"]') == "1"
        assert "受注 1" in page.inner_text(f'{row} td[data-col="results"]')
        assert _state(page, running["id"]) == "running"
        DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMAGE), full_page=True)

        page.click(f'tr[data-campaign="{running["id"]}"] button[data-action="pause"]')
        page.wait_for_selector(f'tr[data-campaign="{running["id"]}"][data-status="paused"]')
        assert "一時停止しました" in page.inner_text("#campaign-status")
        page.click(f'tr[data-campaign="{running["id"]}"] button[data-action="resume"]')
        page.wait_for_selector(f'tr[data-campaign="{running["id"]}"][data-status="running"]')
        answers = ["dismiss", "accept"]  # 停止しますか？ first no, then yes
        asked: list[str] = []

        def answer(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if answers.pop(0) == "accept" else dialog.dismiss()

        page.on("dialog", answer)
        page.click(f'tr[data-campaign="{running["id"]}"] button[data-action="stop"]')
        page.wait_for_function("() => true")  # the click's dialog has been answered
        assert len(asked) == 1 and "冬の案内" in asked[0]
        assert _state(page, running["id"]) == "running"
        page.click(f'tr[data-campaign="{running["id"]}"] button[data-action="stop"]')
        page.wait_for_selector(f'tr[data-campaign="{running["id"]}"][data-status="stopped"]')
        assert page.inner_text(f'tr[data-campaign="{running["id"]}"] '
                               'td[data-col="remaining"]') == "0"

        with page.expect_download() as download:
            page.click(f'{row} a[data-csv="cp932"]')
        text = Path(download.value.path()).read_bytes().decode("cp932")
        assert text.splitlines()[1].startswith("キャンペーン,,3,")
        with db.get_engine(env.app).connect() as conn:
            actions = [r.target for r in conn.execute(select(audit_log).where(
                audit_log.c.action == "campaign.transition").order_by(audit_log.c.id))]
        assert actions == [f"campaigns/{running['id']}/{a}" for a in ("pause", "resume", "stop")]
        assert not console.errors, console.errors
    finally:
        console.close()
        db.get_engine(env.app).dispose()
