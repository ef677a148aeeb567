"""A local fake of the "Example CRM" API (see ``crm_adapters/example.py``), with fault injection.

Upserts by ``call_sid`` like a real CRM, counts every request and every successful write per call,
and can fail the next requests with 401 / 429 / 5xx, hang past the client's timeout, or apply a
write and then answer 500 (the case retries must not duplicate).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from voice.numbering import NumberError, normalize

_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)


class FakeExampleCRM:
    """WSGI app + the ``FakeCRM`` protocol of ``crm_adapters.testing``."""

    def __init__(self, token: str = "example-token-123", hang_seconds: float = 1.5,
                 tick_seconds: float = 1.0) -> None:
        self.token = token
        self.hang_seconds = hang_seconds
        self.tick_seconds = tick_seconds
        self.lock = threading.Lock()
        self.contacts: dict[str, dict[str, Any]] = {}
        self.logs: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self.writes = Counter()  # call_sid -> successful writes
        self._failures: list[str] = []
        self._clock = 0
        self._next_log_id = 1

    # -- FakeCRM protocol --------------------------------------------------------------------

    def add_customer(self, name: str, phone: str, *, company: str = "") -> str:
        return self.add_contact(name, [phone], company=company)

    def fail_next(self, failure: str, times: int = 1) -> None:
        with self.lock:
            self._failures.extend([failure] * times)

    def logs_for(self, call_sid: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.logs.values() if r["call_sid"] == call_sid]

    # -- more controls -----------------------------------------------------------------------

    def add_contact(self, name: str, phones: list[str], *, company: str = "") -> str:
        with self.lock:
            contact_id = f"C{len(self.contacts) + 1:06d}"
            self.contacts[contact_id] = {"id": contact_id, "name": name, "company": company,
                                         "phones": list(phones), "updated_at": self._tick()}
            return contact_id

    def update_contact(self, contact_id: str, **changes: Any) -> None:
        with self.lock:
            self.contacts[contact_id].update(changes, updated_at=self._tick())

    def delete_contact(self, contact_id: str) -> None:
        with self.lock:
            del self.contacts[contact_id]

    def count(self, method: str, path: str) -> int:
        with self.lock:
            return sum(1 for m, p in self.requests if m == method and p == path)

    def _tick(self) -> str:
        """Modification times advance by ``tick_seconds`` per change."""
        self._clock += 1
        stamp = _EPOCH + timedelta(seconds=self._clock * self.tick_seconds)
        return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        with self.lock:
            self.requests.append((request.method, request.path))
            failure = self._failures.pop(0) if self._failures else None
        response = self._respond(request, failure)
        return response(environ, start_response)

    def _respond(self, request: Request, failure: str | None) -> Response:
        if failure == "timeout":
            time.sleep(self.hang_seconds)
            return _json({"error": "too late"}, 504)
        if failure in ("401", "429", "500", "503"):
            headers = {"Retry-After": "1"} if failure == "429" else {}
            return _json({"error": f"injected {failure}"}, int(failure), headers)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"error": "invalid token"}, 401)
        if request.path == "/api/me":
            return _json({"ok": True})
        if request.path == "/api/contacts" and request.method == "GET":
            return self._contacts(request)
        if request.path == "/api/call-logs" and request.method == "PUT":
            response = self._write_logs(request)
            # The write happened; the caller just never hears so (a lost response).
            return _json({"error": "lost response"}, 500) if failure == "after_write" else response
        return _json({"error": "not found"}, 404)

    def _contacts(self, request: Request) -> Response:
        phone = request.args.get("phone")
        with self.lock:
            contacts = sorted(self.contacts.values(), key=lambda c: (c["updated_at"], c["id"]))
        if phone:
            found = [c for c in contacts if phone in {_e164(p) for p in c["phones"]}]
            return _json({"contacts": found})
        since = request.args.get("updated_since", "")
        after = request.args.get("after", "")
        limit = int(request.args.get("limit", "200"))
        page = [c for c in contacts if c["updated_at"] > since.replace("+00:00", "Z")
                and (not after or (c["updated_at"], c["id"]) > tuple(after.split("|")))][:limit]
        next_after = (f"{page[-1]['updated_at']}|{page[-1]['id']}" if len(page) == limit
                      else None)
        return _json({"contacts": page, "next_after": next_after})

    def _write_logs(self, request: Request) -> Response:
        logs = (request.get_json(silent=True) or {}).get("logs")
        if not isinstance(logs, list) or not 1 <= len(logs) <= 100:
            return _json({"error": "logs: 1 to 100 per request"}, 400)
        results = []
        with self.lock:
            for log in logs:
                if "INVALID" in log.get("notes", ""):
                    results.append({"call_sid": log["call_sid"], "error": "rejected notes",
                                    "field": "notes"})
                    continue
                existing = next((r for r in self.logs.values()
                                 if r["call_sid"] == log["call_sid"]), None)
                if existing is None:
                    existing = {"id": f"L{self._next_log_id:06d}"}
                    self._next_log_id += 1
                    self.logs[existing["id"]] = existing
                existing.update(log)
                self.writes[log["call_sid"]] += 1
                results.append({"call_sid": log["call_sid"], "id": existing["id"]})
        return _json({"results": results})


def _e164(text: str) -> str:
    try:
        return normalize(text)
    except NumberError:
        return ""


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    mimetype="application/json")
