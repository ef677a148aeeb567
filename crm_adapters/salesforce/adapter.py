"""The Salesforce adapter: SOSL phone lookups, SOQL sync, Task upserts keyed by CallSid.

REST API guide: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/
Requests per operation (what the API allowance pays for):

* lookup: one SOSL search over every lookup object;
* write of up to 200 logs: one sObject Collections upsert, plus one SOQL for agents not seen by
  this adapter instance before, plus one upsert for re-written calls (``TaskSubtype``);
* login: one token request per adapter instance, again only after a 401.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests

from ..base import AdapterEnvironment, CallLog, Check, CRMAdapter, Customer, WriteResult
from ..errors import AdapterConfigError, AdapterRateLimited, AdapterTemporaryError
from . import calllists, soql
from .auth import JwtBearerAuth
from .checks import run_checks
from .owners import OwnerDirectory
from .phones import mask, search_forms
from .rest import (
    RATE_LIMIT_RETRY_AFTER,
    ApiUsage,
    SalesforceRest,
    is_lock_error,
    parse_errors,
)
from .settings import SalesforceSettings
from .tasks import (
    duplicate_race,
    rejects_subtype,
    task_record,
    without_subtype,
    write_result,
)

_E164 = re.compile(r"\+[1-9]\d{4,14}")

#: Most records one sObject Collections request accepts.
COLLECTION_LIMIT = 200


class SalesforceAdapter(CRMAdapter):
    """Salesforce through the REST API, authenticated with the JWT bearer flow."""

    name: ClassVar[str] = "salesforce"
    display_name: ClassVar[str] = "Salesforce"
    Settings: ClassVar[type] = SalesforceSettings
    write_batch_limit: ClassVar[int] = COLLECTION_LIMIT
    supports_sync: ClassVar[bool] = True

    settings: SalesforceSettings

    def __init__(self, settings: SalesforceSettings, *, http: requests.Session,
                 env: AdapterEnvironment | None = None) -> None:
        super().__init__(settings, http=http, env=env)
        self.auth = JwtBearerAuth(settings, http, adapter=self.name)
        self.rest = SalesforceRest(settings, http, self.auth, adapter=self.name, log=self.log)
        self.owners = OwnerDirectory(settings, self.rest, self.log)

    @property
    def server_side(self) -> bool:
        return self.settings.uses_api

    # -- lookups -----------------------------------------------------------------------------

    def lookup_by_phone(self, e164: str) -> list[Customer]:
        if not _E164.fullmatch(e164):
            raise ValueError(f"lookup_by_phone needs an E.164 number, got {mask(e164)!r}")
        self._require_api()
        returning = [(name, self.settings.fields_for(name).select_fields())
                     for name in self.settings.lookup_objects]
        query = soql.phone_search(search_forms(e164), returning)
        body = self.rest.get("search/", params={"q": query})
        records = body.get("searchRecords", []) if isinstance(body, dict) else body
        customers = list({c.record_id: c for c in map(self._customer, records)}.values())
        self.log.debug("lookup %s: %d match(es)", mask(e164), len(customers))
        return customers

    def contacts_changed_since(self, since: datetime | None) -> Iterator[Customer]:
        self._require_api()
        per_object = [self._changed(name, since) for name in self.settings.lookup_objects]
        # Each object's query is ordered by LastModifiedDate; merge them lazily, page by page.
        return heapq.merge(*per_object, key=lambda c: c.updated_at)

    def screen_pop_url(self, customer: Customer) -> str | None:
        if customer.url:
            return customer.url
        session = self.auth.cached
        if session and customer.record_id and customer.object_type:
            return record_url(session.instance_url, customer.object_type, customer.record_id)
        return None

    # -- write-back --------------------------------------------------------------------------

    def write_call_logs(self, logs: Sequence[CallLog]) -> list[WriteResult]:
        if len(logs) > self.write_batch_limit:
            raise ValueError(f"at most {self.write_batch_limit} logs per call, got {len(logs)}")
        if not logs:
            return []
        self._require_api()
        # Salesforce rejects every copy of an external id repeated in one request, so a batch
        # holding two versions of one call sends only the last; both get its result.
        latest = list({log.call_sid: log for log in logs}.values())
        owners = self.owners.resolve(log.agent_crm_user for log in latest)
        self._defer_if_reserve_reached()
        records = [task_record(log, self.settings, timezone=self.env.timezone,
                               owner_id=owners.get(log.agent_crm_user.strip()))
                   for log in latest]
        results = self._upsert_tasks(records)
        by_sid = {log.call_sid: result for log, result in zip(latest, results, strict=True)}
        return [write_result(log, by_sid[log.call_sid]) for log in logs]

    @property
    def api_usage(self) -> ApiUsage | None:
        """The org's API usage from the last response, or None before the first request."""
        return self.rest.usage

    def check(self) -> list[Check]:
        try:
            return run_checks(self.settings, self.auth, self.rest)
        except Exception as exc:  # check() reports every problem; it never raises
            return [Check("salesforce.check", False,
                          f"the check itself failed ({type(exc).__name__}: {exc})")]

    # -- internals ---------------------------------------------------------------------------

    def call_list(self, *, sobject: str = "", list_view: str = "",
                  query: str = "") -> Iterator[Customer]:
        """The customers of a call list (発信リスト): the records of ``sobject``'s list view
        ``list_view`` (its id), or of the SOQL ``query``, read with the adapter's fields.

        Raises:
            AdapterConfigError: The object is not one of ``lookup_objects``.
        """
        self._require_api()
        if list_view:
            described = self.rest.get(calllists.list_view_path(sobject, list_view))
            query = str(described.get("query") or "")
        sobject = calllists.object_of(query)
        if sobject not in self.settings.lookup_objects:
            raise AdapterConfigError(f"{sobject} is not one of lookup_objects "
                                     f"({', '.join(self.settings.lookup_objects)})",
                                     adapter=self.name)
        fields = self.settings.fields_for(sobject).select_fields()
        for row in self.rest.query_all(calllists.with_fields(query, fields)):
            yield self._customer(row, sobject)

    def _require_api(self) -> None:
        if not self.settings.uses_api:
            raise AdapterConfigError("logging_path = 'browser': this deployment makes no "
                                     "Salesforce API calls (the softphone uses Open CTI)",
                                     adapter=self.name)

    def _upsert_tasks(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Upsert, then re-send the records refused only for the insert-only ``TaskSubtype``
        (Tasks that already existed) without it."""
        results = self._upsert(records)
        self._raise_if_retryable(results)
        again = [i for i, result in enumerate(results) if rejects_subtype(result)]
        if again:
            retried = self._upsert([without_subtype(records[i]) for i in again])
            for i, result in zip(again, retried, strict=True):
                results[i] = result
            self._raise_if_retryable(results)
        return results

    def _upsert(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        path = f"composite/sobjects/Task/{self.settings.task_callsid_field}"
        results = self.rest.patch(path, {"allOrNone": False, "records": records})
        if not isinstance(results, list) or len(results) != len(records):
            raise AdapterTemporaryError("upsert answered with an unexpected body",
                                        adapter=self.name)
        return results

    def _raise_if_retryable(self, results: list[dict[str, Any]]) -> None:
        """Record locks and create races fail single records but deserve a retry of the batch:
        the upsert is idempotent, so the records that did succeed are only updated again."""
        field = self.settings.task_callsid_field
        for result in results:
            errors = parse_errors(result.get("errors"))
            if is_lock_error(errors):
                raise AdapterTemporaryError(f"Task record locked: {errors[0]}",
                                            adapter=self.name)
            if duplicate_race(result, field):
                raise AdapterTemporaryError("another writer created the same CallSid at the "
                                            "same moment", adapter=self.name)

    def _defer_if_reserve_reached(self) -> None:
        usage = self.rest.usage
        reserve = self.settings.api_reserve_percent
        if usage is not None and reserve and usage.remaining_percent < reserve:
            raise AdapterRateLimited(
                f"only {usage.remaining_percent:.1f}% of the daily API allowance left "
                f"({usage.used}/{usage.limit}), below api_reserve_percent = {reserve:g}; "
                "call logs are deferred", adapter=self.name, retry_after=RATE_LIMIT_RETRY_AFTER)

    def _changed(self, sobject: str, since: datetime | None) -> Iterator[Customer]:
        config = self.settings.fields_for(sobject)
        query = soql.changed_since(sobject, config.select_fields(), config.phone_fields, since)
        for row in self.rest.query_all(query):
            yield self._customer(row, sobject)

    def _customer(self, row: dict[str, Any], sobject: str = "") -> Customer:
        kind = sobject or str(row.get("attributes", {}).get("type", ""))
        config = self.settings.fields_for(kind)
        record_id = str(row["Id"])
        session = self.auth.cached
        return Customer(
            adapter=self.name,
            record_id=record_id,
            display_name=str(_path(row, config.name_field) or ""),
            object_type=kind,
            company=str(_path(row, config.company_field) or "") if config.company_field else "",
            phone_numbers=tuple(str(row[f]) for f in config.phone_fields if row.get(f)),
            url=record_url(session.instance_url, kind, record_id) if session else "",
            updated_at=_utc_iso(row.get("LastModifiedDate")),
        )


def record_url(instance_url: str, sobject: str, record_id: str) -> str:
    """The Lightning Experience record page."""
    return f"{instance_url}/lightning/r/{sobject}/{record_id}/view"


def _path(row: dict[str, Any], path: str) -> Any:
    """``Account.Name`` -> ``row["Account"]["Name"]`` (None when the relation is empty)."""
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _utc_iso(value: Any) -> str:
    """Salesforce's ``2026-11-20T01:02:03.000+0000`` -> ``2026-11-20T01:02:03Z``."""
    if not value:
        return ""
    text = str(value)
    moment = datetime.fromisoformat(re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", text))
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
