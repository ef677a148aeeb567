"""Example adapter: a copyable template for a CRM with a plain JSON REST API.

Copy this module to start an adapter for your CRM (see CONTRIBUTING.md, "Writing an adapter").
The "Example CRM" API it talks to is deliberately ordinary:

- ``GET  {base_url}/api/contacts?phone=+81312345678`` → ``{"contacts": [contact, ...]}``
- ``GET  {base_url}/api/contacts?updated_since=ISO&after=ID&limit=N``
  → ``{"contacts": [...], "next_after": ID | null}`` (oldest change first)
- ``PUT  {base_url}/api/call-logs`` with ``{"logs": [log, ...]}`` (≤ 100, upsert by ``call_sid``)
  → ``{"results": [{"call_sid", "id"} | {"call_sid", "error", "field"}]}``
- ``GET  {base_url}/api/me`` → 200 when the token is valid
- Auth: ``Authorization: Bearer <api_token>``; errors: 401, 429 (``Retry-After``), 5xx.

A contact is ``{"id", "name", "company", "phones": [...], "updated_at"}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from .base import CallLog, Check, CRMAdapter, Customer, WriteResult
from .errors import AdapterError, AdapterPermanentError
from .http import raise_for_status, transport_errors
from .settings import Secret


@dataclass(frozen=True)
class ExampleSettings:
    """``[crm.example]``"""

    base_url: str = ""
    api_token: Secret = Secret("")
    page_size: int = 200

    def __post_init__(self) -> None:
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError(f"base_url: an http(s) URL is required, got {self.base_url!r}")
        if not self.api_token:
            raise ValueError("api_token: required")
        if not 1 <= self.page_size <= 1000:
            raise ValueError("page_size: must be between 1 and 1000")


class ExampleAdapter(CRMAdapter):
    """The Example CRM (see the module docstring for its API)."""

    name: ClassVar[str] = "example"
    display_name: ClassVar[str] = "Example CRM"
    Settings: ClassVar[type] = ExampleSettings
    write_batch_limit: ClassVar[int] = 100
    supports_sync: ClassVar[bool] = True

    settings: ExampleSettings

    def lookup_by_phone(self, e164: str) -> list[Customer]:
        body = self._request("GET", "/api/contacts", params={"phone": e164})
        return [self._customer(c) for c in body.get("contacts", [])]

    def write_call_logs(self, logs: Sequence[CallLog]) -> list[WriteResult]:
        if len(logs) > self.write_batch_limit:
            raise ValueError(f"at most {self.write_batch_limit} logs per call")
        if not logs:
            return []
        body = self._request("PUT", "/api/call-logs", json={"logs": [log.to_dict()
                                                                      for log in logs]})
        by_sid = {r.get("call_sid"): r for r in body.get("results", [])}
        results = []
        for log in logs:
            result = by_sid.get(log.call_sid)
            if result is None:
                raise AdapterPermanentError(f"no result for call {log.call_sid}",
                                            adapter=self.name)
            results.append(WriteResult(log.call_sid, record_id=str(result.get("id", "")),
                                       error=str(result.get("error", "")),
                                       field=str(result.get("field", ""))))
        return results

    def screen_pop_url(self, customer: Customer) -> str | None:
        return customer.url or f"{self.settings.base_url}/contacts/{customer.record_id}"

    def contacts_changed_since(self, since: datetime | None) -> Iterator[Customer]:
        after: Any = None
        while True:
            params: dict[str, Any] = {"limit": self.settings.page_size}
            if since is not None:
                params["updated_since"] = since.isoformat()
            if after is not None:
                params["after"] = after
            body = self._request("GET", "/api/contacts", params=params)
            yield from (self._customer(c) for c in body.get("contacts", []))
            after = body.get("next_after")
            if after is None:
                return

    def check(self) -> list[Check]:
        try:
            self._request("GET", "/api/me")
        except AdapterError as exc:
            return [Check("connection", False, f"cannot use the Example CRM API: {exc}")]
        return [Check("connection", True, "signed in to the Example CRM API")]

    # -- internals ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.settings.api_token.reveal()}"}
        with transport_errors(self.name):
            response = self.http.request(method, self.settings.base_url + path,
                                         headers=headers, **kwargs)
        raise_for_status(response, adapter=self.name, detail=_error_text(response))
        try:
            return response.json()
        except ValueError as exc:
            raise AdapterPermanentError(f"not JSON from {path}", adapter=self.name) from exc

    def _customer(self, contact: dict[str, Any]) -> Customer:
        return Customer(adapter=self.name, record_id=str(contact["id"]),
                        display_name=str(contact.get("name", "")), object_type="contact",
                        company=str(contact.get("company", "")),
                        phone_numbers=tuple(contact.get("phones", [])),
                        url=f"{self.settings.base_url}/contacts/{contact['id']}",
                        updated_at=str(contact.get("updated_at", "")))


def _error_text(response: requests.Response) -> str:
    try:
        return str(response.json().get("error", ""))[:300]
    except ValueError:
        return ""
