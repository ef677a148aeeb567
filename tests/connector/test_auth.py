"""Agent accounts and bearer-token authentication (SPEC AD-1, AD-3)."""

from datetime import timedelta

import jwt
import pytest
from flask import Blueprint, jsonify

from connector import clock as clock_ext
from connector import db
from connector.auth import accounts, require_auth
from connector.auth.tokens import issue_access_token
from tests.conftest import TEST_SECRET_KEY

PASSWORD = "Correct-horse-42"


def add_agent(app, username="agent1", password=PASSWORD, role="agent", **kw):
    with db.get_engine(app).begin() as conn:
        return accounts.create_agent(
            conn, username=username, display_name=kw.pop("display_name", "佐藤 花子"),
            password=password, policy=app.config["CTI_SETTINGS"].auth,
            now=clock_ext.now(app), role=role, **kw)


def login(client, username="agent1", password=PASSWORD, address="127.0.0.1"):
    return client.post("/api/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def console_cookie(app, client, username):
    """A validly signed console cookie for ``username``'s new session (agents included: the
    console never gives them one, so tests forge it to show the role check still refuses)."""
    from connector.auth import tokens
    from connector.console.guard import cookie_value

    with app.test_request_context():
        answer = login(client, username=username).get_json()
        claims = tokens.verify_access_token(answer["access_token"],
                                            secret=app.config["SECRET_KEY"],
                                            now=app.extensions["cti.clock"]())
        return cookie_value(claims.session_id, claims.agent_id)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth_app(any_db_app):
    add_agent(any_db_app)
    return any_db_app


def test_login_returns_short_lived_bearer_token(auth_app):
    client = auth_app.test_client()
    response = login(client)
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert body["agent"]["username"] == "agent1" and "password_hash" not in body["agent"]
    assert "Set-Cookie" not in response.headers  # third-party iframes block cookies anyway
    me = client.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.get_json()["agent"]["display_name"] == "佐藤 花子"


def test_username_is_case_insensitive(auth_app):
    assert login(auth_app.test_client(), username="Agent1").status_code == 200


def test_failures_never_reveal_whether_account_exists(auth_app):
    add_agent(auth_app, username="gone")
    with db.get_engine(auth_app).begin() as conn:
        accounts.set_active(conn, accounts.find_agent(conn, "gone"), False,
                            clock_ext.now(auth_app))
    client = auth_app.test_client()
    wrong = login(client, password="Wrong-password-1")
    unknown = login(client, username="nobody")
    disabled = login(client, username="gone")
    assert wrong.status_code == unknown.status_code == disabled.status_code == 401
    assert wrong.get_json() == unknown.get_json() == disabled.get_json()


def test_lockout_after_n_failures_and_unlock_after_m_minutes(make_app, database_url, clock):
    app = make_app(database_url=database_url,
                   auth={"max_failed_attempts": 3, "lockout_minutes": 10})
    add_agent(app)
    client = app.test_client()
    # The lock needs failures from two addresses or more (issue 17): one alone never locks.
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.1"):
        assert login(client, password="Wrong-password-1", address=address).status_code == 401
    locked = login(client, address="192.0.2.3")  # the right password, but locked
    assert locked.status_code == 401
    assert locked.get_json() == login(client, username="nobody").get_json()
    clock.advance(minutes=9, seconds=59)
    assert login(client, address="192.0.2.4").status_code == 401
    clock.advance(seconds=1)
    assert login(client, address="192.0.2.5").status_code == 200


def test_one_address_alone_never_locks_the_account(make_app, clock):
    app = make_app(auth={"max_failed_attempts": 3, "throttle": {
        "per_account_address": "50/minute"}})
    add_agent(app)
    client = app.test_client()
    for _ in range(10):
        assert login(client, password="Wrong-password-1", address="192.0.2.9").status_code == 401
    assert login(client, address="198.51.100.7").status_code == 200  # the agent, elsewhere
    with db.get_engine(app).connect() as conn:
        assert accounts.find_agent(conn, "agent1").locked_until is None


def test_lock_off_when_policy_says_zero(make_app, clock):
    app = make_app(auth={"max_failed_attempts": 0})
    add_agent(app)
    client = app.test_client()
    for index in range(8):
        login(client, password="Wrong-password-1", address=f"192.0.2.{index + 1}")
    assert login(client, address="198.51.100.7").status_code == 200


def test_success_resets_failure_count(make_app, clock):
    app = make_app(auth={"max_failed_attempts": 3})
    add_agent(app)
    client = app.test_client()
    for _ in range(2):
        login(client, password="Wrong-password-1")
    assert login(client).status_code == 200
    for _ in range(2):
        login(client, password="Wrong-password-1")
    assert login(client).status_code == 200  # 2 + 2 failures never reached 3 in a row


def test_expired_token_refused(auth_app, clock):
    client = auth_app.test_client()
    token = login(client).get_json()["access_token"]
    clock.advance(minutes=14)
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200
    clock.advance(minutes=1)
    response = client.get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "unauthorized" and "token expired" in error["details"]["message_en"]


def test_forged_tokens_refused(auth_app, clock):
    client = auth_app.test_client()
    good = login(client).get_json()["access_token"]
    payload = jwt.decode(good, options={"verify_signature": False})
    forged_key = jwt.encode(payload, "another-secret-" + "y" * 32, algorithm="HS256")
    none_alg = jwt.encode(payload, None, algorithm="none")
    tampered = jwt.encode({**payload, "role": "admin", "sub": "999"}, "wrong-key" * 5,
                          algorithm="HS256")
    head, body, sig = good.split(".")
    swapped_sig = ".".join([head, body, sig[::-1]])
    for token in (forged_key, none_alg, tampered, swapped_sig, "garbage", good + "x"):
        response = client.get("/api/auth/me", headers=bearer(token))
        assert response.status_code == 401, token


def test_token_for_unknown_session_refused(auth_app, clock):
    with db.get_engine(auth_app).connect() as conn:
        agent_id = accounts.find_agent(conn, "agent1").id
    token = issue_access_token(secret=TEST_SECRET_KEY, agent_id=agent_id,
                               session_id="f" * 32, role="admin", now=clock(),
                               lifetime=timedelta(minutes=5))
    response = auth_app.test_client().get("/api/auth/me", headers=bearer(token))
    assert response.status_code == 401


def test_missing_or_malformed_header(auth_app):
    client = auth_app.test_client()
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_refresh_rotates_and_reuse_ends_session(auth_app):
    client = auth_app.test_client()
    first = login(client).get_json()
    second = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    new = second.get_json()
    assert new["refresh_token"] != first["refresh_token"]
    replay = client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # The replay ended the session: the legitimate new tokens stop working too.
    assert client.post("/api/auth/refresh",
                       json={"refresh_token": new["refresh_token"]}).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(new["access_token"])).status_code == 401


