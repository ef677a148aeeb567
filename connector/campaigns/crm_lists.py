"""Call lists from the CRMs: ``POST /api/campaigns/<id>/contacts/import-crm`` (admins).

Besides a CSV file, a campaign's list can come from

* the built-in CRM — ``{"source": "builtin", "query"?: "…", "tag"?: "…"}``, the customers the
  built-in CRM's search finds (its search box and tag filter);
* kintone — ``{"source": "kintone", "view"?: "<view name or id>", "condition"?: "<query>",
  "app"?: "<app name>"}``, the CRM app's records in a view and/or matching a condition;
* Salesforce — ``{"source": "salesforce", "object": "Contact", "list_view": "<id>"}`` or
  ``{"source": "salesforce", "soql": "SELECT Id FROM Contact WHERE …"}``.

Each customer's first phone number is checked exactly as a file's row is (CF-12, the
restriction and block lists, do-not-call, duplicates by normalised number); every refusal is
reported with the record's position (``line``) and id (``record``), and nothing is imported
unless every record passes or ``skip_invalid`` is true. The CRM is read before anything is
written, so a CRM that fails half-way imports nothing either.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, jsonify

from crm_adapters.base import Customer
from crm_adapters.errors import (
    AdapterConfigError,
    AdapterError,
    AdapterPermanentError,
)
from voice.campaigns import calllist

from .. import clock, crm, db
from ..auth import require_auth
from ..builtin_crm import store as builtin_store
from ..errors import APIError
from ..messages import Text
from ..validation import fields, invalid_fields, json_object
from . import store, texts
from .api import dial_check, find_campaign

log = logging.getLogger("cti.campaigns")

bp = Blueprint("campaigns_crm_lists", __name__, url_prefix="/api/campaigns")

SOURCES = ("builtin", "kintone", "salesforce")
UNKNOWN_SOURCE = Text("builtin・kintone・salesforce のどれかを指定してください",
                      "one of builtin, kintone, salesforce")
NOT_ENABLED = Text("この CRM は有効になっていません（crm.adapters）",
                   "this CRM is not enabled (crm.adapters)")
SOURCE_NEEDED = Text("{what} を指定してください", "give {what}")
CRM_REFUSED = Text("CRM が一覧の取得を断りました: {reason}", "The CRM refused the list: {reason}")
CRM_FAILED = Text("CRM から一覧を取得できませんでした。しばらくしてから再度お試しください。",
                  "The list could not be read from the CRM; try again later.")
TOO_MANY = Text(f"件数が多すぎます（{calllist.MAX_ROWS:,} 件まで）。条件を絞ってください。",
                f"Too many records (at most {calllist.MAX_ROWS:,}); narrow the filter.")


@bp.post("/<int:campaign_id>/contacts/import-crm")
@require_auth("admin")
def import_from_crm(campaign_id: int) -> Any:
    body = fields(json_object(), {"source": str},
                  {"query": str, "tag": str, "view": str, "condition": str, "app": str,
                   "object": str, "list_view": str, "soql": str, "skip_invalid": bool})
    with db.get_engine().connect() as conn:
        find_campaign(conn, campaign_id)
    records = _records(body)  # the CRM first: nothing is written while it answers
    now = clock.now()
    with db.get_engine().begin() as conn:
        campaign = find_campaign(conn, campaign_id)
        rows, refused = calllist.check_records(records, check=dial_check(conn, campaign),
                                               existing=store.numbers_of(conn, campaign_id))
        report = {"source": body["source"], "records": len(records),
                  "rejected": [r.public() for r in refused]}
        if refused and not body.get("skip_invalid"):
            raise APIError(422, "rows_rejected", texts.IMPORT_REJECTED.format(
                count=len(refused)), {**report, "imported": 0, "valid": len(rows)})
        added = store.add_contacts(conn, campaign_id, rows, now=now)
    return jsonify({**report, "imported": added})


def _records(body: dict[str, Any]) -> list[dict[str, str]]:
    source = body["source"]
    if source not in SOURCES:
        raise invalid_fields({"source": UNKNOWN_SOURCE}, {"source": "unknown_source"})
    if source == "builtin":
        return _bounded(_builtin(body))
    adapter = crm.get_layer().adapters.get(source)
    if adapter is None:
        raise invalid_fields({"source": NOT_ENABLED}, {"source": "not_enabled"})
    try:
        if source == "kintone":
            customers = adapter.call_list(view=body.get("view", ""),  # type: ignore[attr-defined]
                                          condition=body.get("condition", ""),
                                          app_name=body.get("app", ""))
        else:
            customers = _salesforce(adapter, body)
        return _bounded(_record(c) for c in customers)
    except (AdapterConfigError, AdapterPermanentError) as exc:
        raise APIError(422, "crm_refused", CRM_REFUSED.format(reason=str(exc))) from None
    except AdapterError as exc:
        log.warning("call list not read from %s: %s", source, exc)
        raise APIError(502, "crm_unavailable", CRM_FAILED) from None


def _salesforce(adapter: Any, body: dict[str, Any]) -> Iterator[Customer]:
    if body.get("list_view"):
        if not body.get("object"):
            raise invalid_fields({"object": SOURCE_NEEDED.format(what="object")},
                                 {"object": "required"})
        return adapter.call_list(sobject=body["object"], list_view=body["list_view"])
    if not body.get("soql"):
        raise invalid_fields({"soql": SOURCE_NEEDED.format(what="list_view / soql")},
                             {"soql": "required"})
    return adapter.call_list(query=body["soql"])


def _builtin(body: dict[str, Any]) -> Iterator[dict[str, str]]:
    """The built-in CRM's search, page by page (its pages are capped)."""
    offset = 0
    with db.get_engine().connect() as conn:
        while True:
            page, total = builtin_store.search(conn, body.get("query", ""),
                                               tag=body.get("tag", ""),
                                               limit=builtin_store.MAX_PAGE, offset=offset)
            for customer in page:
                phones = customer["phones"]
                yield {"phone": phones[0]["e164"] if phones else "", "name": customer["name"],
                       "company": customer["company"], "crm_id": str(customer["id"])}
            offset += len(page)
            if not page or offset >= total:
                return


def _record(customer: Customer) -> dict[str, str]:
    return {"phone": customer.phone_numbers[0] if customer.phone_numbers else "",
            "name": customer.display_name, "company": customer.company,
            "crm_id": customer.record_id}


def _bounded(found: Iterator[dict[str, str]]) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    try:
        for record in found:
            if len(records) >= calllist.MAX_ROWS:
                raise invalid_fields({"source": TOO_MANY}, {"source": "too_many_rows"})
            records.append(record)
    finally:
        getattr(found, "close", lambda: None)()  # a kintone cursor left open is deleted now
    return records
