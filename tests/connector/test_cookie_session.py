"""Flask's cookie session opened lazily (connector.cookie_session): the same sessions as
Flask's own, without the serializer on requests that carry no session cookie."""

from __future__ import annotations

from flask import session
from flask.sessions import SecureCookieSessionInterface


def _counting(monkeypatch):
    built = []
    original = SecureCookieSessionInterface.get_signing_serializer

    def counting(self, app):
        built.append(1)
        return original(self, app)

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", counting)
    return built


def test_no_serializer_without_a_session_cookie(app, monkeypatch):
    built = _counting(monkeypatch)
    assert app.test_client().get("/healthz").status_code in (200, 503)
    assert built == []


def test_a_session_cookie_still_round_trips(app, monkeypatch):
    @app.get("/_test/session/<value>")
    def store(value):
        session["value"] = value
        return "ok"

    @app.get("/_test/session")
    def show():
        return session.get("value", "(none)")

    client = app.test_client()
    assert client.get("/_test/session").get_data(as_text=True) == "(none)"
    client.get("/_test/session/42")
    built = _counting(monkeypatch)
    assert client.get("/_test/session").get_data(as_text=True) == "42"
    assert built  # the cookie was there: read and verified as Flask does
    client.set_cookie("session", "forged.value.x")
    assert client.get("/_test/session").get_data(as_text=True) == "(none)"
