"""Shared fixtures: apps on SQLite or PostgreSQL, real Redis, a controllable clock.

Services: PostgreSQL at 127.0.0.1:5432 (database ``test``) and Redis at 127.0.0.1:6379. A test that
needs one skips with the reason when it is absent — except under ``CI=true``, where it fails, so
CI can never pass by skipping.
"""

from __future__ import annotations

import gc
import os
import shutil
import socket
import subprocess
import time
import uuid
import warnings
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# hypothesis is imported here because its pytest plugin otherwise imports it at the end of a
# session that ran no property test, and CPython 3.11.7's AST constructor can then fail
# ("recursion depth mismatch", CPython gh-106905) after a test has hit a RecursionError.
import hypothesis  # noqa: F401
import pytest
import redis as redis_lib
from sqlalchemy import Engine, create_engine, event, text

from connector import create_app, db
from connector import queue as queue_module

IN_CI = os.environ.get("CI") == "true"
PG_ADMIN_URL = os.environ.get("CTI_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
TEST_SECRET_KEY = "test-secret-key-" + "x" * 32


def need_service(name: str, available: bool, hint: str) -> None:
    """Skip (or, under CI=true, fail) when a service the test needs is absent."""
    if available:
        return
    message = f"{name} is not available ({hint})"
    if IN_CI:
        pytest.fail(message + " — CI=true requires it")
    pytest.skip(message)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class FakeClock:
    """A clock tests move by hand: ``clock.advance(minutes=15)``."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# -- Redis -----------------------------------------------------------------------------------

def _redis_db_index() -> int:
    # One database per xdist worker, so parallel runs never flush each other's data.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return 1 + int(worker.removeprefix("gw") or 0) % 15


@pytest.fixture(scope="session")
def _redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private real Redis for this test process when the machine has ``redis-server``.

    Test runs in other checkouts on the same machine (and their workers) share the server on
    127.0.0.1:6379; a private server keeps their jobs and flushes out of ours. Without the
    binary, the shared server is used, one database per xdist worker.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        yield ""
        return
    folder = tmp_path_factory.mktemp("redis")
    socket_path = folder / "redis.sock"
    process = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not socket_path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"unix://{socket_path}?db=0" if socket_path.exists() else ""
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(_redis_server: str) -> Iterator[str]:
    if _redis_server:
        url = _redis_server
    else:
        need_service("Redis", _port_open(REDIS_HOST, REDIS_PORT), f"{REDIS_HOST}:{REDIS_PORT}")
        url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{_redis_db_index()}"
    client = redis_lib.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis_lib.Redis]:
    client = redis_lib.Redis.from_url(redis_url)
    yield client
    client.close()


# -- databases -------------------------------------------------------------------------------

_engines_in_test: weakref.WeakSet[Engine] = weakref.WeakSet()


@event.listens_for(Engine, "engine_connect")
def _remember_engine(connection) -> None:  # type: ignore[no-untyped-def]
    _engines_in_test.add(connection.engine)


_redis_in_test: weakref.WeakSet[redis_lib.Redis] = weakref.WeakSet()
_connect_redis = queue_module.connect


def _remembered_connect(redis_url: str) -> redis_lib.Redis:
    client = _connect_redis(redis_url)
    _redis_in_test.add(client)
    return client


queue_module.connect = _remembered_connect  # apps' clients are closed after each test


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    """After every fixture's teardown: close the Redis clients apps made (routing uses Redis
    on every call), and collect sockets pools dropped meanwhile — here, not in some unrelated
    later test whose ResourceWarning would then fail it."""
    yield
    for client in list(_redis_in_test):
        client.connection_pool.disconnect()
        client.close()
    _redis_in_test.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture(autouse=True)
def _dispose_engines() -> Iterator[None]:
    """Close the pooled connections of every engine a test used (apps, adapters, scripts).

    Otherwise their connections are closed by the garbage collector during some later test,
    whose ResourceWarning then fails that unrelated test.
    """
    yield
    for engine in list(_engines_in_test):
        engine.dispose()
    _engines_in_test.clear()


@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once per session; each test gets a copy (migrating per test is slow)."""
    path = tmp_path_factory.mktemp("template") / "cti.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _migrated_sqlite_template: Path) -> str:
    path = tmp_path / "var" / "cti.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(_migrated_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """An empty PostgreSQL schema of its own (``search_path``), dropped afterwards."""
    need_service("PostgreSQL", _port_open("127.0.0.1", 5432), "127.0.0.1:5432, database test")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def postgres_url(postgres_schema_url: str) -> str:
    engine = db.make_engine(postgres_schema_url)
    db.upgrade(engine)
    engine.dispose()
    return postgres_schema_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over both supported databases."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


# -- apps ------------------------------------------------------------------------------------

def app_config(tmp_path: Path, database_url: str, redis_url: str = "",
               **sections: dict[str, Any]) -> dict[str, Any]:
    """A raw configuration mapping for ``create_app`` (shaped like the TOML file)."""
    config: dict[str, Any] = {
        "server": {"data_dir": str(tmp_path / "var"), "secret_key": TEST_SECRET_KEY,
                   "public_base_url": "https://cti.example.com"},
        "storage": {"database_url": database_url},
        "queue": {"redis_url": redis_url or "redis://127.0.0.1:6379/15"},
        "crm": {"adapters": []},
    }
    if os.environ.get("CTI_TEST_CALL_RECORDS"):  # run a suite with the call-record stream
        config["voice"] = {"call_records": os.environ["CTI_TEST_CALL_RECORDS"]}
    for name, values in sections.items():
        config.setdefault(name, {}).update(values)
    return config


@pytest.fixture
def make_app(tmp_path: Path, sqlite_url: str, clock: FakeClock, _redis_server: str):
    """Build an app; keyword arguments are config sections merged over the test defaults.

    Apps whose test asks for no Redis still point at this process's private server (when there
    is one), so nothing they enqueue can reach another test run's workers.
    """
    engines = []

    def factory(database_url: str | None = None, redis_url: str = "", **sections: Any):
        config = app_config(tmp_path, database_url or sqlite_url,
                            redis_url or _redis_server.replace("db=0", "db=15"), **sections)
        app = create_app(config, clock=clock)
        engines.append(db.get_engine(app))
        return app

    yield factory
    for engine in engines:
        engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def any_db_app(make_app, database_url: str):
    """The app on SQLite and, in a second run of the test, on PostgreSQL."""
    return make_app(database_url=database_url)


@pytest.fixture
def client(app):
    return app.test_client()
