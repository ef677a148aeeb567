"""The built-in CRM's own engine on the connector's database, and database errors as typed
adapter errors.

The adapter never shares the connector's engine (it gets plain data, not the app), so it builds
one from ``AdapterEnvironment.database_url`` with a bounded wait for locks: a lookup on the ringing
path or a write-back must fail fast and be retried rather than hang.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

from ..errors import AdapterConfigError, AdapterError, AdapterPermanentError, AdapterTemporaryError

#: Longest a PostgreSQL statement may run, whatever it waits for.
STATEMENT_TIMEOUT_SECONDS = 30

# Wording of the "schema missing" errors: SQLite reports them as OperationalError, which would
# otherwise look temporary — but no retry can create a table.
_MISSING_SCHEMA = ("no such table", "no such column", "does not exist")


def make_engine(url: str, *, lock_timeout: float) -> Engine:
    """An engine for the connector's database that waits at most ``lock_timeout`` s for a lock.

    Raises:
        AdapterConfigError: ``url`` is empty or not a database URL.
    """
    if not url:
        raise AdapterConfigError("the built-in CRM needs the connector's database, but no "
                                 "database URL was given", adapter="builtin")
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise AdapterConfigError("the database URL is not valid", adapter="builtin") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, lock_timeout)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed, lock_timeout)
    raise AdapterConfigError(f"unsupported database {parsed.get_backend_name()!r} "
                             "(use SQLite or PostgreSQL)", adapter="builtin")


def _sqlite_engine(url: Any, lock_timeout: float) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": lock_timeout})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return engine


def _postgres_engine(url: Any, lock_timeout: float) -> Engine:
    engine = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4,
                           pool_timeout=lock_timeout, connect_args={"connect_timeout": 5})
    lock_ms = max(1, int(lock_timeout * 1000))

    @event.listens_for(engine, "connect")
    def _timeouts(dbapi_connection: Any, _record: Any) -> None:
        # Session settings rather than connect options, which would replace any "options" the
        # URL already carries (a search_path, say).
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {lock_ms}")
            cursor.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_SECONDS * 1000}")
        dbapi_connection.commit()

    return engine


@contextlib.contextmanager
def database_errors(what: str, adapter: str = "builtin") -> Iterator[None]:
    """Turn SQLAlchemy errors raised inside the block into typed adapter errors.

    Locks, timeouts, lost connections and a full pool are temporary; a missing table means the
    schema was never migrated (a configuration problem); anything the database refuses about the
    data itself is permanent.
    """
    try:
        yield
    except AdapterError:
        raise
    except (exc.OperationalError, exc.ProgrammingError) as error:
        text = _short(error)
        if any(marker in text for marker in _MISSING_SCHEMA):
            raise AdapterConfigError(f"{what}: the built-in CRM's tables are missing — run "
                                     f"`cti db upgrade` ({text})", adapter=adapter) from error
        if isinstance(error, exc.ProgrammingError):
            raise AdapterPermanentError(f"{what}: {text}", adapter=adapter) from error
        raise AdapterTemporaryError(f"{what}: database busy or unreachable ({text})",
                                    adapter=adapter) from error
    except (exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError) as error:
        raise AdapterTemporaryError(f"{what}: database unreachable ({_short(error)})",
                                    adapter=adapter) from error
    except exc.SQLAlchemyError as error:
        raise AdapterPermanentError(f"{what}: {_short(error)}", adapter=adapter) from error


def _short(error: Exception) -> str:
    """The driver's own message, first line only: no SQL, no parameters (they hold numbers)."""
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return f"{type(original).__name__}: {lines[0][:200] if lines else ''}"
