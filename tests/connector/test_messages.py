"""The language policy of messages (connector/messages.py): which language an API reader gets,
with both texts in ``details`` for screens that choose themselves."""

from __future__ import annotations

import pytest

from connector.messages import Text
from tests.connector.test_auth import add_agent, bearer, login

WRONG = {"username": "agent1", "password": "wrong-password-1"}
LOGIN_JA = "ユーザーIDまたはパスワードが正しくないか、アカウントがロックされています。"
LOGIN_EN = "Invalid user ID or password, or the account is locked."


@pytest.mark.parametrize(("accept", "expected"), [
    ("ja", LOGIN_JA),
    ("en-US,en;q=0.9", LOGIN_EN),
    ("fr-FR, en;q=0.5, ja;q=0.8", LOGIN_JA),  # the best of the two we have
    (None, LOGIN_JA),  # no header: [softphone] default_language
])
def test_sign_in_errors_are_in_one_language_with_both_in_details(app, accept, expected):
    add_agent(app)
    headers = {"Accept-Language": accept} if accept else {}
    error = app.test_client().post("/api/auth/login", json=WRONG, headers=headers).get_json()[
        "error"]
    assert error["code"] == "invalid_credentials"
    assert error["message"] == expected
    assert (error["details"]["message_ja"], error["details"]["message_en"]) == (LOGIN_JA,
                                                                                LOGIN_EN)


def test_default_language_applies_without_a_header(make_app):
    app = make_app(softphone={"default_language": "en"})
    add_agent(app)
    error = app.test_client().post("/api/auth/login", json=WRONG).get_json()["error"]
    assert error["message"] == LOGIN_EN


def test_the_agents_language_applies_when_the_request_names_none(app):
    add_agent(app, language="en")
    client = app.test_client()
    token = login(client).get_json()["access_token"]
    bad = client.post("/api/dial/check", json={"to": 1}, headers=bearer(token)).get_json()
    assert bad["error"]["message"] == "Some fields are missing or invalid: to: must be a string"
    assert bad["error"]["details"]["fields"] == {"to": "must be a string"}
    assert bad["error"]["details"]["codes"] == {"to": "wrong_type"}
    # The screen says which language it shows: that wins over the account's language.
    shown = client.post("/api/dial/check", json={"to": 1},
                        headers={**bearer(token), "Accept-Language": "ja"}).get_json()
    assert shown["error"]["details"]["fields"] == {"to": "文字列で指定してください"}
    assert shown["error"]["message"] == "入力内容を確認してください: to: 文字列で指定してください"


def test_role_refusals_name_the_role_in_the_readers_language(app):
    add_agent(app)
    token = login(app.test_client()).get_json()["access_token"]
    refused = app.test_client().get("/api/admin/numbers",
                                    headers={**bearer(token), "Accept-Language": "en"})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["message"] == "This needs the admin role."
    details = refused.get_json()["error"]["details"]
    assert details["message_ja"] == "この操作には管理者の権限が必要です。"


def test_text_fills_each_language_with_its_own_words():
    role = Text("管理者", "admin")
    text = Text("{role}だけ（{n}件）", "only {role} ({n})").format(role=role, n=3)
    assert (text.ja, text.en) == ("管理者だけ（3件）", "only admin (3)")
    assert text.get("en") == "only admin (3)" and text.get("xx") == "管理者だけ（3件）"