def test_idle_logout(auth_app, clock):
    client = auth_app.test_client()
    tokens = login(client).get_json()
    clock.advance(minutes=121)
    response = client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 401
    assert "inactivity" in response.get_json()["error"]["details"]["message_en"]


def test_logout_and_disable_take_effect_at_once(auth_app):
    client = auth_app.test_client()
    token = login(client).get_json()["access_token"]
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401
    token = login(client).get_json()["access_token"]
    with db.get_engine(auth_app).begin() as conn:
        accounts.set_active(conn, accounts.find_agent(conn, "agent1"), False,
                            clock_ext.now(auth_app))
    assert client.get("/api/auth/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("characters, password, problem", [
    ("any", "short1", "at least 10 characters"),
    ("letters_digits", "onlyletters-here", "both letters and digits"),
    ("letters_digits_symbols", "Letters12345", "must contain a symbol"),
    ("any", "xxagent2xxxx", "must not contain the user ID"),
])
def test_password_policy(make_app, characters, password, problem):
    app = make_app(auth={"password_characters": characters})
    with pytest.raises(accounts.PasswordRejected) as excinfo:
        add_agent(app, username="agent2", password=password)
    assert any(problem in p.en for p in excinfo.value.problems), excinfo.value.problems


def test_password_change_refuses_previous_password(auth_app):
    client = auth_app.test_client()
    token = login(client).get_json()["access_token"]
    same = client.post("/api/auth/password", headers={**bearer(token), "Accept-Language": "en"},
                       json={"current_password": PASSWORD, "new_password": PASSWORD})
    assert same.status_code == 422
    assert "differ from the previous password" in str(same.get_json())
    changed = client.post("/api/auth/password", headers=bearer(token),
                          json={"current_password": PASSWORD, "new_password": "New-password-77"})
    assert changed.status_code == 200
    new_token = changed.get_json()["access_token"]
    back = client.post("/api/auth/password", headers=bearer(new_token),
                       json={"current_password": "New-password-77", "new_password": PASSWORD})
    assert back.status_code == 422  # the previous one, too
    assert login(client, password="New-password-77").status_code == 200


