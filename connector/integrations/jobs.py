"""The worker's side of the HTTP adapter's call events."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from flask import current_app
from rq import get_current_job

from crm_adapters.errors import AdapterTemporaryError
from crm_adapters.httptemplate import CallContext
from crm_adapters.httptemplate.context import from_log

from .. import call_logs, callstream, db
from ..schema import calls
from . import template_adapters

log = logging.getLogger("cti.integrations")


def call_context(call_sid: str, adapter: str) -> CallContext | None:
    """The call record as placeholders see it (``None`` if there is no such call)."""
    settings = current_app.config["CTI_SETTINGS"]
    callstream.write_pending(call_sid)  # the "incoming" event may run before the consumer
    with db.get_engine().connect() as conn:
        try:
            log_ = call_logs.build(conn, call_sid, adapter,
                                   base_url=settings.server.public_base_url)
        except call_logs.CallMissing:
            return None
        row = conn.execute(calls.select().where(calls.c.call_sid == call_sid)).first()
    context = from_log(log_)
    summary = (row.customer if row is not None else None) or {}
    if row is not None and row.our_number:
        context = replace(context, our_number=row.our_number)
    if not context.customer_name and summary.get("name"):
        # Another CRM (or the phone index) knows the caller: {NAME} is still worth sending.
        context = context.with_customer(str(summary.get("name", "")),
                                        str(summary.get("company", "")), context.customer_id)
    return context


def fire_event(adapter_name: str, event: str, call_sid: str) -> dict[str, Any]:
    """Send ``event``'s template of ``adapter_name`` for ``call_sid``, once."""
    adapter = template_adapters().get(adapter_name)
    if adapter is None:
        return {"adapter": adapter_name, "event": event, "skipped": "not enabled"}
    context = call_context(call_sid, adapter_name)
    if context is None:
        return {"adapter": adapter_name, "event": event, "skipped": "no such call"}
    if event == "answered" and not context.answered:
        # The leg that answered may be reported before the call record knows it.
        raise AdapterTemporaryError(f"call {call_sid} is not answered yet",
                                    adapter=adapter_name)
    try:
        sent = adapter.fire(event, context)
    except AdapterTemporaryError:
        raise  # rq retries it (RETRY_INTERVALS), then keeps it in the failed registry
    except Exception:
        job = get_current_job()
        if job is not None:
            job.retries_left = 0  # a wrong template or a refusal: retrying cannot help
        raise
    return {"adapter": adapter_name, "event": event, "sent": sent}
