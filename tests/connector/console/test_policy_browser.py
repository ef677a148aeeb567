"""The login-policy screen in real headless Chromium: reached from the 「設定」 menu, a value out
of range refused next to its field, the change saved and in force, shown in the audit log, and
agents refused the page and its API."""

from __future__ import annotations

import pytest

from connector.auth import policy
from tests.connector.console.test_browser import chromium, console_factory, shot  # noqa: F401
from tests.connector.test_auth import add_agent, console_cookie

pytestmark = pytest.mark.browser


def test_admin_changes_the_login_policy_and_finds_it_in_the_audit_log(make_app,
                                                                      console_factory):  # noqa: F811
    app = make_app()
    add_agent(app, "admin1", role="admin", display_name="管理 太郎")
    console = console_factory(app)
    page = console.signed_in(console.sign_in(console.page(), "admin1"))
    page.click("#settings-menu summary")
    page.click('#settings-menu a[href="/console/admin/login-policy"]')
    page.wait_for_selector("#policy-form")
    assert page.get_attribute("#p-lockout_minutes", "placeholder") == "15"  # the file's value

    page.fill("#p-lockout_minutes", "0")
    page.fill("#p-max_failed_attempts", "3")
    page.click("#policy-save")
    error = page.wait_for_selector('[data-error-for="lockout_minutes"]')
    assert "1 to 1440" in error.inner_text()
    assert page.get_attribute("#p-lockout_minutes", "aria-invalid") == "true"
    assert page.input_value("#p-max_failed_attempts") == "3"  # what was typed is kept
    assert policy.effective_policy(app).max_failed_attempts == 5  # refused as a whole

    page.fill("#p-lockout_minutes", "30")
    page.fill("#p-password_min_length", "12")
    page.select_option("#p-password_characters", "letters_digits_symbols")
    page.select_option("#p-forbid_password_reuse", "true")
    page.click("#policy-save")
    page.wait_for_selector("#saved")
    row = 'tr[data-field="lockout_minutes"]'
    assert page.inner_text(f'{row} td[data-col="effective"]').startswith("30")
    assert page.inner_text(f'{row} td[data-col="config"]') == "15"
    assert page.locator("tr[data-stored]").count() == 5
    effective = policy.effective_policy(app)
    assert (effective.max_failed_attempts, effective.lockout_minutes,
            effective.password_min_length, effective.password_characters) == (
        3, 30, 12, "letters_digits_symbols")
    shot(page, "console-login-policy", docs=True)

    page.goto(f"{console.url}/console/audit?action=login_policy")
    entry = page.locator("main table tbody tr").first
    text = entry.inner_text()
    assert "login_policy.update" in text and "admin1" in text
    assert "lockout_minutes" in text and "[auth] 15" in text and "30" in text

    page.goto(f"{console.url}/console/admin/login-policy")
    page.fill("#p-lockout_minutes", "")  # cleared: the file's value again
    page.click("#policy-save")
    page.wait_for_selector("#saved")
    assert page.inner_text(f'{row} td[data-col="effective"]').strip() == "15"
    assert policy.effective_policy(app).lockout_minutes == 15


def test_agents_get_403_on_the_login_policy_page_and_api(make_app, console_factory):  # noqa: F811
    app = make_app()
    add_agent(app, "agent1")
    console = console_factory(app)
    page = console.sign_in(console.page(), "agent1", path="/console/admin/login-policy")
    page.wait_for_load_state("networkidle")
    assert "/console/login" in page.url  # the console gave an agent no session
    value = console_cookie(app, app.test_client(), "agent1")
    page.context.add_cookies([{"name": "cti_console", "value": value,
                               "url": f"{console.url}/console"}])
    assert page.goto(f"{console.url}/console/admin/login-policy").status == 403
    for method in ("GET", "PUT"):
        status = page.evaluate("""async (method) => (await fetch('/console/api/login-policy',
            {method, headers: {'Content-Type': 'application/json'},
             body: method === 'GET' ? undefined : '{"lockout_minutes": 1}'})).status""", method)
        assert status == 403, method
    assert policy.effective_policy(app).lockout_minutes == 15
