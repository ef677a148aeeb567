"""Fixtures for the console: signed-in test clients (cookie + CSRF token) per role."""

from __future__ import annotations

import re

import pytest

from tests.connector.test_auth import add_agent, bearer, login


class ConsoleUser:
    """A console user's test client: signed in through /api/auth/login + /console/session."""

    def __init__(self, app, username: str, role: str, display_name: str = "鈴木 一郎") -> None:
        self.app = app
        self.agent = add_agent(app, username=username, role=role, display_name=display_name)
        self.client = app.test_client()
        tokens = login(self.client, username=username).get_json()
        self.session_response = self.client.post("/console/session",
                                                 headers=bearer(tokens["access_token"]))
        self.csrf = ""

    def get(self, path: str, **kw):
        response = self.client.get(path, **kw)
        found = re.search(rb'data-csrf="([0-9a-f]+)"', response.data)
        if found:
            self.csrf = found.group(1).decode()
        return response

    def post(self, path: str, data=None, json=None, csrf: bool = True, **kw):
        if not self.csrf:
            self.get("/console/history")
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.client.post(path, data=data, json=json, headers=headers, **kw)


@pytest.fixture
def sign_in():
    """``sign_in(app, "agent1")`` → an object with ``.agent`` (any role, no console cookie)."""

    class _Agent:
        def __init__(self, app, username: str, role: str = "agent") -> None:
            self.agent = add_agent(app, username=username, role=role)

    return _Agent


@pytest.fixture
def console_user():
    """``console_user(app, "sv1", "supervisor")`` → :class:`ConsoleUser`."""
    return ConsoleUser
