"""The login policy set on the console over ``[auth]`` (SPEC AD-3): validation, stored values
over the file field by field, and every path that applies it — sign-in lock-out, password
changes (API, console user editor, ``cti user passwd``), idle logout."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from connector import clock as clock_ext
from connector import db
from connector.auth import accounts, policy
from connector.auth import tokens as token_mod
from connector.config import AuthSettings
from connector.console import store
from connector.console.guard import cookie_value, csrf_token
from connector.db import make_engine
from connector.schema import audit_log
from tests.connector.console.conftest import ConsoleUser
from tests.connector.test_auth import PASSWORD, add_agent, bearer, login
from tests.connector.test_cli import config_file, run  # noqa: F401

# -- validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "raw", "problem"), [
    ("lockout_minutes", "0", "from 1 to 1440, got 0"),
    ("lockout_minutes", "1441", "from 1 to 1440, got 1441"),
    ("password_min_length", "7", "from 8 to 128, got 7"),
    ("password_min_length", "129", "from 8 to 128"),
    ("password_expiry_days", "3651", "from 0 to 3650"),
    ("idle_logout_minutes", "-1", "from 0 to 1440"),
    ("max_failed_attempts", "101", "from 0 to 100"),
    ("access_token_minutes", "61", "from 1 to 60"),
    ("session_hours", "169", "from 1 to 168"),
    ("max_failed_attempts", "three", "a whole number from 0 to 100, got 'three'"),
    ("max_failed_attempts", True, "a whole number"),
    ("password_characters", "digits", "one of any, letters_digits, letters_digits_symbols"),
    ("forbid_password_reuse", "maybe", "true or false"),
])
def test_each_bad_value_is_refused_naming_its_field(name, raw, problem):
    with pytest.raises(policy.PolicyError) as excinfo:
        policy.validate({name: raw, "lockout_minutes" if name != "lockout_minutes"
                         else "session_hours": "12"})
    assert list(excinfo.value.problems) == [name]
    assert problem in excinfo.value.problems[name]


def test_bounds_are_accepted_and_empty_fields_left_out():
    assert policy.validate({"lockout_minutes": "1", "password_min_length": 128,
                            "password_expiry_days": "0", "idle_logout_minutes": "1440",
                            "max_failed_attempts": " 0 ", "password_characters": "any",
                            "forbid_password_reuse": "false", "session_hours": "",
                            "access_token_minutes": None}) == {
        "lockout_minutes": 1, "password_min_length": 128, "password_expiry_days": 0,
        "idle_logout_minutes": 1440, "max_failed_attempts": 0, "password_characters": "any",
        "forbid_password_reuse": False}


def test_every_problem_at_once_and_unknown_fields_named():
    with pytest.raises(policy.PolicyError) as excinfo:
        policy.validate({"lockout_minutes": "0", "password_min_length": "4", "colour": "red"})
    assert set(excinfo.value.problems) == {"lockout_minutes", "password_min_length", "colour"}


def test_the_ranges_are_the_configuration_files_own():
    for name, (low, high) in policy.AUTH_RANGES.items():
        for bad in (low - 1, high + 1):
            with pytest.raises(ValueError, match=name):
                AuthSettings(**{name: bad})
            with pytest.raises(policy.PolicyError):
                policy.validate({name: bad})


# -- stored over the file, cleared = the file again --------------------------------------------


def _save(app, value):
    with db.get_engine(app).begin() as conn:
        result = store.put(conn, policy.STORE_KEY, value, by=None, now=clock_ext.now(app))
    policy.forget(app)
    return result


def test_stored_fields_override_the_file_and_cleared_ones_follow_it_again(make_app):
    app = make_app(auth={"lockout_minutes": 20, "password_min_length": 12,
                         "forbid_password_reuse": True})
    assert policy.effective_policy(app) == app.config["CTI_SETTINGS"].auth  # nothing stored
    before, after = _save(app, {"lockout_minutes": "45", "forbid_password_reuse": "false"})
    assert (before, after) == ({}, {"lockout_minutes": 45, "forbid_password_reuse": False})
    effective = policy.effective_policy(app)
    assert effective.lockout_minutes == 45 and effective.forbid_password_reuse is False
    assert effective.password_min_length == 12  # not stored: the file's
    assert effective.throttle == app.config["CTI_SETTINGS"].auth.throttle
    _save(app, {"lockout_minutes": "", "forbid_password_reuse": "false"})
    effective = policy.effective_policy(app)
    assert effective.lockout_minutes == 20 and effective.forbid_password_reuse is False
    _save(app, {})
    assert policy.effective_policy(app) == app.config["CTI_SETTINGS"].auth


def test_other_processes_see_a_change_within_the_cache_time(make_app, monkeypatch):
    app = make_app()
    ticks = [1000.0]
    monkeypatch.setattr(policy.time, "monotonic", lambda: ticks[0])
    assert policy.effective_policy(app).lockout_minutes == 15
    with db.get_engine(app).begin() as conn:  # as another web instance saves it
        store.put(conn, policy.STORE_KEY, {"lockout_minutes": 30}, by=None,
                  now=clock_ext.now(app))
    ticks[0] += policy.CACHE_SECONDS - 0.1
    assert policy.effective_policy(app).lockout_minutes == 15  # cached: no read per request
    ticks[0] += 0.2
    assert policy.effective_policy(app).lockout_minutes == 30


def test_inside_a_held_connection_the_policy_is_never_read(make_app, monkeypatch):
    """The throttle decides on a lock while the sign-in holds a pooled connection: a stale
    policy is used as it is, since a second checkout deadlocks a busy pool."""
    app = make_app()
    ticks = [1000.0]
    monkeypatch.setattr(policy.time, "monotonic", lambda: ticks[0])
    assert policy.effective_policy(app).lockout_minutes == 15
    with db.get_engine(app).begin() as conn:
        store.put(conn, policy.STORE_KEY, {"lockout_minutes": 30}, by=None,
                  now=clock_ext.now(app))
    ticks[0] += policy.CACHE_SECONDS * 10
    checkouts = []
    monkeypatch.setattr(db.get_engine(app).pool, "connect",
                        lambda: checkouts.append(1) or pytest.fail("a second checkout"))
    assert policy.effective_policy(app, may_read=False).lockout_minutes == 15
    assert checkouts == []


def test_a_stored_value_an_older_release_allowed_is_ignored(make_app):
    app = make_app()
    with db.get_engine(app).begin() as conn:
        conn.execute(store.console_settings.insert().values(
            key=policy.STORE_KEY, value={"lockout_minutes": 0, "session_hours": 2},
            updated_at=clock_ext.now(app)))
    effective = policy.effective_policy(app)
    assert (effective.lockout_minutes, effective.session_hours) == (15, 2)


# -- the console screen and its API ------------------------------------------------------------


def test_the_screen_saves_audits_and_shows_field_errors(app):
    admin = ConsoleUser(app, "admin1", "admin")
    page = admin.get("/console/admin/login-policy").get_data(as_text=True)
    assert 'id="policy-form"' in page and "ロックまでの失敗回数" in page
    saved = admin.post("/console/admin/login-policy", data={
        "max_failed_attempts": "3", "lockout_minutes": "30", "password_characters": "any"},
        environ_base={"REMOTE_ADDR": "192.0.2.44"})
    assert saved.status_code == 302 and "saved=1" in saved.headers["Location"]
    assert policy.effective_policy(app).max_failed_attempts == 3
    with db.get_engine(app).connect() as conn:
        entry = conn.execute(select(audit_log).where(
            audit_log.c.action == "login_policy.update")).one()
    assert entry.actor == "admin1" and entry.ip == "192.0.2.44"
    assert entry.details == {"max_failed_attempts": {"from": "[auth] 5", "to": 3},
                             "lockout_minutes": {"from": "[auth] 15", "to": 30},
                             "password_characters": {"from": "[auth] letters_digits",
                                                     "to": "any"}}
    shown = admin.get("/console/admin/login-policy").get_data(as_text=True)
    assert 'value="30"' in shown and 'name="lockout_minutes"' in shown
    english = admin.get("/console/admin/login-policy?lang=en").get_data(as_text=True)
    assert "Lock-out minutes" in english and "Empty fields use [auth]" in english
    checks = admin.get("/console/checks").get_data(as_text=True)  # the policy in force
    assert re.search(r"<th[^>]*>lockout_minutes</th><td>30</td>", checks)
    assert 'id="policy-link"' in checks

    bad = admin.post("/console/admin/login-policy", data={"lockout_minutes": "0",
                                                          "password_min_length": "200"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'data-error-for="lockout_minutes"' in text and "from 1 to 1440, got 0" in text
    assert 'data-error-for="password_min_length"' in text and 'value="200"' in text
    assert policy.effective_policy(app).lockout_minutes == 30  # refused as a whole

    admin.post("/console/admin/login-policy", data={"lockout_minutes": ""})  # all cleared
    assert policy.effective_policy(app) == app.config["CTI_SETTINGS"].auth
    with db.get_engine(app).connect() as conn:
        assert conn.execute(select(audit_log.c.id).where(
            audit_log.c.action == "login_policy.update")).all().__len__() == 2


def test_the_json_api_reads_and_saves_with_the_same_rules(app):
    admin = ConsoleUser(app, "admin1", "admin")
    admin.get("/console/admin/login-policy")  # for its CSRF token
    state = admin.get("/console/api/login-policy").get_json()
    assert state["stored"] == {} and state["effective"]["lockout_minutes"] == 15
    assert state["ranges"]["lockout_minutes"] == [1, 1440]
    refused = admin.client.put("/console/api/login-policy", json={"idle_logout_minutes": 5000},
                               headers={"X-CSRF-Token": admin.csrf})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "invalid_fields"
    assert "idle_logout_minutes" in refused.get_json()["error"]["details"]["fields"]
    no_csrf = admin.client.put("/console/api/login-policy", json={"idle_logout_minutes": 30})
    assert no_csrf.status_code == 403
    done = admin.client.put("/console/api/login-policy", json={"idle_logout_minutes": 30},
                            headers={"X-CSRF-Token": admin.csrf})
    assert done.status_code == 200 and done.get_json()["effective"]["idle_logout_minutes"] == 30


def _console_cookie(app, user) -> str:
    """A validly signed console cookie, even for an agent (whom /console/session refuses);
    returns its CSRF token, so a refusal is the role's or permission's, not the token's."""
    with app.test_request_context():
        answer = login(user.client, username=user.agent.username).get_json()
        claims = token_mod.verify_access_token(answer["access_token"],
                                               secret=app.config["SECRET_KEY"],
                                               now=app.extensions["cti.clock"]())
        user.client.set_cookie("cti_console", cookie_value(claims.session_id, claims.agent_id),
                               path="/console")
        return csrf_token(claims.session_id)


