"""Fixtures: an app with one agent of each role, and API clients signed in as each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connector import clock, db
from connector.builtin_crm import store
from connector.builtin_crm.model import parse_customer
from tests.connector.test_auth import add_agent, bearer, login


class Api:
    """A test client that sends one agent's bearer token with every request."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = bearer(token)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(path: str, **kwargs: Any) -> Any:
            headers = {**self.headers, **kwargs.pop("headers", {})}
            return getattr(self.client, method)(path, headers=headers, **kwargs)
        return call


@pytest.fixture
def crm_app(any_db_app: Flask) -> Flask:
    return any_db_app


def _api(app: Flask, role: str) -> Api:
    """Sign in as the agent named after ``role`` (created on first use: hashing is slow)."""
    add_agent(app, username=role, role=role, display_name=f"{role} さん")
    client = app.test_client()
    response = login(client, username=role)
    assert response.status_code == 200, response.get_json()
    return Api(client, response.get_json()["access_token"])


@pytest.fixture
def agent_api(crm_app: Flask) -> Api:
    return _api(crm_app, "agent")


@pytest.fixture
def supervisor_api(crm_app: Flask) -> Api:
    return _api(crm_app, "supervisor")


@pytest.fixture
def admin_api(crm_app: Flask) -> Api:
    return _api(crm_app, "admin")


@pytest.fixture
def add_customer(crm_app: Flask) -> Callable[..., int]:
    """Store a customer directly: ``add_customer("山田 太郎", "03-1234-5678", company=...)``."""

    def add(name: str, *phones: Any, **fields: Any) -> int:
        data = parse_customer({"name": name, "phones": list(phones), **fields})
        with db.get_engine(crm_app).begin() as conn:
            return store.create_customer(conn, data, clock.now(crm_app))

    return add
