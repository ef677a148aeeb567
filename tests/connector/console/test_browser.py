"""The console in real headless Chromium: the board following simulated calls, statistics with
their chart, the user editor, the audit log, the allowlist and agents kept out.

Screenshots of the board, a statistics page and the user editor go to docs/images/ (the docs
show them); the others to test-artifacts/console/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from connector import db
from connector.voice import groups
from tests.conftest import need_service
from tests.connector.console.seed import insert_calls, month_of_calls, seed_people
from tests.connector.test_auth import PASSWORD, add_agent
from tests.connector.voice.conftest import NUMBER, make_env
from tests.fakes.server import LiveServer
from tests.softphone.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS
from voice.simulator import CallerScript, answers, no_answer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
DOCS_IMAGES = ROOT / "docs" / "images"
ARTIFACTS = ROOT / "test-artifacts" / "console"
SCREEN = {"width": 1280, "height": 860}
VOICE_PASSWORD = "Correct-horse-42"  # the voice test environment's accounts


class Console:
    def __init__(self, app: Any, browser: Any) -> None:
        self.app = app
        self.server = LiveServer(app).start()
        self.url = self.server.url
        self.browser = browser
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def page(self, **options: Any) -> Any:
        context = self.browser.new_context(viewport=SCREEN, locale="ja-JP", **options)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def sign_in(self, page: Any, username: str, password: str = PASSWORD,
                path: str = "/console/") -> Any:
        page.goto(f"{self.url}{path}")
        page.wait_for_selector("#signin-form")
        page.fill("#username", username)
        page.fill("#password", password)
        page.click("#signin-submit")
        return page

    @staticmethod
    def signed_in(page: Any) -> Any:
        """Wait until the sign-in page has gone (a glob on the URL would match its ?next=)."""
        page.wait_for_url(lambda url: "/console/login" not in url)
        page.wait_for_selector("#who")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """This module's own browser, closed with the module: one sync Playwright per process at a
    time, so the softphone tests' session-wide one can start after it."""
    need_service("Chromium", CHROMIUM.is_file(), f"{CHROMIUM}, Debian package chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_factory(chromium) -> Iterator[Any]:
    made: list[Console] = []

    def start(app: Any) -> Console:
        made.append(Console(app, chromium))
        return made[-1]

    yield start
    errors = [e for c in made for e in c.errors]
    for console in made:
        console.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def shot(page: Any, name: str, docs: bool = False) -> Path:
    folder = DOCS_IMAGES if docs else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=docs)
    return path


def _cell(page: Any, group: str, column: str) -> str:
    return page.inner_text(f'#groups-table tr[data-group="{group}"] td[data-col="{column}"]')


def _wait_cell(page: Any, group: str, column: str, value: str) -> None:
    page.wait_for_function(
        "([g, c, v]) => document.querySelector(`#groups-table tr[data-group=\"${g}\"] "
        "td[data-col=\"${c}\"]`)?.textContent === v", arg=[group, column, value])