@pytest.mark.parametrize(("role", "code"), [("agent", "console_needs_supervisor"),
                                            ("supervisor", "not_permitted")])
def test_agents_and_supervisors_are_refused_the_page_and_api(app, role, code):
    user = ConsoleUser(app, "user1", role)
    headers = {"X-CSRF-Token": _console_cookie(app, user)}
    for method, path in (("GET", "/console/admin/login-policy"),
                         ("POST", "/console/admin/login-policy"),
                         ("GET", "/console/api/login-policy"),
                         ("PUT", "/console/api/login-policy")):
        response = user.client.open(path, method=method, json={"lockout_minutes": 1},
                                    headers=headers)
        assert response.status_code == 403, (method, path)
        if "/api/" in path:
            assert response.get_json()["error"]["code"] == code
    assert policy.effective_policy(app).lockout_minutes == 15


# -- end to end: the changed policy is the one applied -----------------------------------------


def test_a_lower_lock_threshold_set_on_the_console_locks_after_that_many_failures(make_app,
                                                                                    clock):
    app = make_app()  # [auth] max_failed_attempts = 5 (the default)
    add_agent(app)
    admin = ConsoleUser(app, "admin1", "admin")
    assert admin.post("/console/admin/login-policy", data={
        "max_failed_attempts": "2", "lockout_minutes": "3"}).status_code == 302
    client = app.test_client()
    for address in ("192.0.2.1", "192.0.2.2"):  # two addresses: the throttle's rule
        assert login(client, password="Wrong-password-1", address=address).status_code == 401
    assert login(client, address="192.0.2.3").status_code == 401  # right password: locked
    with db.get_engine(app).connect() as conn:
        locked_until = accounts.find_agent(conn, "agent1").locked_until
    assert locked_until is not None
    clock.advance(minutes=3)  # the console's lock-out minutes, not the file's 15
    assert login(client, address="192.0.2.4").status_code == 200


