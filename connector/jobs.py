"""Background jobs run by ``cti worker``: module-level functions with JSON-able arguments.

Each runs inside the Flask app context (see :class:`connector.queue.AppJob`), so it reaches
the database and Redis of the deployment through ``current_app``.
"""

from __future__ import annotations

from flask import current_app

from . import queue


def selftest(token: str) -> str:
    """Prove the worker runs jobs inside the app: write ``token`` where ``cti`` can read it."""
    queue.get_redis().set(f"cti:selftest:{token}", current_app.name, ex=300)
    return token
