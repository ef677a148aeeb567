"""Per-number pop-up URLs (SPEC HT-2, CF-1): what ``GET /api/integrations/pops`` adds for a call
on one of our numbers that has a ring or an answer pop-up URL (``cti number set
--ring-popup-url``).

The URL comes from the routing cache (no query unless the configuration changed) and the call
record gives the caller; ``@@@@`` is rendered by :func:`voice.popups.render_popup`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from voice.popups import render_popup

from .. import callstream, db
from ..schema import calls
from ..voice.runtime import get_runtime

#: The events a number has pop-up URLs for (seed 002: 着信ポップアップ, 応答ポップアップ).
EVENTS = ("incoming", "answered")


def number_pops(call_sid: str, event: str) -> list[dict[str, Any]]:
    """``[{"integration": "number", "method": "GET", "url", "fields": []}]`` or ``[]``."""
    if event not in EVENTS:
        return []
    callstream.write_pending(call_sid)  # the ring may come before the consumer wrote it
    with db.get_engine().connect() as conn:
        row = conn.execute(select(calls.c.direction, calls.c.our_number,
                                  calls.c.customer_number).where(
            calls.c.call_sid == call_sid)).first()
        if row is None or row.direction != "inbound":
            return []
        number = get_runtime().cache.refresh(conn).routing.numbers.get(row.our_number)
    template = number.popup_url(event) if number is not None else ""
    if not template:
        return []
    return [{"integration": "number", "method": "GET", "fields": [],
             "url": render_popup(template, row.customer_number)}]
