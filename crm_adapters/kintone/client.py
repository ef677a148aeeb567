"""The only place that talks HTTP to kintone: URLs, headers, limits and error typing.

Every request
  * holds one of our ``max_concurrency`` slots of the domain (kintone allows 100 simultaneous
    requests per domain for *all* integrations; the 101st gets HTTP 429 and so does everyone
    else's until the load drops), through the deployment-wide :class:`~crm_adapters.base.Limiter`;
  * is counted against the app's daily allowance (10,000 requests per app per day on the
    Standard course; the day resets at 09:00 JST), logging one warning per app and day when
    the count passes ``daily_request_warning`` — kintone does not refuse more, it e-mails the
    store admin and may throttle the customer;
  * authenticates with the app's own API token (plus Basic authentication when configured).

Record reads are sent as ``POST`` with ``X-HTTP-Method-Override: GET`` and a JSON body, as
kintone's own SDK does for long URLs: lookup queries list many number formats (too long for a
4,096-character URL) and must not end up in proxy or urllib3 debug logs, which record URLs.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import requests

from ..base import Limiter
from ..errors import AdapterTemporaryError
from ..http import transport_errors
from .errors import VALIDATION_CODE, KintoneError, raise_for_error
from .settings import KintoneApp, KintoneSettings

#: kintone resets its per-app daily request counters at 09:00 Japan time.
DAY_TZ = "Asia/Tokyo"
DAY_RESET_HOUR = 9


class KintoneClient:
    """Sends REST requests for the apps of one :class:`KintoneSettings`."""

    def __init__(self, settings: KintoneSettings, *, http: requests.Session, limiter: Limiter,
                 log: logging.Logger, adapter: str = "kintone") -> None:
        self.settings = settings
        self.http = http
        self.limiter = limiter
        self.log = log
        self.adapter = adapter

    # -- URLs --------------------------------------------------------------------------------

    def api_url(self, api: str) -> str:
        """``records`` → ``https://x.cybozu.com/k/v1/records.json`` (or the guest-space path)."""
        space = self.settings.guest_space_id
        prefix = f"/k/guest/{space}/v1" if space else "/k/v1"
        return f"{self.settings.base_url}{prefix}/{api}.json"

    def app_url(self, app_id: int | str) -> str:
        """The app's pages in kintone's desktop UI: ``https://x.cybozu.com/k/3/`` (record list).

        The guest-space shape ``/k/guest/<space>/<app>/`` is UNVERIFIED (seen in public
        customisation code, not in Cybozu's documentation).
        """
        space = self.settings.guest_space_id
        prefix = f"/k/guest/{space}" if space else "/k"
        return f"{self.settings.base_url}{prefix}/{app_id}/"

    def record_url(self, app_id: int | str, record_id: int | str) -> str:
        """The record's page in kintone's desktop UI (the screen pop)."""
        return f"{self.app_url(app_id)}show#record={record_id}"

    def new_record_url(self, app_id: int | str) -> str:
        """The app's "add record" screen (レコード追加画面).

        ``<app>/edit`` is UNVERIFIED: it is what kintone's own 追加 button opens, but Cybozu does
        not document it as an API.
        """
        return f"{self.app_url(app_id)}edit"

    # -- requests ----------------------------------------------------------------------------

    def get(self, app: KintoneApp, api: str, params: Mapping[str, Any], *, what: str,
            override: bool = False) -> dict[str, Any]:
        """GET ``api``; with ``override`` the parameters travel in a JSON body instead."""
        if override:
            return self.send(app, "POST", api, body=dict(params), what=what,
                             headers={"X-HTTP-Method-Override": "GET"})
        query = urlencode(_flatten(params))
        return self.send(app, "GET", api, query=query, what=what)

    def send(self, app: KintoneApp, method: str, api: str, *, what: str,
             body: Mapping[str, Any] | None = None, query: str = "",
             headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Send one request for ``app`` and return its JSON; raise typed errors.

        Args:
            what: the operation, for messages ("lookup", "write call logs").
        """
        response = self._request(app, method, api, body=body, query=query, headers=headers)
        return self._json(response, app, what)

    def send_validated(self, app: KintoneApp, method: str, api: str, *, what: str,
                       body: Mapping[str, Any]) -> tuple[dict[str, Any], KintoneError | None]:
        """Like :meth:`send`, but a validation error (``CB_VA01``) is returned, not raised,
        so the caller can tell which records kintone rejected."""
        response = self._request(app, method, api, body=body)
        if response.status_code == 400:
            error = KintoneError.from_response(response)
            if error.code == VALIDATION_CODE:
                return {}, error
        return self._json(response, app, what), None

    def _request(self, app: KintoneApp, method: str, api: str, *,
                 body: Mapping[str, Any] | None = None, query: str = "",
                 headers: Mapping[str, str] | None = None) -> requests.Response:
        url = self.api_url(api) + (f"?{query}" if query else "")
        all_headers = self._headers(app, has_body=body is not None)
        all_headers.update(headers or {})
        self._count(app)
        name = f"kintone:{self.settings.domain}"
        with self.limiter.slot(name, self.settings.max_concurrency, self.settings.slot_timeout):
            with transport_errors(self.adapter):
                return self.http.request(method, url, json=body, headers=all_headers)

    def _json(self, response: requests.Response, app: KintoneApp, what: str) -> dict[str, Any]:
        where = f"kintone app {app.label}: {what}"
        raise_for_error(response, adapter=self.adapter, where=where,
                        basic_auth=bool(self.settings.basic_auth_user))
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise AdapterTemporaryError(f"{where}: kintone answered HTTP "
                                        f"{response.status_code} without JSON",
                                        adapter=self.adapter)
        return data

    def _headers(self, app: KintoneApp, *, has_body: bool) -> dict[str, str]:
        headers = {"X-Cybozu-API-Token": app.api_token.reveal()}
        password = self.settings.basic_auth_password
        if self.settings.basic_auth_user and password:
            pair = f"{self.settings.basic_auth_user}:{password.reveal()}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        if has_body:
            headers["Content-Type"] = "application/json"
        return headers

    def _count(self, app: KintoneApp) -> None:
        name = f"kintone:{self.settings.domain}:app:{app.app_id}"
        count = self.limiter.count_today(name, tz=DAY_TZ, reset_hour=DAY_RESET_HOUR)
        # The counter is shared by every process, so exactly one request sees this value.
        if count == self.settings.daily_request_warning + 1:
            self.log.warning(
                "kintone app %s has made more than %d API requests today (the day resets at "
                "09:00 JST); kintone's Standard course allows 10,000 per app and day and "
                "e-mails the administrator when they are exceeded", app.label,
                self.settings.daily_request_warning)


def _flatten(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """kintone's query-string arrays: ``fields[0]=a&fields[1]=b``."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            pairs += [(f"{key}[{i}]", str(v)) for i, v in enumerate(value)]
        elif isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        else:
            pairs.append((key, str(value)))
    return pairs
