"""A local fake of an in-house CRM reached through URL templates (crm_adapters/httptemplate).

It plays what BIZTEL's カスタム連携 examples assume: ``/login.php?userid=…&password=…`` answers a
session id as text; ``/search.php?tel=…&sid=…`` answers ``ID,NAME,COMPANY`` lines (UTF-8 or
Shift_JIS) and ``/search.json`` the same as JSON; ``/hook/<event>`` records every request as it
arrived (method, raw query string, raw body, headers) and, for ``hangup`` and ``wrapup``, upserts
a call log by the ``callsid`` parameter. Fault injection as the contract suite needs it.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from voice.numbering import NumberError, normalize

USER, PASSWORD = "cti", "pa ss&word=1"


class FakeTemplateCRM:
    """WSGI app + the ``FakeCRM`` protocol of ``crm_adapters.testing``."""

    def __init__(self, hang_seconds: float = 1.5) -> None:
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        self.customers: dict[str, dict[str, str]] = {}
        self.logs: dict[str, dict[str, Any]] = {}
        self.hits: list[dict[str, Any]] = []
        self.sessions: set[str] = set()
        self.charset = "utf-8"  # of text search answers
        self.search_override: tuple[bytes, str] | None = None  # (body, content type)
        self._failures: list[str] = []
        self._path_failures: dict[str, list[str]] = {}

    # -- FakeCRM protocol --------------------------------------------------------------------

    def add_customer(self, name: str, phone: str, *, company: str = "") -> str:
        with self.lock:
            record_id = f"R{len(self.customers) + 1:05d}"
            self.customers[record_id] = {"id": record_id, "name": name, "company": company,
                                         "phone": phone}
            return record_id

    def fail_next(self, failure: str, times: int = 1) -> None:
        with self.lock:
            self._failures.extend([failure] * times)

    def logs_for(self, call_sid: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(v) for k, v in self.logs.items() if k == call_sid]

    def fail_path(self, path: str, failure: str, times: int = 1) -> None:
        """Like :meth:`fail_next`, for the requests to ``path`` only."""
        with self.lock:
            self._path_failures.setdefault(path, []).extend([failure] * times)

    def reset(self) -> None:
        with self.lock:
            self.customers.clear()
            self.logs.clear()
            self.hits.clear()
            self.sessions.clear()
            self._failures.clear()
            self._path_failures.clear()
            self.charset = "utf-8"
            self.search_override = None

    def hits_for(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [h for h in self.hits if h["path"] == path and h["method"] != "HEAD"]

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        return self.respond(request)(environ, start_response)

    def respond(self, request: Request) -> Response:
        body = request.get_data()
        hit = {"method": request.method, "path": request.path,
               "query": request.query_string.decode("ascii"), "body": body,
               "headers": dict(request.headers)}
        with self.lock:
            self.hits.append(hit)
            failure = self._failures.pop(0) if self._failures else None
            pending = self._path_failures.get(request.path)
            if failure is None and pending and request.method != "HEAD":
                failure = pending.pop(0)
        if request.method == "HEAD":
            known = request.path in ("/login.php", "/search.php", "/search.json") or \
                request.path.startswith("/hook/")
            return Response(status=405 if known else 404)
        if failure == "timeout":
            time.sleep(self.hang_seconds)
            return Response("late", status=200)
        if failure:
            return Response("failure", status=int(failure), headers={"Retry-After": "1"})
        if request.path == "/login.php":
            return self._login(request)
        if request.path in ("/search.php", "/search.json"):
            if self.sessions and request.args.get("sid") not in self.sessions:
                return Response("bad session", status=401)
            return self._search(request)
        if request.path.startswith("/hook/"):
            return self._hook(request, body)
        return Response("not found", status=404)

    def _login(self, request: Request) -> Response:
        if request.args.get("userid") != USER or request.args.get("password") != PASSWORD:
            return Response("NG", status=401)
        sid = f"S{len(self.sessions) + 1:04d}"
        with self.lock:
            self.sessions.add(sid)
        return Response(f"{sid}\r\n", content_type="text/plain")

    def _search(self, request: Request) -> Response:
        if self.search_override is not None:
            content, content_type = self.search_override
            return Response(content, content_type=content_type)
        try:
            wanted = normalize(request.args.get("tel", ""))
        except NumberError:
            return Response("bad tel", status=400)
        found = []
        with self.lock:
            for record in self.customers.values():
                try:
                    if normalize(record["phone"]) == wanted:
                        found.append(record)
                except NumberError:
                    continue
        if request.path == "/search.json":
            return Response(json.dumps({"data": {"customers": [
                {"id": r["id"], "name": r["name"], "org": {"name": r["company"]}}
                for r in found]}}, ensure_ascii=False), content_type="application/json")
        text = "".join(f"{r['id']},{r['name']},{r['company']}\r\n" for r in found)
        return Response(text.encode(self.charset),
                        content_type=f"text/plain; charset={self.charset}")

    def _hook(self, request: Request, body: bytes) -> Response:
        event = request.path.split("/")[2]
        fields = dict(parse_qsl(request.query_string.decode("ascii")))
        if request.mimetype == "application/json":
            fields.update(json.loads(body or b"{}"))
        elif body:
            fields.update(parse_qsl(body.decode("ascii")))
        call_sid = fields.get("callsid", "")
        if event in ("hangup", "wrapup") and call_sid:
            with self.lock:
                record = self.logs.setdefault(call_sid, {"callsid": call_sid})
                record.update(fields)
        return Response("OK", content_type="text/plain")
