"""Browser tests of the softphone: Debian's Chromium driven by Playwright, against the real app.

The app runs on a loopback port (``LiveServer``); the Twilio Device is the fake in
``fake_device.js`` (the softphone's documented test switch ``window.__CTI_TEST_DEVICE__``),
except in the simulated-mode test, which uses the product's own simulated device.
Screenshots go to ``test-artifacts/softphone/`` (git-ignored). Chromium missing → skip, except
under ``CI=true`` → fail (``need_service``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need_service
from tests.connector.test_auth import PASSWORD, add_agent
from tests.fakes.server import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
FAKE_DEVICE = Path(__file__).with_name("fake_device.js")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "softphone"
#: The width of the Salesforce utility-bar panel the screenshots show (SPEC SF-2).
PANEL = {"width": 360, "height": 640}
TIMEOUT_MS = 10_000

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    need_service("Chromium", CHROMIUM.is_file(), f"{CHROMIUM}, Debian package chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Live:
    """The app on a real port, plus what tests need to set it up and look inside."""

    app: Any
    url: str
    browser: Any
    contexts: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def agent(self, username: str = "agent1", **kw: Any) -> Any:
        return add_agent(self.app, username=username, **kw)

    def context(self, *, fake_device: bool = True, **options: Any) -> Any:
        context = self.browser.new_context(viewport=PANEL, locale="ja-JP", **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.grant_permissions(["microphone"], origin=self.url)
        if fake_device:
            context.add_init_script(path=str(FAKE_DEVICE))
        self.contexts.append(context)
        return context

    def open(self, context: Any = None, query: str = "") -> Any:
        page = (context or self.context()).new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.goto(f"{self.url}/softphone/{query}")
        page.wait_for_selector("#app:not([hidden])")  # started: texts and state in place
        return page

    def sign_in(self, page: Any, username: str = "agent1", password: str = PASSWORD) -> Any:
        self.sign_in_without_waiting(page, username, password)
        wait_registered(page)
        return page

    def sign_in_without_waiting(self, page: Any, username: str = "agent1",
                                password: str = PASSWORD) -> None:
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("#signin-submit")


def wait_registered(page: Any) -> None:
    page.wait_for_selector('#registration[data-state="registered"]')


def state(page: Any) -> dict[str, Any]:
    return page.evaluate("window.__CTI_SOFTPHONE__.store.state")


def fake_log(page: Any) -> list[str]:
    return page.evaluate("window.__fake.log")


def wait_for(page: Any, script: str, arg: Any = None) -> Any:
    """Wait until ``script`` (a JS expression or arrow function) is truthy in the page."""
    return page.wait_for_function(script, arg=arg).json_value()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture
def live_factory(make_app, chromium) -> Iterator[Callable[..., Live]]:
    servers: list[LiveServer] = []
    lives: list[Live] = []

    def start(**sections: Any) -> Live:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server_section = {"public_base_url": url, **sections.pop("server", {})}
        app = make_app(server=server_section, **sections)
        server = LiveServer(app, port=port).start()
        servers.append(server)
        live = Live(app, url, chromium)
        lives.append(live)
        return live

    yield start
    for live in lives:
        for context in live.contexts:
            context.close()
        simulated = live.app.extensions.get("cti.simulated_mode")
        if simulated is not None:
            simulated.stop()
    for server in servers:
        server.stop()
    errors = [e for live in lives for e in live.errors]
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def live(live_factory) -> Live:
    return live_factory()
