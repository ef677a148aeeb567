"""The groups screen in real headless Chromium: a group made with two members and their skill
levels, a missing overflow target refused next to its field, the change in the audit log, and
agents refused the page and its API."""

from __future__ import annotations

import pytest

from connector import db
from connector.voice import groups
from tests.connector.console.test_browser import chromium, console_factory, shot  # noqa: F401
from tests.connector.test_auth import add_agent, console_cookie

pytestmark = pytest.mark.browser


def test_admin_makes_a_group_and_sees_field_errors(make_app, console_factory):  # noqa: F811
    app = make_app()
    add_agent(app, "admin1", role="admin", display_name="管理 太郎")
    add_agent(app, "sato", display_name="佐藤 花子")
    add_agent(app, "ito", display_name="伊藤 健")
    console = console_factory(app)
    page = console.signed_in(console.sign_in(console.page(), "admin1",
                                             path="/console/admin/groups"))
    page.wait_for_selector("#groups-table tbody td")
    page.fill("#g-name", "support")
    page.fill("#g-display", "サポート窓口")
    for username in ("sato", "ito"):
        page.select_option("#member-choice", username)
        page.click("#member-add")
    page.fill('input[name="skills.ito"]', "2")
    page.select_option("#s-strategy", "skill")
    page.fill("#s-max_waiting", "3")
    page.select_option("#s-overflow", "group")
    page.fill('input[name="settings.overflow.value"]', "ghost")
    page.fill("#s-whisper", "サポート窓口のお電話です")
    page.click("#group-save")
    error = page.wait_for_selector('[data-error-for="settings.overflow"]')
    assert "ghost" in error.inner_text()
    assert page.get_attribute("#s-overflow", "aria-invalid") == "true"
    with db.get_engine(app).connect() as conn:
        assert groups.get_group(conn, "support") is None  # refused as a whole
    shot(page, "console-groups-error", docs=True)

    page.select_option("#s-overflow", "voicemail")
    page.fill('input[name="settings.overflow.value"]', "")
    page.click("#group-save")
    page.wait_for_selector('#groups-table tr[data-group="support"]')
    assert page.inner_text('tr[data-group="support"] [data-col="members"]') == "sato:1, ito:2"
    assert page.inner_text('tr[data-group="support"] [data-col="overflow"]') == "voicemail"
    with db.get_engine(app).connect() as conn:
        saved = groups.get_group(conn, "support")
    assert saved.settings["strategy"] == "skill" and saved.settings["max_waiting"] == 3
    assert saved.settings["whisper"] == "サポート窓口のお電話です"
    assert dict(zip(saved.members, saved.skills, strict=True)) == {"sato": 1, "ito": 2}

    page.click('button[data-edit="support"]')
    page.fill("#s-ring_seconds", "2")
    page.click("#group-save")
    assert "5" in page.wait_for_selector('[data-error-for="settings.ring_seconds"]').inner_text()
    page.fill("#s-ring_seconds", "15")
    page.click("#group-save")
    page.wait_for_selector("#groups-status.status")
    page.click('button[data-edit="support"]')  # the saved group back in the form
    assert page.input_value('input[name="skills.ito"]') == "2"
    assert page.input_value("#s-ring_seconds") == "15"
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "console-groups", docs=True)

    page.goto(f"{console.url}/console/audit")
    log = page.inner_text("main")
    assert "group.create" in log and "group.update" in log
    assert page.is_visible("#settings-menu summary")


def test_agents_get_403_on_the_groups_page_and_api(make_app, console_factory):  # noqa: F811
    app = make_app()
    add_agent(app, "agent1")
    console = console_factory(app)
    page = console.sign_in(console.page(), "agent1", path="/console/admin/groups")
    page.wait_for_load_state("networkidle")
    assert "/console/login" in page.url  # the console gave an agent no session
    # A validly signed console cookie for the agent anyway: the role check still refuses.
    value = console_cookie(app, app.test_client(), "agent1")
    page.context.add_cookies([{"name": "cti_console", "value": value,
                               "url": f"{console.url}/console"}])
    assert page.goto(f"{console.url}/console/admin/groups").status == 403
    for method, path in (("GET", "acd/groups"), ("POST", "acd/groups"),
                         ("PATCH", "acd/groups/support"), ("DELETE", "admin/groups/support")):
        status = page.evaluate("""async ([method, path]) => (await fetch('/console/api/' + path,
            {method, headers: {'Content-Type': 'application/json'}, body: method === 'GET'
             ? undefined : '{}'})).status""", [method, path])
        assert status == 403, (method, path)
