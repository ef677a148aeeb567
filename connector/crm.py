"""The CRM layer as the rest of the app sees it (SPEC CR-1…CR-3).

:class:`CRMLayer` (``app.extensions["cti.crm"]``) holds one instance of each enabled adapter for
the life of the process — so tokens (Salesforce) stay cached — each with its own HTTP session with
timeouts and a Redis-backed limiter shared by every process of the deployment.

While a phone rings, :func:`caller_lookup` answers from the local phone index (no CRM request for
a known caller). An unknown number may be looked up live in the CRMs within a hard budget; results
are written to the index, and misses are remembered briefly in Redis.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any

import redis
from flask import Flask, current_app
from sqlalchemy import Engine

from crm_adapters.base import AdapterEnvironment, CRMAdapter, Customer
from crm_adapters.http import TimeoutSession
from crm_adapters.registry import AdapterRegistry, RegistryError
from crm_adapters.settings import SettingsError, parse_settings
from voice.numbering import mask

from . import clock, phone_index
from .config import ConfigError, Settings
from .limits import RedisLimiter
from .phone_cache import PhoneIndexCache

log = logging.getLogger("cti.crm")

#: Longest a ringing-path lookup may take before the caller is treated as unknown.
DEFAULT_LOOKUP_BUDGET = 0.3
#: After a live lookup overran its budget, lookups are not waited for during this long.
SLOW_BACKOFF_SECONDS = 30.0
#: At most this many numbers are looked up live at once (the pool has 8 threads).
MAX_LOOKUPS_IN_FLIGHT = 32


@dataclass
class ResolvedAdapters:
    """The enabled adapters, each with its validated ``[crm.<name>]`` settings."""

    registry: AdapterRegistry
    adapters: dict[str, tuple[type[CRMAdapter], Any]] = field(default_factory=dict)
    #: name -> why an installed, enabled adapter cannot be loaded (it is left out, not fatal)
    unavailable: dict[str, str] = field(default_factory=dict)
    #: ``[crm.<name>]`` tables of adapters that are not enabled
    not_enabled: list[str] = field(default_factory=list)


def resolve_adapters(settings: Settings, *, registry: AdapterRegistry | None = None,
                     environ: Mapping[str, str] | None = None) -> ResolvedAdapters:
    """Find and validate every enabled adapter — the one check of the ``[crm]`` tables, made
    at start-up (:class:`CRMLayer`) and by ``cti config check``.

    Raises:
        ConfigError: naming each unknown adapter and each wrong key of an adapter's table,
            secrets included (an unset environment variable, a missing file).
    """
    crm = settings.crm
    resolved = ResolvedAdapters(registry or AdapterRegistry.from_entry_points(crm.adapters))
    problems: list[str] = []
    for index, name in enumerate(crm.adapters):
        try:
            adapter_class = resolved.registry.get(name)
        except RegistryError as exc:
            if name in resolved.registry.load_errors:
                # An installed adapter that cannot load must not take the others down.
                resolved.unavailable[name] = str(exc)
            else:
                problems.append(f"crm.adapters[{index}]: {exc}")
            continue
        if getattr(adapter_class, "multi_instance", False):
            problems.extend(_resolve_instances(resolved, name, adapter_class,
                                               crm.tables.get(name) or {}, environ))
            continue
        try:
            adapter_settings = resolved.registry.parse_settings(name, crm.tables.get(name),
                                                                environ or os.environ)
        except SettingsError as exc:
            problems.extend(exc.problems)
            continue
        resolved.adapters[name] = (adapter_class, adapter_settings)
    resolved.not_enabled = [name for name in crm.tables if name not in crm.adapters]
    if problems:
        raise ConfigError(problems, settings.source)
    return resolved


def _resolve_instances(resolved: ResolvedAdapters, name: str, adapter_class: type[CRMAdapter],
                       tables: Mapping[str, Any],
                       environ: Mapping[str, str] | None) -> list[str]:
    """``[crm.<name>.<instance>]`` of a multi-instance adapter (the HTTP adapter): one adapter
    per table, named ``<name>_<instance>`` — a name rq job ids and the write-back rows accept."""
    problems = []
    for instance, table in tables.items():
        where = f"crm.{name}.{instance}"
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", instance) or not isinstance(table, Mapping):
            problems.append(f"{where}: expected a table named with lower-case letters, digits "
                            "and _")
            continue
        try:
            instance_settings = parse_settings(adapter_class.Settings, table, where=where,
                                               environ=environ or os.environ)
        except SettingsError as exc:
            problems.extend(exc.problems)
            continue
        full_name = f"{name}_{instance}"
        # A subclass per instance: the class attribute ``name`` is what every part of the
        # connector (index, write-back rows, logs) keys an adapter by.
        instance_class = type(f"{adapter_class.__name__}_{instance}", (adapter_class,),
                              {"name": full_name, "__module__": adapter_class.__module__})
        resolved.adapters[full_name] = (instance_class, instance_settings)
    if not tables:
        problems.append(f"crm.{name}: add one [crm.{name}.<name>] table per integration")
    return problems


class CRMLayer:
    """Enabled adapters, the phone index and live lookups for one process."""

    def __init__(self, settings: Settings, *, redis_client: redis.Redis, engine: Engine,
                 registry: AdapterRegistry | None = None, clock_fn: Any = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.redis = redis_client
        self.engine = engine
        self.now = clock_fn or clock.system_clock
        resolved = resolve_adapters(settings, registry=registry, environ=environ)
        self.registry = resolved.registry
        #: name -> why an enabled adapter is not available (it failed to import)
        self.unavailable: dict[str, str] = resolved.unavailable
        for reason in self.unavailable.values():
            log.error("CRM adapter unavailable: %s", reason)
        for name in resolved.not_enabled:
            log.warning("[crm.%s] is configured but the adapter is not in crm.adapters", name)
        env = AdapterEnvironment(public_base_url=settings.server.public_base_url,
                                 database_url=settings.database_url,
                                 limiter=RedisLimiter(redis_client))
        self.adapters: dict[str, CRMAdapter] = {
            name: adapter_class(adapter_settings, http=TimeoutSession(), env=env)
            for name, (adapter_class, adapter_settings) in resolved.adapters.items()}
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cti-crm-lookup")
        self._in_flight: set[str] = set()  # numbers being looked up live
        self._in_flight_lock = threading.Lock()
        self._slow_until = 0.0  # monotonic time until which live lookups are not waited for
        # The ringing path's reads of the index, from Redis (kept in sync after commit).
        digest = hashlib.sha256(settings.database_url.encode()).hexdigest()[:10]
        self.index_cache = PhoneIndexCache(redis_client, f"cti:phone-index:{digest}:")
        self.index_cache.install(engine)

    @property
    def server_side(self) -> dict[str, CRMAdapter]:
        """Adapters the server talks to (lookups, sync, write-back)."""
        return {name: a for name, a in self.adapters.items() if a.server_side}

    # -- ringing path ------------------------------------------------------------------------

    def caller_lookup(self, e164: str, *, budget: float, read: object = None
                      ) -> list[Customer]:
        """Known callers from the index; unknown ones live, within ``budget`` seconds.
        ``read``: the index's reply read ahead (:meth:`PhoneIndexCache.read_command`)."""
        deadline = time.monotonic() + budget
        found = self.index_cache.lookup(self.engine, e164, read)
        if found:
            return found
        adapters = list(self.server_side.values())
        if not adapters or budget <= 0 or self._miss_cached(e164):
            return []
        futures = self._start_live(adapters, e164)
        if not futures:
            return []  # this number is being looked up already, or too many are
        # While the CRMs are slow, the lookup runs on without holding the webhook: its answer
        # lands in the index for the next call. One caller waits again after the back-off.
        waiting = 0.0 if time.monotonic() < self._slow_until else budget
        done, pending = wait_futures(futures, timeout=max(0.0, deadline - time.monotonic())
                                     if waiting else 0)
        if pending and waiting:
            self._slow_until = time.monotonic() + SLOW_BACKOFF_SECONDS
        failed = [f for f in done if f.exception() is not None]
        results = [c for f in done if f.exception() is None for c in f.result()]
        if pending or failed:
            log.info("live lookup of %s incomplete: %d late, %d failed", mask(e164),
                     len(pending), len(failed))
        elif not results:
            self._remember_miss(e164)
        if not results:
            return []
        with self.engine.connect() as conn:
            return phone_index.order(conn, e164, results)

    def _start_live(self, adapters: list[CRMAdapter], e164: str) -> list[Any]:
        """Live lookups of ``e164`` in every adapter; none if one is running already or too
        many are (a slow CRM must not collect a queue of calls long gone)."""
        with self._in_flight_lock:
            if e164 in self._in_flight or len(self._in_flight) >= MAX_LOOKUPS_IN_FLIGHT:
                return []
            self._in_flight.add(e164)
        futures = [self._pool.submit(self._live_lookup, adapter, e164) for adapter in adapters]
        remaining = [len(futures)]

        def finished(_future: Any) -> None:
            with self._in_flight_lock:
                remaining[0] -= 1
                if not remaining[0]:
                    self._in_flight.discard(e164)

        for future in futures:
            future.add_done_callback(finished)
        return futures

    def _live_lookup(self, adapter: CRMAdapter, e164: str) -> list[Customer]:
        try:
            customers = adapter.lookup_by_phone(e164)
        except Exception as exc:
            log.warning("live lookup in %s failed: %s", adapter.name, exc)
            raise
        # Even when it arrives after the budget, the answer makes the next call instant.
        with self.engine.begin() as conn:
            phone_index.remember(conn, adapter.name, e164, customers, self.now())
        return customers

    def _miss_key(self, e164: str) -> str:
        return f"cti:crm:miss:{e164}"

    def _miss_cached(self, e164: str) -> bool:
        try:
            return bool(self.redis.exists(self._miss_key(e164)))
        except redis.RedisError:
            return False

    def _remember_miss(self, e164: str) -> None:
        seconds = self.settings.crm.miss_cache_seconds
        if not seconds:
            return
        try:
            self.redis.set(self._miss_key(e164), "1", ex=seconds)
        except redis.RedisError:
            pass

    def forget_miss(self, e164: str) -> None:
        try:
            self.redis.delete(self._miss_key(e164))
        except redis.RedisError:
            pass

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def init_app(app: Flask) -> None:
    from . import db, queue

    settings: Settings = app.config["CTI_SETTINGS"]
    app.extensions["cti.crm"] = CRMLayer(settings, redis_client=queue.get_redis(app),
                                         engine=db.get_engine(app),
                                         clock_fn=app.extensions["cti.clock"])


def get_layer(app: Flask | None = None) -> CRMLayer:
    return (app or current_app).extensions["cti.crm"]


def caller_lookup(e164: str, *, budget: float = DEFAULT_LOOKUP_BUDGET,
                  app: Flask | None = None, read: object = None) -> list[Customer]:
    """Customers for the caller's number, best first, within ``budget`` seconds; never raises.

    An empty list means "unknown caller": the call continues without waiting for any CRM. The
    inbound webhook passes ``[voice] lookup_budget_ms``.
    """
    app = app or current_app
    layer: CRMLayer | None = app.extensions.get("cti.crm")
    if layer is None:
        return []
    try:
        if read is None:  # a layer that takes no read-ahead (tests' fakes) works as before
            return layer.caller_lookup(e164, budget=budget)
        return layer.caller_lookup(e164, budget=budget, read=read)
    except Exception:  # the ringing path must never fail because of the CRM layer
        log.exception("caller lookup failed")
        return []
