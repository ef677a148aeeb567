"""Fixtures for the softphone's server side: signed-in agents and their bearer headers."""

from __future__ import annotations

import pytest

from tests.connector.test_auth import add_agent, bearer, login


class SignedIn:
    """An agent account plus a test client that sends its bearer token."""

    def __init__(self, app, username: str, role: str = "agent",
                 display_name: str = "佐藤 花子") -> None:
        self.agent = add_agent(app, username=username, role=role, display_name=display_name)
        self.client = app.test_client()
        body = login(self.client, username=username).get_json()
        self.headers = bearer(body["access_token"])

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path: str, json=None, **kw):
        return self.client.post(path, json={} if json is None else json, headers=self.headers,
                                **kw)

    def put(self, path: str, json=None, **kw):
        return self.client.put(path, json=json, headers=self.headers, **kw)

    def patch(self, path: str, json=None, **kw):
        return self.client.patch(path, json=json, headers=self.headers, **kw)

    def delete(self, path: str, json=None, **kw):
        return self.client.delete(path, json=json, headers=self.headers, **kw)


@pytest.fixture
def sign_in():
    """``sign_in(app, "agent1", role="agent")`` → :class:`SignedIn`."""
    return SignedIn
