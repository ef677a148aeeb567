"""The 通話料金 screen (ST-6) in real headless Chromium: the tables, the chart, switching to
months, the CSV download. The screenshot goes to docs/images/console-charges.png
(docs/console.md shows it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connector import db
from connector.console.stats_sql import money
from tests.conftest import need_service
from tests.connector.console.seed import insert_calls, month_of_calls, seed_people, with_charges
from tests.connector.console.test_browser import Console, shot
from tests.connector.console.test_charges import _expected
from tests.connector.test_auth import add_agent
from tests.softphone.browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    need_service("Chromium", CHROMIUM.is_file(), f"{CHROMIUM}, Debian package chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _cell(page: Any, key: str, column: str) -> str:
    return page.inner_text(f'#charges-table tr[data-key="{key}"] td[data-col="{column}"]')


def test_supervisor_reads_charges_per_day_and_month_and_downloads_them(make_app, clock,
                                                                        chromium):
    app = make_app()
    clock.current = clock.current + timedelta(days=12)  # 2026-12-02: November is complete
    with db.get_engine(app).begin() as conn:
        agent_ids, group_ids = seed_people(conn, clock.current)
        records = month_of_calls(2026, 11, agent_ids, group_ids, count=600)
        legs = with_charges(records, yen_every=0)  # one currency, as an account has
        insert_calls(conn, records)
        insert_calls(conn, legs)
    add_agent(app, "sv1", role="supervisor", display_name="高橋 美咲")
    _, days = _expected(records, legs, "2026-11-01", "2026-11-30", "day")
    _, months = _expected(records, legs, "2026-11-01", "2026-11-30", "month")
    console = Console(app, chromium)
    try:
        page = console.signed_in(console.sign_in(console.page(accept_downloads=True), "sv1",
                                                 path="/console/stats/charges"))
        page.fill("#from", "2026-11-01")
        page.fill("#to", "2026-11-30")
        page.click("#charges-form button.primary")
        page.wait_for_selector("#charges-table tbody tr:nth-child(30)")
        calls, inbound, outbound, pending = days["USD"]["rows"]["2026-11-05"]
        assert _cell(page, "2026-11-05", "calls") == str(calls)
        assert _cell(page, "2026-11-05", "total") == money(inbound + outbound)
        assert _cell(page, "2026-11-05", "pending") == str(pending)
        assert page.evaluate("() => window.__consoleChart.data.labels.length") == 30
        assert page.evaluate("() => window.__consoleChart.data.datasets.length") == 2
        assert page.is_visible("#charges-numbers")
        assert page.locator("#charges-table-JPY").count() == 0
        shot(page, "console-charges", docs=True)

        page.select_option("#by", "month")
        page.click("#charges-form button.primary")
        page.wait_for_selector('#charges-table tr[data-key="2026-11"]')
        calls, inbound, outbound, _ = months["USD"]["rows"]["2026-11"]
        assert _cell(page, "2026-11", "total") == money(inbound + outbound)
        assert page.evaluate("() => window.__consoleChart.data.labels") == ["2026-11"]
        with page.expect_download() as download:
            page.click("#csv-cp932")
        text = Path(download.value.path()).read_bytes().decode("cp932")
        lines = text.splitlines()
        assert lines[0].startswith("月,コール数,着信の料金")
        assert lines[1].startswith(f"2026-11,{calls},{money(inbound)},{money(outbound)},")
        assert not console.errors, console.errors
    finally:
        console.close()
