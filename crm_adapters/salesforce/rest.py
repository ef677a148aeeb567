"""REST calls to the org: bearer token, one re-login on 401, limit tracking, typed errors.

Every request goes through the injected ``requests.Session`` (it carries the timeouts). Errors
arrive as a JSON array ``[{"message", "errorCode", "fields"}]`` (per-record results of sObject
Collections say ``statusCode`` instead of ``errorCode``); they are mapped onto the connector's
typed errors here, in one place.
https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from ..errors import (
    AdapterConfigError,
    AdapterRateLimited,
    AdapterTemporaryError,
)
from ..http import raise_for_status, transport_errors
from .auth import JwtBearerAuth, Session
from .settings import SalesforceSettings

LIMIT_HEADER = "Sforce-Limit-Info"
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")

#: Seconds to wait before writing again when the daily allowance is (nearly) spent. Salesforce
#: counts over a rolling 24 h and sends no Retry-After, so this is a polling interval.
RATE_LIMIT_RETRY_AFTER = 900.0

_LOCK_MARKERS = ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")


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


def raise_api_error(response: requests.Response, *, adapter: str) -> None:
    """Raise the typed error for a failed REST response; return for a 2xx/3xx one."""
    if response.status_code < 400:
        return
    errors = parse_errors(_json_or_none(response))
    codes = {e.code for e in errors}
    detail = "; ".join(str(e) for e in errors)[:500]
    if is_lock_error(errors):
        raise AdapterTemporaryError(f"record locked, retry later: {detail}", adapter=adapter)
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        raise AdapterRateLimited(f"the org's API limit is exhausted: {detail}", adapter=adapter,
                                 retry_after=RATE_LIMIT_RETRY_AFTER)
    if codes & {"API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED"}:
        raise AdapterConfigError(
            f"no REST API access ({detail}): give the integration user the \"API Enabled\" "
            "permission, or on editions without API access set logging_path = 'browser'",
            adapter=adapter)
    if codes & {"INVALID_FIELD", "INVALID_TYPE"} or "external id field" in detail.lower():
        raise AdapterConfigError(
            f"{detail} — check lookup_objects, object_fields and the task_* field settings, "
            "and the integration user's field access (run the connection check)",
            adapter=adapter)
    raise_for_status(response, adapter=adapter, detail=detail)


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

    @property
    def data_root(self) -> str:
        return f"/services/data/v{self.settings.api_version}/"

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return self._body(self.request("GET", path, params=params))

    def patch(self, path: str, body: Any) -> Any:
        return self._body(self.request("PATCH", path, json=body))

    def query_all(self, soql: str) -> Iterator[dict[str, Any]]:
        """Every record of a SOQL query, following ``nextRecordsUrl`` page by page."""
        page = self.get("query", params={"q": soql})
        while True:
            yield from page.get("records", [])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self.get(next_url)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send one request; log in again once if the session was refused."""
        session = self.auth.session()
        response = self._send(session, method, path, **kwargs)
        if response.status_code == 401:
            # Sessions expire after inactivity or are revoked; a second 401 is a real refusal.
            self.log.info("Salesforce refused the session; logging in again")
            response = self._send(self.auth.refresh(session), method, path, **kwargs)
        raise_api_error(response, adapter=self.adapter)
        return response

    def url(self, session: Session, path: str) -> str:
        """``path`` is relative to the data root, or absolute (``/services/...``)."""
        if path.startswith("/"):
            return session.instance_url + path
        return session.instance_url + self.data_root + path

    def _send(self, session: Session, method: str, path: str,
              **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {session.access_token}",
                   "Accept": "application/json"}
        with transport_errors(self.adapter):
            response = self.http.request(method, self.url(session, path), headers=headers,
                                         **kwargs)
        self.data_requests += 1
        self._note_usage(response)
        # The path only: query strings carry SOSL terms (phone numbers).
        self.log.debug("%s %s -> %s", method, path.split("?")[0], response.status_code)
        return response

    def _body(self, response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            # A proxy or maintenance page answering for Salesforce, not the API itself.
            raise AdapterTemporaryError(
                f"answer to {response.request.method} {path_of(response.url)} is not JSON "
                f"(HTTP {response.status_code})", adapter=self.adapter) from None

    def _note_usage(self, response: requests.Response) -> None:
        match = _USAGE.search(response.headers.get(LIMIT_HEADER, ""))
        if match:
            self.usage = ApiUsage(int(match.group(1)), int(match.group(2)))


def path_of(url: str) -> str:
    """Only the path: query strings carry SOSL terms (phone numbers)."""
    return urlsplit(url).path or "/"


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
