"""Reading every changed record of the CRM app, oldest change first, without ``offset``.

kintone refuses ``offset`` above 10,000, so large apps are read one of two ways:

* **seek** (default): keyset paging on (updated time, ``$id``) — each page asks for records after
  the last one seen, ``limit 500``. It needs nothing but plain queries, holds nothing open on
  kintone's side, and a page that fails can simply be asked for again.
* **cursor**: kintone's cursor API (``size`` 500). A domain has at most **10** live cursors,
  shared with every plugin and integration, so a cursor is always deleted in ``finally`` if it
  was not read to the end (kintone drops exhausted cursors itself). When the domain's cursors
  are all taken (``GAIA_TM12``) the adapter falls back to seek.

Updated times in kintone have minute resolution, so many records share one; the keyset compares
``$id`` within a minute. Only ``>``, ``>=`` and ``<=`` are used on the time (the documented
operators for date-time fields), never ``=``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from ..errors import AdapterError
from .client import KintoneClient
from .records import ID_FIELD, crm_fields, quote, text_of
from .settings import KintoneApp

#: kintone's largest page for records GET and for cursors.
PAGE_SIZE = 500

Record = dict[str, Any]


def since_condition(app: KintoneApp, since: datetime | None) -> str:
    """Records changed in ``since``'s minute or later: kintone keeps whole minutes, so a record
    changed later in the minute of the last sync must not be missed (the index dedupes)."""
    if since is None:
        return ""
    moment = since if since.tzinfo else since.replace(tzinfo=UTC)
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00Z")
    return f"{app.updated_time_field} >= {quote(stamp)}"


def order_clause(app: KintoneApp) -> str:
    return f"order by {app.updated_time_field} asc, {ID_FIELD} asc"


def seek_pages(client: KintoneClient, app: KintoneApp,
               since: datetime | None) -> Iterator[list[Record]]:
    """Pages of records by keyset paging on (updated time, ``$id``)."""
    base = since_condition(app, since)
    after: tuple[str, str] | None = None
    while True:
        conditions = [c for c in (base, _after_condition(app, after)) if c]
        query = " and ".join(f"({c})" for c in conditions)
        query = f"{query} {order_clause(app)} limit {PAGE_SIZE}".strip()
        params = {"app": app.app_id, "query": query, "fields": crm_fields(app)}
        page = client.get(app, "records", params, what="sync customers", override=True)
        records: list[Record] = page.get("records") or []
        if records:
            yield records
        if len(records) < PAGE_SIZE:
            return
        last = records[-1]
        after = (text_of(last, app.updated_time_field), text_of(last, ID_FIELD))


def _after_condition(app: KintoneApp, after: tuple[str, str] | None) -> str:
    if after is None:
        return ""
    field, (stamp, record_id) = app.updated_time_field, after
    moment = quote(stamp)
    return (f"{field} > {moment} or ({field} >= {moment} and {field} <= {moment} "
            f"and {ID_FIELD} > {int(record_id)})")


def open_cursor(client: KintoneClient, app: KintoneApp, since: datetime | None) -> str:
    """Create a cursor over the changed records; return its id."""
    query = f"{since_condition(app, since)} {order_clause(app)}".strip()
    body = {"app": app.app_id, "fields": crm_fields(app), "query": query, "size": PAGE_SIZE}
    created = client.send(app, "POST", "records/cursor", body=body,
                          what="sync customers (create cursor)")
    return str(created["id"])


def cursor_pages(client: KintoneClient, app: KintoneApp, cursor_id: str,
                 log: logging.Logger) -> Iterator[list[Record]]:
    """Pages from an open cursor; the cursor is deleted unless it was read to the end."""
    exhausted = False
    try:
        while True:
            page = client.get(app, "records/cursor", {"id": cursor_id},
                              what="sync customers (read cursor)")
            records: list[Record] = page.get("records") or []
            if records:
                yield records
            if not page.get("next"):
                exhausted = True
                return
    finally:
        if not exhausted:
            _delete_cursor(client, app, cursor_id, log)


def _delete_cursor(client: KintoneClient, app: KintoneApp, cursor_id: str,
                   log: logging.Logger) -> None:
    try:
        client.send(app, "DELETE", "records/cursor", body={"id": cursor_id},
                    what="sync customers (delete cursor)")
    except AdapterError as exc:
        # Nothing more to do: kintone expires it after about 10 minutes.
        log.warning("could not delete kintone cursor of app %s: %s", app.label, exc)