def test_a_supervisor_watches_the_board_while_20_calls_come_in(tmp_path, sqlite_url, redis_url,
                                                               console_factory):
    env = make_env(tmp_path, sqlite_url, queue={"redis_url": redis_url})
    names = ("ito", "kato", "sato")
    for name in names:
        env.add_agent(name)
    env.add_agent("boss", role="supervisor", available=False)
    with db.get_engine(env.app).begin() as conn:
        groups.save_group(conn, "support", display_name="サポート", members=list(names),
                          now=env.now)
    env.add_number(NUMBER, "group:support")
    console = console_factory(env.app)
    page = console.sign_in(console.page(), "boss", VOICE_PASSWORD)
    console.signed_in(page)
    _wait_cell(page, "all", "calls", "0")
    assert _cell(page, "all", "online") == "3/3"

    answered_by: dict[str, int] = dict.fromkeys(names, 0)
    for n in range(14):  # answered, taking turns
        taker = names[n % 3]
        for name in names:
            env.sim.on_client(name, answers(after=2, hangup_after=30) if name == taker
                              else no_answer())
        call = env.sim.place_inbound_call(f"+8190{20000000 + n}", NUMBER)
        env.sim.run_until_idle()
        assert call.answered_by == f"client:{taker}"
        answered_by[taker] += 1
        if n == 6:  # the board follows while calls are still coming
            _wait_cell(page, "all", "calls", "7")
    for name in names:
        env.sim.on_client(name, no_answer())
    for n in range(6):  # the caller gives up while it rings: abandoned
        env.sim.place_inbound_call(f"+8180{20000000 + n}", NUMBER,
                                   caller=CallerScript(hangup_after=8))
        env.sim.run_until_idle()

    _wait_cell(page, "all", "calls", "20")
    # A snapshot taken while the last caller was still ringing counts the call but not yet its
    # outcome; the next one (within the refresh interval) has it.
    _wait_cell(page, "all", "abandoned", "6")
    row = page.locator("#groups-table tbody tr").nth(1)
    assert row.get_attribute("data-group") != "all"
    for group in ("all", row.get_attribute("data-group")):
        assert _cell(page, group, "answered") == "14"
        assert _cell(page, group, "abandoned") == "6"
        assert _cell(page, group, "answer_rate") == "70%"
    for name, count in answered_by.items():
        assert page.inner_text(f'#agents-table tr[data-agent="{name}"] '
                               'td[data-col="today_calls"]') == str(count)
    chart = page.evaluate("() => { const d = window.__boardChart.data.datasets; "
                          "return {rate: d[0].data, calls: d[1].data}; }")
    assert sum(chart["calls"]) == 20
    rates = [r for r in chart["rate"] if r is not None]
    assert rates and all(0 <= r <= 100 for r in rates)

    # The supervisor pauses kato from the board; the status shows on the next poll.
    page.locator('#agents-table tr[data-agent="kato"] select').select_option("paused")
    page.wait_for_selector('#agents-table tr[data-agent="kato"] [data-status="paused"]')
    _wait_cell(page, "all", "paused", "1")
    shot(page, "console-board", docs=True)


def _seed_month(app: Any, clock: Any) -> None:
    with db.get_engine(app).begin() as conn:
        agent_ids, group_ids = seed_people(conn, clock.current)
        insert_calls(conn, month_of_calls(2026, 11, agent_ids, group_ids, count=900))


def test_statistics_page_with_chart_and_downloads(make_app, clock, console_factory):
    app = make_app()
    clock.current = clock.current + timedelta(days=12)  # 2026-12-02: November is complete
    _seed_month(app, clock)
    add_agent(app, "sv1", role="supervisor", display_name="高橋 美咲")
    console = console_factory(app)
    page = console.sign_in(console.page(), "sv1", path="/console/stats")
    console.signed_in(page)
    page.fill("#from", "2026-11-01")
    page.fill("#to", "2026-11-30")
    page.select_option("#group", label="グループ0")
    page.click("form.search button.primary")
    page.wait_for_selector("#stats-table tbody tr:nth-child(30)")
    assert page.evaluate("() => window.__consoleChart.data.labels.length") == 30
    total = page.inner_text('#stats-table tfoot td[data-col="calls"]')
    assert int(total) > 100
    with page.expect_download() as download:
        page.click("#csv-cp932")
    text = Path(download.value.path()).read_bytes().decode("cp932")
    assert text.splitlines()[-1].startswith(f"合計,{total},")
    shot(page, "console-statistics", docs=True)


