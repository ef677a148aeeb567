"""The landing page and the guides in headless Chromium: they render under the strict CSP, and
every link of the landing page opens a working page. Screenshots go to test-artifacts/home/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need_service
from tests.fakes.server import LiveServer
from tests.softphone.browser.conftest import CHROMIUM, free_port

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "home"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_service("Chromium", CHROMIUM.is_file(), f"{CHROMIUM}, Debian package chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--headless", "--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def site(make_app) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = LiveServer(make_app(server={"public_base_url": url}), port=port).start()
    yield url
    server.stop()


@pytest.fixture
def page(browser, site) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="ja-JP")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
            if msg.type == "error" else None)
    page.problems = problems
    yield page
    context.close()


def test_landing_page_renders_and_every_link_works(page, site):
    page.goto(site + "/")
    assert page.locator("h1").inner_text() == "cti-connector"
    assert page.locator("html").get_attribute("lang") == "ja"
    # crm.css and home.css applied (the CSP allows only same-origin styles): tiles are a grid.
    assert page.locator(".tiles").evaluate("e => getComputedStyle(e).display") == "grid"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "landing-page.png"), full_page=True)
    assert page.problems == []  # the pages linked have their own tests (the CRM's 401 …)

    links = page.locator(".tiles h2 a")
    targets = [(links.nth(i).inner_text(), links.nth(i).get_attribute("href"))
               for i in range(links.count())]
    assert [href for _, href in targets] == ["/softphone/", "/crm/customers", "/docs/", "/healthz"]
    for text, href in targets:
        page.goto(site + "/")
        with page.expect_navigation() as navigation:
            page.get_by_role("link", name=text, exact=True).last.click()
        response = navigation.value
        assert response.status == 200, (href, response.status)
        assert page.url == site + href
    assert page.locator("body").inner_text().strip().startswith("{")  # /healthz: JSON


def test_english_and_the_guides(page, site):
    page.goto(site + "/")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**/?lang=en")
    assert page.locator(".tiles h2").first.inner_text() == "Softphone"
    page.get_by_role("link", name="Documentation").last.click()
    page.get_by_role("link", name="The softphone").click()
    page.wait_for_url("**/docs/softphone")
    assert page.locator("article h1").inner_text() == "The softphone"
    page.get_by_role("link", name="Phone numbers, dialling rules and number lists").click()
    page.wait_for_url("**/docs/numbering")
    assert page.locator("article table").count() >= 3
    page.goto(site + "/docs/softphone")  # the guide with the softphone's screenshot
    images = page.locator("article img")
    assert images.count() >= 1
    for index in range(images.count()):
        assert images.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
    page.screenshot(path=str(ARTIFACTS / "guide.png"))
    assert page.problems == []
