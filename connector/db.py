"""Database engine (SQLite by default, PostgreSQL in production) and migrations.

The engine lives in ``app.extensions["cti.db"]``; code that runs outside a request (jobs, CLI) gets
it from the app it was given. Units of work use ``engine.begin()`` so each is one transaction.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from .messages import Text

MIGRATIONS = "connector:migrations"


def init_app(app: Flask) -> None:
    app.extensions["cti.db"] = make_engine(app.config["CTI_SETTINGS"].database_url)


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["cti.db"]


def disconnected(exc: BaseException) -> bool:
    """Whether ``exc`` is the database connection having been lost (a failover, a restart, an
    idle-connection reaper): the unit of work was rolled back and can simply run again."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; ``postgresql://`` uses psycopg 3, SQLite gets sane pragmas."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10,
                         connect_args={"connect_timeout": 5})


def _sqlite_engine(url: Any) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 15})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets the web process read while a worker writes.
        cursor.execute("PRAGMA journal_mode = WAL")
        # In WAL mode NORMAL keeps the database consistent through a crash and only syncs at
        # checkpoints; FULL would fsync every commit (milliseconds on each Twilio webhook).
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 15000")
        cursor.close()

    return engine


def _alembic_config(connection: Any) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; existing data is kept (migrations only add/alter)."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config(None))
    head = script.get_current_head()
    assert head is not None
    return head


def revisions() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(_alembic_config(None))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


class SchemaNotReady(Exception):
    """The database schema is missing or older than the code (``cti db upgrade`` fixes it)."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.en)
        self.text = text


def schema_problem_text(revision: str | None) -> Text | None:
    """Why a database at schema ``revision`` cannot be used by this code; ``None`` if it can."""
    head = head_revision()
    if revision == head:
        return None
    if revision is None:
        return Text("データベースのスキーマが作成されていません。"
                    "`cti db upgrade` を実行してください",
                    "the database schema is not created: run `cti db upgrade`")
    if revision in revisions():
        return Text(f"データベースのスキーマが更新されていません（現在 {revision}、"
                    f"このバージョンには {head} が必要）。`cti db upgrade` を実行してください",
                    f"the database schema is not upgraded (at {revision}, this version needs "
                    f"{head}): run `cti db upgrade`")
    return Text(f"データベースのスキーマ {revision} はこのバージョンの知らないものです（必要なのは "
                f"{head}）。より新しいリリースが更新しています。そのリリースを実行してください",
                f"the database schema is at {revision}, which this version does not know (it "
                f"needs {head}): a newer release upgraded it; run that release")


def schema_problem(revision: str | None) -> str:
    """:func:`schema_problem_text` for operators' reports (English); "" when usable."""
    text = schema_problem_text(revision)
    return text.en if text else ""


def require_schema(engine: Engine) -> None:
    """Raise :class:`SchemaNotReady` unless the schema is the one this code needs.

    A database that cannot be reached passes: whatever uses it next says why it failed.
    """
    try:
        revision = current_revision(engine)
    except Exception:  # any driver error: unreachable, not "wrong schema"
        return
    problem = schema_problem_text(revision)
    if problem:
        raise SchemaNotReady(problem)


def check(engine: Engine) -> dict[str, Any]:
    """Health of the database: reachable, and schema at the newest revision."""
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            revision = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:  # any driver error means "down"; the message says which
        return {"ok": False, "backend": engine.dialect.name,
                "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    result: dict[str, Any] = {
        "ok": True, "backend": engine.dialect.name,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        "revision": revision,
    }
    problem = schema_problem(revision)
    if problem:
        result.update(ok=False, error=problem)
    return result
