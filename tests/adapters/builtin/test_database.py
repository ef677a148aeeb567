"""Database failures become the typed errors the write-back pipeline acts on."""

from __future__ import annotations

import pytest
from sqlalchemy import exc

from crm_adapters.builtin.database import database_errors, make_engine
from crm_adapters.errors import (
    AdapterConfigError,
    AdapterPermanentError,
    AdapterTemporaryError,
)


def _error(kind, message):
    return kind("SELECT secret FROM customers WHERE e164 = ?", ("+81312345678",),
                Exception(message))


@pytest.mark.parametrize(("raised", "expected"), [
    (_error(exc.OperationalError, "database is locked"), AdapterTemporaryError),
    (_error(exc.OperationalError, "canceling statement due to lock timeout"),
     AdapterTemporaryError),
    (_error(exc.OperationalError, "no such table: customers"), AdapterConfigError),
    (_error(exc.ProgrammingError, 'relation "customers" does not exist'), AdapterConfigError),
    (_error(exc.ProgrammingError, "syntax error at or near"), AdapterPermanentError),
    (_error(exc.InterfaceError, "connection already closed"), AdapterTemporaryError),
    (exc.TimeoutError("QueuePool limit of size 2 overflow 4 reached"), AdapterTemporaryError),
    (_error(exc.IntegrityError, "UNIQUE constraint failed"), AdapterPermanentError),
    (_error(exc.DataError, "value too long for type character varying(20)"),
     AdapterPermanentError),
])
def test_mapping(raised, expected):
    with pytest.raises(expected) as excinfo, database_errors("write call logs"):
        raise raised
    text = str(excinfo.value)
    assert text.startswith("[builtin] write call logs:")
    assert "+81312345678" not in text and "SELECT" not in text  # no SQL, no parameters
    assert excinfo.value.__cause__ is raised


@pytest.mark.parametrize("url", ["", "not a url", "mysql://x@localhost/db"])
def test_unusable_database_url_is_a_config_error(url):
    with pytest.raises(AdapterConfigError):
        make_engine(url, lock_timeout=1)
