"""Fixtures: the built-in CRM on a migrated database (SQLite and PostgreSQL) and its adapter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from crm_adapters.base import AdapterEnvironment
from crm_adapters.builtin import BuiltinCRMAdapter, BuiltinSettings
from crm_adapters.http import TimeoutSession
from tests.fakes.builtin_crm import BuiltinCRM

PUBLIC_URL = "https://cti.example.com"

#: Short, so the lock-timeout tests do not wait long; production uses the 5 s default.
TEST_LOCK_TIMEOUT = 0.2

MakeAdapter = Callable[..., BuiltinCRMAdapter]


@pytest.fixture
def crm(database_url: str) -> Iterator[BuiltinCRM]:
    fake = BuiltinCRM(database_url)
    yield fake
    fake.close()


@pytest.fixture
def make_adapter(crm: BuiltinCRM) -> Iterator[MakeAdapter]:
    made: list[BuiltinCRMAdapter] = []

    def factory(url: str | None = None, **settings: Any) -> BuiltinCRMAdapter:
        settings.setdefault("lock_timeout_seconds", TEST_LOCK_TIMEOUT)
        env = AdapterEnvironment(public_base_url=PUBLIC_URL,
                                 database_url=url if url is not None else str(
                                     crm.url.render_as_string(hide_password=False)))
        adapter = BuiltinCRMAdapter(BuiltinSettings(**settings), http=TimeoutSession(), env=env)
        crm.watch(adapter)
        made.append(adapter)
        return adapter

    yield factory
    for adapter in made:
        adapter.close()


@pytest.fixture
def adapter(make_adapter: MakeAdapter) -> BuiltinCRMAdapter:
    return make_adapter()