def test_the_files_threshold_alone_would_not_have_locked(make_app):
    app = make_app()
    add_agent(app)
    client = app.test_client()
    for address in ("192.0.2.1", "192.0.2.2"):
        login(client, password="Wrong-password-1", address=address)
    assert login(client, address="192.0.2.3").status_code == 200


def test_a_longer_minimum_set_on_the_console_applies_to_every_password_change(make_app):
    app = make_app()  # [auth] password_min_length = 10
    add_agent(app)
    admin = ConsoleUser(app, "admin1", "admin")
    admin.post("/console/admin/login-policy", data={"password_min_length": "16"})
    client = app.test_client()
    token = login(client).get_json()["access_token"]
    short = client.post("/api/auth/password", headers={**bearer(token), "Accept-Language": "en"},
                        json={"current_password": PASSWORD, "new_password": "Twelve-char1"})
    assert short.status_code == 422 and "at least 16 characters" in str(short.get_json())
    with db.get_engine(app).connect() as conn:
        agent_id = accounts.find_agent(conn, "agent1").id
    editor = admin.post(f"/console/users/{agent_id}/password",
                        data={"new_password": "Fifteen-chars-1"})  # the console's user editor
    assert editor.status_code == 422 and "16" in editor.get_data(as_text=True)
    assert client.post("/api/auth/password", headers=bearer(token), json={
        "current_password": PASSWORD, "new_password": "Sixteen-chars-12"}).status_code == 200