def test_password_expiry_forces_change(make_app, clock):
    app = make_app(auth={"password_expiry_days": 90})
    add_agent(app)
    client = app.test_client()
    clock.advance(days=90)
    expired = login(client)
    assert expired.status_code == 403
    assert expired.get_json()["error"]["code"] == "password_expired"
    wrong = client.post("/api/auth/password", json={
        "username": "agent1", "current_password": "Wrong-password-1",
        "new_password": "Fresh-password-90"})
    assert wrong.status_code == 401
    changed = client.post("/api/auth/password", json={
        "username": "agent1", "current_password": PASSWORD, "new_password": "Fresh-password-90"})
    assert changed.status_code == 200 and changed.get_json()["access_token"]
    assert login(client, password="Fresh-password-90").status_code == 200


def test_roles_are_enforced(make_app):
    app = make_app()
    bp = Blueprint("test_roles", __name__)

    @bp.get("/api/test/admin-only")
    @require_auth("admin")
    def admin_only():
        return jsonify(ok=True)

    @bp.get("/api/test/supervisor")
    @require_auth("supervisor")
    def supervisor_only():
        return jsonify(ok=True)

    app.register_blueprint(bp)
    add_agent(app, username="agent1")
    add_agent(app, username="boss", role="supervisor")
    add_agent(app, username="root1", role="admin")
    client = app.test_client()
    tokens = {u: login(client, username=u).get_json()["access_token"]
              for u in ("agent1", "boss", "root1")}
    assert client.get("/api/test/admin-only", headers=bearer(tokens["agent1"])).status_code == 403
    assert client.get("/api/test/admin-only", headers=bearer(tokens["boss"])).status_code == 403
    assert client.get("/api/test/admin-only", headers=bearer(tokens["root1"])).status_code == 200
    assert client.get("/api/test/supervisor", headers=bearer(tokens["boss"])).status_code == 200
    assert client.get("/api/test/supervisor", headers=bearer(tokens["root1"])).status_code == 200


def test_bad_request_bodies_name_the_field(auth_app):
    client = auth_app.test_client()
    response = client.post("/api/auth/login", json={"username": "agent1", "pasword": "x"},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details["fields"] == {"pasword": "unknown field", "password": "required"}
    assert details["codes"] == {"pasword": "unknown_field", "password": "required"}
    not_json = client.post("/api/auth/login", data="username=agent1")
    assert not_json.status_code == 400
    assert not_json.get_json()["error"]["code"] == "invalid_body"


def test_refresh_rotation_is_compare_and_set(auth_app, monkeypatch):
    """The loser of two refreshes that both read the old hash is refused and does not end
    the session: the winner's token stays good (in-process, the race made deterministic)."""
    client = auth_app.test_client()
    token = login(client).get_json()["refresh_token"]
    original = accounts._usable_session_agent
    raced = {}

    def rotate_in_between(conn, session, policy, now):
        if not raced:  # another refresh rotates the token after this one read it
            raced["body"] = None
            raced["body"] = client.post("/api/auth/refresh",
                                        json={"refresh_token": token}).get_json()
        return original(conn, session, policy, now)

    monkeypatch.setattr(accounts, "_usable_session_agent", rotate_in_between)
    loser = client.post("/api/auth/refresh", json={"refresh_token": token})
    monkeypatch.setattr(accounts, "_usable_session_agent", original)
    assert loser.status_code == 401
    assert "refresh_token" in raced["body"], raced["body"]
    winner = raced["body"]["refresh_token"]
    assert client.post("/api/auth/refresh", json={"refresh_token": winner}).status_code == 200
