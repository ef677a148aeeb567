"""Who reaches the console: supervisors and admins; agents get 403 on every page and API."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.connector.test_auth import bearer, console_cookie, login


def console_routes(app: Flask) -> list[tuple[str, str]]:
    """Every console URL (with sample ids) and its methods, from the app's own URL map."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/console") or rule.endpoint in (
                "console.login_page", "console.session", "console.start_session",
                "console.static", "console.chart_js", "console.index"):
            continue
        path = rule.rule.replace("<int:agent_id>", "1").replace("<call_sid>", "CA1").replace(
            "<int:campaign_id>", "1")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


def test_an_agent_gets_403_on_every_console_page_and_api(app, console_user):
    agent = console_user(app, "agent1", "agent")
    assert agent.session_response.status_code == 403  # no console cookie for agents
    assert "cti_console" not in agent.session_response.headers.get("Set-Cookie", "")
    routes = console_routes(app)
    assert len(routes) >= 20
    # Give the agent a validly signed console cookie anyway: the role check still refuses.
    value = console_cookie(app, agent.client, "agent1")
    agent.client.set_cookie("cti_console", value, path="/console")
    for method, path in routes:
        response = agent.client.open(path, method=method, headers={"X-CSRF-Token": "x"})
        assert response.status_code == 403, (method, path, response.status_code)


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_sign_in_and_see_the_menu(app, console_user, role):
    user = console_user(app, "boss1", role)
    assert user.session_response.status_code == 200
    cookie = user.session_response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    page = user.get("/console/history")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "通話履歴" in text and 'lang="ja"' in text
    assert ("権限設定" in text) == (role == "admin")
    english = user.get("/console/history?lang=en").get_data(as_text=True)
    assert "Call history" in english and 'lang="en"' in english


def test_without_a_cookie_pages_redirect_to_sign_in_and_apis_answer_401(client):
    page = client.get("/console/stats")
    assert page.status_code == 302 and "/console/login" in page.headers["Location"]
    assert client.get("/console/api/board").status_code == 401
    assert client.get("/console/login").status_code == 200


def test_a_supervisor_may_not_open_admin_screens_by_default(app, console_user):
    sv = console_user(app, "sv1", "supervisor")
    for path in ("/console/permissions", "/console/security", "/console/audit"):
        assert sv.get(path).status_code == 403, path
    assert sv.get("/console/users").status_code == 200  # view only
    assert sv.post("/console/users/new", data={"username": "x"}).status_code == 403


def test_posts_without_the_csrf_token_are_refused(app, console_user):
    admin = console_user(app, "admin1", "admin")
    response = admin.post("/console/permissions", data={"cell": []}, csrf=False)
    assert response.status_code == 403
    assert admin.post("/console/permissions", data={"cell": []}).status_code == 302


def test_a_signed_out_console_session_is_refused(app, console_user):
    admin = console_user(app, "admin1", "admin")
    assert admin.get("/console/users").status_code == 200
    assert admin.post("/console/logout").status_code == 302
    assert admin.client.get("/console/api/board").status_code == 401


def test_sign_in_redirect_stays_inside_the_console(app, console_user):
    admin = console_user(app, "admin1", "admin")
    tokens = login(admin.client, username="admin1").get_json()
    for target, expected in (("/console/stats", "/console/stats"),
                             ("https://evil.example/", "/console/"),
                             ("//evil.example/console/", "/console/")):
        answer = admin.client.post(f"/console/session?next={target}",
                                   headers=bearer(tokens["access_token"])).get_json()
        assert answer["next"] == expected
