"""The shared adapter contract, against the built-in CRM on SQLite and PostgreSQL.

HTTP failures (401, 429, 5xx) cannot happen to a database, so the class leaves those cases out;
a "timeout" is a database locked for longer than the adapter waits, and must be temporary.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from crm_adapters.builtin import BuiltinCRMAdapter
from crm_adapters.testing import AdapterContract
from tests.adapters.builtin.conftest import MakeAdapter
from tests.fakes.builtin_crm import BuiltinCRM

DB_PASSWORD = "db-pass-s3cret-value"


class TestBuiltinContract(AdapterContract):
    # Our own database: no credentials to refuse, no HTTP status codes.
    transient_failures = ("timeout",)
    test_lookup_auth_failure = None
    test_write_auth_failure = None

    @pytest.fixture
    def adapter(self, make_adapter: MakeAdapter, crm: BuiltinCRM) -> BuiltinCRMAdapter:
        if crm.backend == "sqlite":
            return make_adapter()
        # The local server trusts loopback connections, so a password in the URL is accepted
        # and ignored: it stands for the real one a deployment's database URL carries.
        url = make_url(crm.url).set(password=DB_PASSWORD)
        return make_adapter(url.render_as_string(hide_password=False))

    @pytest.fixture
    def secrets(self, crm: BuiltinCRM) -> list[str]:
        return [] if crm.backend == "sqlite" else [DB_PASSWORD]
