"""The CRM layer as the rest of the app sees it (SPEC CR-1…CR-3).

Work in progress: the adapter registry, the local phone index and the write-back pipeline are
being built on this module's interface. ``caller_lookup`` is what a webhook calls while the phone
rings; it never raises and never exceeds its time budget.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from crm_adapters.base import Customer

log = logging.getLogger("cti.crm")

#: Longest a ringing-path lookup may take before the caller is treated as unknown.
DEFAULT_LOOKUP_BUDGET = 0.3


def caller_lookup(e164: str, *, budget: float = DEFAULT_LOOKUP_BUDGET,
                  app: Flask | None = None) -> list[Customer]:
    """Customers for the caller's number, best first, within ``budget`` seconds; never raises.

    The local phone index answers known callers without any CRM request; an unknown number may
    be looked up live in the enabled CRMs within the budget, and an empty list means "unknown
    caller" (the call continues without waiting).
    """
    app = app or current_app
    layer = app.extensions.get("cti.crm")
    if layer is None:
        return []
    try:
        return layer.caller_lookup(e164, budget=budget)
    except Exception:  # the ringing path must never fail because of the CRM
        log.exception("caller lookup failed")
        return []
