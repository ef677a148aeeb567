"""REST calls to the org through simple-salesforce: one re-login on 401, limit tracking, typed
errors.

Each call builds a ``simple_salesforce.Salesforce`` client for the current access token (no
network, a handful of strings) around the injected ``requests.Session``, which carries the
timeouts. The client is used in its "direct" mode — given a token, not credentials — because its
own re-login retries an expired session up to three times, and this module retries it exactly
once, sharing the new token between threads (``JwtBearerAuth.refresh``).

simple-salesforce raises one exception class per HTTP status (``SalesforceExpiredSession``,
``SalesforceMalformedRequest``, ``SalesforceRefusedRequest``, ``SalesforceResourceNotFound``,
``SalesforceGeneralError``, ...) carrying Salesforce's error array
``[{"message", "errorCode", "fields"}]``; :func:`api_error` maps them onto the connector's typed
errors, in one place. Per-record results of sObject Collections say ``statusCode`` instead of
``errorCode`` and are read by :func:`parse_errors` too.
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce, SalesforceError, SalesforceExpiredSession

from ..errors import (
    AdapterConfigError,
    AdapterError,
    AdapterRateLimited,
    AdapterTemporaryError,
)
from ..http import raise_for_status, status_error, transport_errors
from .auth import JwtBearerAuth, Session
from .settings import SalesforceSettings

#: Seconds to wait before writing again when the daily allowance is (nearly) spent. Salesforce
#: counts over a rolling 24 h and sends no Retry-After, so this is a polling interval.
RATE_LIMIT_RETRY_AFTER = 900.0

_LOCK_MARKERS = ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")

T = TypeVar("T")


@dataclass(frozen=True)
class ApiUsage:
    """The org's rolling daily API usage, from the last ``Sforce-Limit-Info`` header."""

    used: int
    limit: int

    @property
    def remaining_percent(self) -> float:
        return 100.0 * max(0, self.limit - self.used) / self.limit if self.limit else 0.0


@dataclass(frozen=True)
class ApiError:
    """One entry of Salesforce's error array."""

    code: str
    message: str
    fields: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def parse_errors(body: Any) -> list[ApiError]:
    """The error array of a response body or of one per-record result."""
    items = body if isinstance(body, list) else [body] if isinstance(body, dict) else []
    errors = []
    for item in items:
        if not isinstance(item, dict):
            continue
        code = str(item.get("errorCode") or item.get("statusCode") or "UNKNOWN_ERROR")
        fields = tuple(str(f) for f in item.get("fields") or ())
        errors.append(ApiError(code, str(item.get("message", "")), fields))
    return errors


def is_lock_error(errors: list[ApiError]) -> bool:
    """A record lock, including one wrapped by a flow or trigger (``CANNOT_EXECUTE_FLOW_TRIGGER``
    whose message names ``UNABLE_TO_LOCK_ROW``): worth retrying later."""
    return any(marker.lower() in f"{e.code} {e.message}".lower()
               for e in errors for marker in _LOCK_MARKERS)


def api_error(exc: SalesforceError, request: str, *, adapter: str) -> AdapterError:
    """The typed error for a failed REST call; ``request`` is "METHOD path" (no query)."""
    errors = parse_errors(exc.content)
    codes = {e.code for e in errors}
    detail = "; ".join(str(e) for e in errors)[:500] or _text(exc.content)
    if is_lock_error(errors):
        return AdapterTemporaryError(f"record locked, retry later: {detail}", adapter=adapter)
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        return AdapterRateLimited(f"the org's API limit is exhausted: {detail}",
                                  adapter=adapter, retry_after=RATE_LIMIT_RETRY_AFTER)
    if codes & {"API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED"}:
        return AdapterConfigError(
            f"no REST API access ({detail}): give the integration user the \"API Enabled\" "
            "permission, or on editions without API access set logging_path = 'browser'",
            adapter=adapter)
    if codes & {"INVALID_FIELD", "INVALID_TYPE"} or "external id field" in detail.lower():
        return AdapterConfigError(
            f"{detail} — check lookup_objects, object_fields and the task_* field settings, "
            "and the integration user's field access (run the connection check)",
            adapter=adapter)
    return status_error(exc.status, request, adapter=adapter, detail=detail)


