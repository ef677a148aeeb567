"""Call lists (発信リスト) from a kintone app: the records of one of its views, or of a query.

A view's filter (``filterCond``) and sort come from ``GET /k/v1/app/views.json``; the records
are read through a cursor (``size`` 500, kintone's largest page) because plain record GETs stop
at ``offset`` 10,000 — a call list can be longer than that. A cursor is one of the domain's 10,
so it is deleted unless it was read to the end (:func:`.sync.cursor_pages`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from ..errors import AdapterPermanentError
from .client import KintoneClient
from .records import ID_FIELD, crm_fields
from .settings import KintoneApp
from .sync import PAGE_SIZE, Record, cursor_pages


def view_condition(client: KintoneClient, app: KintoneApp, view: str) -> tuple[str, str]:
    """The ``(filterCond, sort)`` of the app's view named ``view`` (its name as shown in
    kintone, or its id).

    Raises:
        AdapterPermanentError: No such view, or a view that is not a list (calendar, custom).
    """
    answer = client.get(app, "app/views", {"app": app.app_id}, what="read the app's views")
    views = answer.get("views") or {}
    found = views.get(view) or next(
        (v for v in views.values() if str(v.get("id")) == view), None)
    if found is None:
        known = ", ".join(sorted(views)) or "(none)"
        raise AdapterPermanentError(f"the kintone app {app.label} has no view {view!r} "
                                    f"(views: {known})", adapter="kintone")
    return str(found.get("filterCond") or ""), str(found.get("sort") or "")


def list_query(view: tuple[str, str] | None, condition: str) -> str:
    """A cursor query: the view's filter and the extra condition, in the view's order (else by
    record number). Cursor queries take no ``limit`` or ``offset``."""
    filters = [f"({c})" for c in (view[0] if view else "", condition.strip()) if c]
    sort = (view[1] if view and view[1] else "") or f"{ID_FIELD} asc"
    return f"{' and '.join(filters)} order by {sort}".strip()


def call_list_pages(client: KintoneClient, app: KintoneApp, query: str,
                    log: logging.Logger) -> Iterator[list[Record]]:
    """Pages of the matching records, through one cursor."""
    body = {"app": app.app_id, "fields": crm_fields(app), "query": query, "size": PAGE_SIZE}
    created = client.send(app, "POST", "records/cursor", body=body,
                          what="read a call list (create cursor)")
    return cursor_pages(client, app, str(created["id"]), log)

