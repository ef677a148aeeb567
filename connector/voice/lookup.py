"""Who is on the other end of a call: the CRM records of a number, within the ringing budget.

One rule for both directions (SPEC CF-5): the local phone index first (no CRM request), then,
for a number it does not know, a live lookup bounded by ``[voice] lookup_budget_ms`` — so a
webhook never waits longer for a CRM than that. Used by the inbound webhook (the caller), the
outbound webhook and ``POST /api/dial/check`` (the number the agent dials).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from .. import crm
from . import routing
from .runtime import get_runtime


def customer_of(e164: str, read: object = None) -> dict[str, Any]:
    """The number's CRM records as the call record keeps them (:func:`routing.customer_summary`);
    unknown (empty) when the number is withheld, unknown or the CRMs are slow. ``read``: the
    phone index's reply if the webhook read it ahead (:mod:`.read_ahead`)."""
    if not e164:
        return routing.customer_summary([])
    budget = get_runtime().settings.lookup_budget_ms / 1000
    return routing.customer_summary(crm.caller_lookup(e164, budget=budget, app=current_app,
                                                      read=read))