def test_the_user_editor_changes_a_user_and_the_audit_log_shows_it(app, clock,
                                                                   console_factory):
    add_agent(app, "admin1", role="admin", display_name="管理 太郎")
    person = add_agent(app, "agent7", display_name="佐藤 花子", extension="107")
    now = clock.current
    with db.get_engine(app).begin() as conn:
        from connector.schema import agent_groups
        from connector.voice import numbers
        from connector.voice.numbers import NumberChanges, Route

        for name, label in (("sales", "営業"), ("support", "サポート")):
            conn.execute(insert(agent_groups).values(name=name, display_name=label,
                                                     created_at=now, updated_at=now))
        numbers.save_number(conn, "+81312345678", NumberChanges(
            label="代表", route=Route.parse("voicemail")), now=now)
        support = conn.execute(select(agent_groups.c.id).where(
            agent_groups.c.name == "support")).scalar_one()
    console = console_factory(app)
    page = console.sign_in(console.page(), "admin1", path=f"/console/users/{person.id}")
    page.wait_for_selector("#user-form")
    page.fill("#nickname", "はなちゃん")
    page.fill("#extension", "207")
    page.select_option("#role", "supervisor")
    page.check("text=サポート")
    page.select_option(f"#skill-{support}", "2")
    page.check('.caller-id-row[data-number="+81312345678"] input[name="default_caller_id"]')
    page.click("#save-user")
    page.wait_for_selector("#saved")
    assert page.input_value("#extension") == "207"
    assert page.input_value(f"#skill-{support}") == "2"
    assert page.is_checked('.caller-id-row[data-number="+81312345678"] '
                           'input[name="caller_ids"]')  # the default is allowed too
    assert "user.update" in page.inner_text("#user-history")
    assert page.inner_text("#pin-state") == "未設定"
    page.fill("#pin", "1234")  # a run: refused, the field named
    page.click("#set-pin")
    assert "連番" in page.wait_for_selector("#pin-error").inner_text()
    page.fill("#pin", "2580")
    page.click("#set-pin")
    page.wait_for_selector("#saved")
    assert page.inner_text("#pin-state") == "設定済み"
    assert "user.pin_set" in page.inner_text("#user-history")
    shot(page, "console-user-editor", docs=True)
    page.goto(f"{console.url}/console/audit")
    audit = page.inner_text("#audit-table")
    assert "user.update" in audit and "user:agent7" in audit and "207" in audit
    assert "sign_in" in audit and "127.0.0.1" in audit


def test_an_agent_is_refused_and_an_address_outside_the_allowlist_too(make_app,
                                                                      console_factory):
    app = make_app(console={"trusted_proxies": ["127.0.0.1/32"]})
    add_agent(app, "agent1")
    add_agent(app, "admin1", role="admin")
    console = console_factory(app)
    page = console.sign_in(console.page(), "agent1")
    page.wait_for_selector("#signin-error:not(:empty)")
    assert "スーパーバイザー" in page.inner_text("#signin-error")
    for path in ("/console/board", "/console/users", "/console/api/board"):
        response = page.goto(f"{console.url}{path}")
        assert response.url.endswith("/console/login?next=" + path) or response.status in (
            401, 403), path

    admin = console.sign_in(console.page(), "admin1", path="/console/security")
    admin.wait_for_selector("#security-form")
    admin.fill("#admin", "192.0.2.0/24")
    admin.click("#save-security")
    admin.wait_for_load_state()
    response = admin.goto(f"{console.url}/console/users")
    assert response.status == 403
    assert "IPアドレス制限" in admin.inner_text("#denied")
    elsewhere = console.page(extra_http_headers={"X-Forwarded-For": "192.0.2.10"})
    ok = elsewhere.goto(f"{console.url}/console/login")
    assert ok.status == 200
    assert re.search("サインイン", elsewhere.inner_text("h1"))


SCREENS = ("/console/board", "/console/history", "/console/stats", "/console/stats/numbers",
           "/console/stats/charges?from=2026-11-01&to=2026-11-30",
           "/console/stats/status", "/console/users", "/console/users/new",
           "/console/stop-statuses", "/console/permissions", "/console/audit",
           "/console/security", "/console/checks?run=1")


def test_every_screen_opens_for_an_admin_in_both_languages(make_app, clock, console_factory):
    app = make_app()
    _seed_month(app, clock)
    add_agent(app, "admin1", role="admin", display_name="管理 太郎")
    console = console_factory(app)
    page = console.signed_in(console.sign_in(console.page(), "admin1"))
    for lang, word in (("ja", "サインアウト"), ("en", "Sign out")):
        for path in SCREENS:
            separator = "&" if "?" in path else "?"
            response = page.goto(f"{console.url}{path}{separator}lang={lang}")
            assert response.status == 200, path
            assert page.locator("html").get_attribute("lang") == lang
            assert word in page.inner_text("header"), path
            shot(page, f"{lang}{path.replace('/', '-').split('?')[0]}")
    # The language stays chosen (cookie) on the next page without ?lang.
    page.goto(f"{console.url}/console/history")
    assert page.locator("html").get_attribute("lang") == "en"