class SalesforceRest:
    """Authenticated REST calls against ``/services/data/v{api_version}/``."""

    def __init__(self, settings: SalesforceSettings, http: requests.Session,
                 auth: JwtBearerAuth, *, adapter: str, log: logging.Logger) -> None:
        self.settings = settings
        self.http = http
        self.auth = auth
        self.adapter = adapter
        self.log = log
        self.usage: ApiUsage | None = None
        self.data_requests = 0  # requests that count against the org's API allowance

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET ``path`` below the data root (``search/``, ``sobjects/Task/describe``)."""
        return self.call("GET", path, lambda sf: sf.restful(path, params=params))

    def patch(self, path: str, body: Any) -> Any:
        """PATCH ``path`` below the data root with a JSON body (sObject Collections upsert)."""
        return self.call("PATCH", path, lambda sf: sf.restful(path, method="PATCH", json=body))

    def query_all(self, soql: str) -> Iterator[dict[str, Any]]:
        """Every record of a SOQL query, following ``nextRecordsUrl`` page by page (each page is
        one call, so an expired session mid-way costs one re-login, not a restart)."""
        page = self.call("GET", "query", lambda sf: sf.query(soql))
        while True:
            yield from page.get("records", [])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self.call("GET", "query/", lambda sf, url=next_url: sf.query_more(
                url, identifier_is_url=True))

    def versions(self) -> list[str]:
        """The API versions the org offers. The Versions resource needs no session and is not
        counted, and simple-salesforce has no call for it."""
        url = f"{self.auth.session().instance_url}/services/data/"
        with transport_errors(self.adapter):
            response = self.http.get(url, headers={"Accept": "application/json"})
        raise_for_status(response, adapter=self.adapter)
        body = _json(response)
        if not isinstance(body, list):
            raise AdapterTemporaryError("the API versions answer is not a JSON list",
                                        adapter=self.adapter)
        return [str(v.get("version")) for v in body if isinstance(v, dict)]

    def call(self, method: str, path: str, operation: Callable[[Salesforce], T]) -> T:
        """Run ``operation`` on a client for the current session; log in again once if the
        session was refused (sessions expire after inactivity or are revoked; a second 401 is
        a real refusal)."""
        session = self.auth.session()
        try:
            return self._attempt(session, method, path, operation)
        except SalesforceExpiredSession:
            self.log.info("Salesforce refused the session; logging in again")
        session = self.auth.refresh(session)
        try:
            return self._attempt(session, method, path, operation)
        except SalesforceExpiredSession as exc:
            raise api_error(exc, f"{method} {path}", adapter=self.adapter) from None

    def _attempt(self, session: Session, method: str, path: str,
                 operation: Callable[[Salesforce], T]) -> T:
        client = Salesforce(session_id=session.access_token, instance_url=session.instance_url,
                            version=self.settings.api_version, session=self.http,
                            object_pairs_hook=dict)
        self.data_requests += 1
        try:
            with transport_errors(self.adapter):
                try:
                    result = operation(client)
                except requests.JSONDecodeError:
                    # A proxy or maintenance page answering for Salesforce, not the API.
                    raise AdapterTemporaryError(f"answer to {method} {path} is not JSON",
                                                adapter=self.adapter) from None
        except SalesforceExpiredSession:
            self.log.debug("%s %s -> 401", method, path)
            raise
        except SalesforceError as exc:
            # The path only: query strings carry SOSL terms (phone numbers).
            self.log.debug("%s %s -> %s", method, path, exc.status)
            raise api_error(exc, f"{method} {path}", adapter=self.adapter) from None
        self.log.debug("%s %s -> ok", method, path)
        usage = client.api_usage.get("api-usage")
        if usage is not None:
            self.usage = ApiUsage(usage.used, usage.total)
        return result


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _text(content: Any) -> str:
    """A short, single-line version of a non-JSON error body (an HTML error page)."""
    text = content.decode(errors="replace") if isinstance(content, bytes) else str(content)
    return " ".join(text.split())[:200]
