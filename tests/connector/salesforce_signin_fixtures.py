"""Helpers for "Sign in with Salesforce" tests: the fake org and the app, both on loopback ports.

The app runs on a real port (not the Flask test client) because the flow is a chain of browser
redirects between two servers: app → fake org → app.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert

from connector import db
from connector.schema import agent_crm_users
from tests.adapters.salesforce.conftest import AppSlot, make_key_pair
from tests.connector.test_auth import add_agent
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.server import LiveServer

CALLBACK_PATH = "/auth/salesforce/callback"


@dataclass
class SignInSite:
    """The connector under test, reachable at ``url``."""

    app: Flask
    url: str

    def add_agent(self, username: str, crm_user: str | None = None, **kw: Any) -> int:
        """An agent, mapped to ``crm_user`` in Salesforce when given; returns its id."""
        agent = add_agent(self.app, username=username, **kw)
        if crm_user is not None:
            with db.get_engine(self.app).begin() as conn:
                conn.execute(insert(agent_crm_users).values(agent_id=agent.id,
                                                            adapter="salesforce",
                                                            crm_user=crm_user))
        return agent.id


@pytest.fixture(scope="session")
def signin_key_pair():
    return make_key_pair()


@pytest.fixture
def org(signin_key_pair) -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce(signin_key_pair.certificate_pem)
    with LiveServer(fake) as live:
        fake.url = live.url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def make_site(make_app, redis_url: str, org: FakeSalesforce) -> Iterator[Callable[..., SignInSite]]:
    """Build the app on its own port with ``[auth.salesforce]`` pointing at the fake org.

    Keyword arguments override ``[auth.salesforce]`` keys; ``sections`` adds config sections.
    """
    servers: list[LiveServer] = []

    def build(sections: dict[str, Any] | None = None, **signin: Any) -> SignInSite:
        slot = AppSlot()
        server = LiveServer(slot).start()
        servers.append(server)
        table = {"enabled": True, "login_url": org.url,  # type: ignore[attr-defined]
                 "consumer_key": org.consumer_key, "org_id": org.org_id, **signin}
        app = make_app(redis_url=redis_url, server={"public_base_url": server.url},
                       auth={"salesforce": table}, **(sections or {}))
        slot.app = app
        org.callback_urls.add(server.url + CALLBACK_PATH)
        return SignInSite(app=app, url=server.url)

    yield build
    for server in servers:
        server.stop()


def posted_message(html: str) -> dict[str, Any]:
    """The message the popup page posts to the softphone."""
    match = re.search(r"var message = (.*?);\n", html)
    assert match, "no message in the page"
    return json.loads(match.group(1))


def target_origin(html: str) -> str:
    match = re.search(r"postMessage\(message, (.*?)\);", html)
    assert match, "no postMessage in the page"
    return json.loads(match.group(1))
