"""A cheap fake of the Example CRM for fault runs of thousands of calls (``bench/faults.py``).

The same API as :class:`tests.fakes.example_crm.FakeExampleCRM` and the same upsert by
``call_sid``, but every write is O(1) (logs indexed by CallSid), and the faults hit only the
call-log writes (``PUT /api/call-logs``), so caller lookups while the phone rings never use
them up:

- ``fail_next(kind, times)`` with ``"503"``, ``"429"`` (``Retry-After: 1``), ``"timeout"`` (hang
  ``hang_seconds``, then 504), ``"after_write"`` (apply the write, then answer 500: the lost
  response), ``"html502"`` (a proxy's HTML error page);
- ``refuse_auth(True)`` answers every request 401 until ``refuse_auth(False)`` (a revoked
  token, then the fix).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

from werkzeug.wrappers import Request, Response

_HTML_502 = ("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
             "Gateway</h1></center><hr><center>nginx</center></body></html>")


class FaultyCRM:
    """WSGI app of the Example CRM's call-log API, with injectable faults."""

    def __init__(self, token: str, hang_seconds: float = 16.0) -> None:
        self.token = token
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        self.logs: dict[str, dict[str, Any]] = {}  # call_sid -> the one record
        self.writes: Counter[str] = Counter()  # call_sid -> applied writes
        self.records_created: Counter[str] = Counter()  # call_sid -> records created
        self.first_write: dict[str, float] = {}  # call_sid -> time.monotonic()
        self.requests: Counter[str] = Counter()  # "METHOD /path" -> count
        self.faults_served: Counter[str] = Counter()
        self._failures: list[str] = []
        self._refuse_auth = False

    def fail_next(self, failure: str, times: int = 1) -> None:
        with self.lock:
            self._failures.extend([failure] * times)

    def refuse_auth(self, refuse: bool) -> None:
        with self.lock:
            self._refuse_auth = refuse

    def pending_failures(self) -> int:
        with self.lock:
            return len(self._failures)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        is_write = request.method == "PUT" and request.path == "/api/call-logs"
        with self.lock:
            self.requests[f"{request.method} {request.path}"] += 1
            failure = self._failures.pop(0) if is_write and self._failures else None
            if self._refuse_auth:
                failure = "401"
            if failure:
                self.faults_served[failure] += 1
        return self._respond(request, failure, is_write)(environ, start_response)

    def _respond(self, request: Request, failure: str | None, is_write: bool) -> Response:
        if failure == "timeout":
            time.sleep(self.hang_seconds)
            return _json({"error": "too late"}, 504)
        if failure in ("401", "429", "503"):
            headers = {"Retry-After": "1"} if failure == "429" else {}
            return _json({"error": f"injected {failure}"}, int(failure), headers)
        if failure == "html502":
            return Response(_HTML_502, status=502, mimetype="text/html")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json({"error": "invalid token"}, 401)
        if request.path == "/api/me":
            return _json({"ok": True})
        if request.path == "/api/contacts" and request.method == "GET":
            return _json({"contacts": [], "next_after": None})
        if is_write:
            response = self._write_logs(request)
            return (_json({"error": "lost response"}, 500) if failure == "after_write"
                    else response)
        return _json({"error": "not found"}, 404)

    def _write_logs(self, request: Request) -> Response:
        logs = (request.get_json(silent=True) or {}).get("logs")
        if not isinstance(logs, list) or not 1 <= len(logs) <= 100:
            return _json({"error": "logs: 1 to 100 per request"}, 400)
        results = []
        arrived = time.monotonic()
        with self.lock:
            for log in logs:
                sid = str(log.get("call_sid", ""))
                record = self.logs.get(sid)
                if record is None:
                    record = self.logs[sid] = {"id": f"L{len(self.logs) + 1:07d}"}
                    self.records_created[sid] += 1
                    self.first_write[sid] = arrived
                record.update(log)
                self.writes[sid] += 1
                results.append({"call_sid": sid, "id": record["id"]})
        return _json({"results": results})


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, headers=headers,
                    mimetype="application/json")
