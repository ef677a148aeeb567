"""The CRM work of flows (KT-6): ``lookup`` nodes within a budget, ``update`` nodes later.

A ``lookup`` node asks one CRM app for a record (kintone ``match_general``) while the caller
is on the line, so it waits at most ``[voice] lookup_budget_ms`` — a CRM that is slower, fails
or has no such app counts as "not found" and the call goes on at ``else``. An ``update`` node
never waits: its write (``upsert_general``) is an rq job, retried when the CRM fails.
"""

from __future__ import annotations

import logging
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Flask, current_app

from voice.flows.engine import Lookup, Update

from .. import queue

log = logging.getLogger("cti.flows.crm")

UPSERT_JOB = "connector.flows.crm_steps.upsert"


def _adapter(app: Flask, name: str) -> Any:
    layer = app.extensions.get("cti.crm")
    return (getattr(layer, "adapters", None) or {}).get(name)


def match(lookup: Lookup, *, app: Flask | None = None) -> dict[str, Any] | None:
    """The first record of ``lookup.app`` whose field equals the value, within the budget."""
    app = app or current_app
    adapter = _adapter(app, lookup.crm)
    if adapter is None or not hasattr(adapter, "match_general") or not lookup.value:
        return None
    budget = app.config["CTI_SETTINGS"].voice.lookup_budget_ms / 1000
    future = app.extensions["cti.flows"].pool.submit(
        adapter.match_general, lookup.app, lookup.field, lookup.value)
    try:
        found = future.result(timeout=budget)
    except FutureTimeout:
        log.info("flow lookup slower than the budget; going on as not found",
                 extra={"node": lookup.node, "crm": lookup.crm})
        return None
    except Exception as exc:  # a CRM failure must not end the call
        log.warning("flow lookup failed: %s", exc, extra={"node": lookup.node})
        return None
    return dict(found[0]) if found else None


def queue_updates(updates: tuple[Update, ...]) -> None:
    """Hand the writes to the worker; never raises (the caller is on the line)."""
    from rq import Retry

    for item in updates:
        try:
            queue.get_queue("default").enqueue(
                UPSERT_JOB, item.crm, item.app, item.key_field, item.key, dict(item.values),
                retry=Retry(max=3, interval=[30, 120, 600]))
        except Exception:
            log.exception("could not queue a flow's CRM update", extra={"crm": item.crm})


def upsert(crm_name: str, app_name: str, key_field: str, key: str,
           values: dict[str, str]) -> str:
    """The job: update or add the record; returns its id."""
    adapter = _adapter(current_app, crm_name)
    if adapter is None or not hasattr(adapter, "upsert_general"):
        raise LookupError(f"CRM {crm_name!r} is not enabled or cannot update app records")
    return adapter.upsert_general(app_name, key_field, key, values)
