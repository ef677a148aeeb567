"""A transaction that starts only when something uses it.

The inbound webhook passes a connection to code that needs the database only now and then
(the voice configuration when it changed, the board when Redis lost it, a call flow's
schedule). With :func:`lazy_begin` a call answered from memory and Redis costs no database
round trip at all — not even the pool's pre-ping — and one that does need the database gets
an ordinary ``engine.begin()`` transaction, committed or rolled back as usual.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Engine


class LazyConnection:
    """Stands in for a :class:`~sqlalchemy.Connection`; opens the transaction on first use."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._context: Any = None
        self._conn: Connection | None = None

    @property
    def opened(self) -> bool:
        return self._conn is not None

    @property
    def dialect(self) -> Any:  # answered without a connection (statement choice by dialect)
        return self._engine.dialect

    def __getattr__(self, name: str) -> Any:
        if self._conn is None:
            self._context = self._engine.begin()
            self._conn = self._context.__enter__()
        return getattr(self._conn, name)

    def _close(self, exc: BaseException | None) -> None:
        if self._context is not None:
            self._context.__exit__(type(exc) if exc else None, exc,
                                   exc.__traceback__ if exc else None)


@contextlib.contextmanager
def lazy_begin(engine: Engine) -> Iterator[Connection]:
    """Like ``engine.begin()``, but the connection is checked out only if it is used."""
    lazy = LazyConnection(engine)
    try:
        yield lazy  # type: ignore[misc]
    except BaseException as exc:
        lazy._close(exc)
        raise
    lazy._close(None)