def test_idle_logout_set_on_the_console_ends_api_and_console_sessions(make_app, clock):
    app = make_app()  # [auth] idle_logout_minutes = 120
    add_agent(app)
    admin = ConsoleUser(app, "admin1", "admin")
    admin.post("/console/admin/login-policy", data={"idle_logout_minutes": "10"})
    client = app.test_client()
    token = login(client).get_json()["access_token"]
    clock.advance(minutes=10)
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    assert admin.get("/console/admin/login-policy").status_code == 302  # to the sign-in page


def test_cti_user_passwd_applies_the_stored_minimum(run, config_file):  # noqa: F811
    run("db", "upgrade")
    assert run("user", "add", "agent7", "--name", "山田 太郎", "--password-stdin",
               input="Good-password-1\n").exit_code == 0
    url = config_file.read_text().split('database_url = "')[1].split('"')[0]
    engine = make_engine(url)
    with engine.begin() as conn:
        store.put(conn, policy.STORE_KEY, {"password_min_length": 20}, by=None,
                  now=datetime.now(UTC))
    engine.dispose()
    weak = run("--lang", "en", "user", "passwd", "agent7", "--password-stdin",
               input="Other-password-8\n")
    assert weak.exit_code == 1 and "at least 20 characters" in weak.output
    assert run("user", "passwd", "agent7", "--password-stdin",
               input="A-much-longer-password-20\n").exit_code == 0
