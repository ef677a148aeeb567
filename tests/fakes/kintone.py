"""A local fake of kintone's REST API, run on :class:`tests.fakes.server.LiveServer`.

It follows the documented API and limits (https://cybozu.dev/ja/kintone/docs/rest-api/):

* ``/k/v1/...`` and ``/k/guest/<space>/v1/...``; apps in a guest space answer only there;
* API-token authentication per app with permissions (view, add, edit, admin) checked before the
  request body (``GAIA_IA02`` bad token, ``GAIA_NO01`` missing permission), plus optional Basic
  authentication in front of everything (401 with ``WWW-Authenticate: Basic``);
* ``GET /records.json`` (also as ``POST`` + ``X-HTTP-Method-Override: GET``) with the query
  subset of :mod:`tests.fakes.kintone_query`, ``limit`` ≤ 500, ``offset`` ≤ 10,000, ``fields``;
* ``POST`` / ``PUT /records.json`` with at most 100 records, all-or-nothing validation answering
  ``CB_VA01`` with ``errors`` keyed ``records[i].<code>.value`` (PUT: ``records[i].record.
  <code>.value``), ``upsert`` with ``updateKey`` only on unique text or number fields;
* the cursor API (``size`` ≤ 500, at most 10 live cursors per domain → HTTP 429 ``GAIA_TM12``);
* ``GET /app/form/fields.json``;
* HTTP 429 while more requests are in flight than the domain's concurrency cap;
* per-app request counts, a request log and fault injection (:meth:`FakeKintone.fail_next`).

UNVERIFIED details (kintone does not document them; chosen to be plausible): the body of the
concurrency 429; the codes ``GAIA_IL23`` (guest-space mismatch), ``GAIA_CU01`` (unknown cursor),
``GAIA_RE01`` for an update of a missing record; validation message texts; PUT error keys with
``.record.``; date-times stored with seconds dropped; unknown field codes in a record ignored.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from . import kintone_query as kq

MAX_GET = 500
MAX_OFFSET = 10_000
MAX_WRITE = 100
MAX_CURSOR_SIZE = 500
SYSTEM_TYPES = {"RECORD_NUMBER", "UPDATED_TIME", "CREATED_TIME", "CREATOR", "MODIFIER",
                "STATUS", "STATUS_ASSIGNEE", "CATEGORY", "CALC"}
TEXT_TYPES = {"SINGLE_LINE_TEXT", "MULTI_LINE_TEXT", "RICH_TEXT", "LINK"}
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$")
_PATH = re.compile(r"^/k/(?:guest/(\d+)/)?v1/(.+)\.json$")

#: Canned failures for :meth:`FakeKintone.fail_next`: (status, JSON body or None for HTML).
FAILURES: dict[str, tuple[int, dict[str, Any] | None]] = {
    "401": (401, {"code": "CB_AU01", "message": "ログインしてください。"}),
    "429": (429, {"code": "", "message": "Too Many Requests"}),
    "500": (500, {"code": "CB_IJ01", "message": "サーバーでエラーが発生しました。"}),
    "503": (503, None),
    "GAIA_TM12": (429, {"code": "GAIA_TM12",
                        "message": "作成できるカーソルの上限に達しています。"}),
    "GAIA_RE18": (409, {"code": "GAIA_RE18", "message": "データベースのロックに失敗しました。"}),
    "GAIA_DA02": (409, {"code": "GAIA_DA02", "message": "データベースのロックに失敗しました。"}),
    "GAIA_IA02": (520, {"code": "GAIA_IA02", "message": "指定したAPIトークンは、アプリで生成"
                                                       "されたトークンと異なります。"}),
    "GAIA_NO01": (403, {"code": "GAIA_NO01", "message": "Using this API token, you cannot "
                                                       "run the specified API."}),
}


class KintoneFault(Exception):
    """Answer the current request with a kintone error."""

    def __init__(self, status: int, code: str, message: str,
                 errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors


def validation(errors: dict[str, list[str]]) -> KintoneFault:
    return KintoneFault(400, "CB_VA01", "入力内容が正しくありません。", errors)


# -- field definitions (the "properties" of fields.json) -------------------------------------

def prop(code: str, type_: str, **extra: Any) -> dict[str, Any]:
    base = {"type": type_, "code": code, "label": code, "noLabel": False, "required": False}
    base.update(extra)
    return base


def text(code: str, **extra: Any) -> dict[str, Any]:
    return prop(code, "SINGLE_LINE_TEXT", **{"unique": False, "maxLength": "",
                                             "minLength": "", "defaultValue": "", **extra})


def link(code: str, protocol: str = "CALL", **extra: Any) -> dict[str, Any]:
    return prop(code, "LINK", **{"protocol": protocol, "unique": False, "defaultValue": "",
                                 **extra})


def choice(code: str, options: list[str], type_: str = "DROP_DOWN") -> dict[str, Any]:
    return prop(code, type_, options={o: {"label": o, "index": str(i)}
                                      for i, o in enumerate(options)})


def system_fields() -> dict[str, dict[str, Any]]:
    return {"レコード番号": prop("レコード番号", "RECORD_NUMBER"),
            "更新日時": prop("更新日時", "UPDATED_TIME"),
            "作成日時": prop("作成日時", "CREATED_TIME")}


@dataclass
class FakeApp:
    app_id: int
    properties: dict[str, dict[str, Any]]
    guest_space_id: int | None = None
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 1
    views: dict[str, dict[str, Any]] = field(default_factory=dict)

    def types(self) -> dict[str, str]:
        types = {code: p["type"] for code, p in self.properties.items()}
        types.update({"$id": "__ID__", "$revision": "__REVISION__"})
        return types


@dataclass
class Cursor:
    app_id: int
    ids: list[int]
    fields: list[str]
    size: int
    position: int = 0


class FakeKintone:
    """One kintone domain. Call it as a WSGI app; use the helpers to set up and inspect."""

    def __init__(self, *, basic_auth: tuple[str, str] | None = None,
                 concurrency_limit: int = 100, max_cursors: int = 10, latency: float = 0.0,
                 timeout_delay: float = 1.5) -> None:
        self.basic_auth = basic_auth
        self.concurrency_limit = concurrency_limit
        self.max_cursors = max_cursors
        self.latency = latency
        self.timeout_delay = timeout_delay
        self.apps: dict[int, FakeApp] = {}
        self.tokens: dict[str, tuple[int, frozenset[str]]] = {}
        self.cursors: dict[str, Cursor] = {}
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.request_log: list[dict[str, Any]] = []
        self.request_counts: Counter[int] = Counter()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.rejected_for_concurrency = 0
        self._failures: list[str] = []
        self._lock = threading.RLock()
        # FakeCRM protocol: which apps and fields add_customer() and logs_for() use.
        self.crm_app_id = 0
        self.call_history_app_id = 0
        self.call_sid_field = "CallSid"

    # -- setting up ----------------------------------------------------------------------------

    def add_app(self, app_id: int, fields: dict[str, dict[str, Any]], *,
                tokens: dict[str, set[str]] | None = None,
                guest_space_id: int | None = None) -> FakeApp:
        app = FakeApp(app_id, {**system_fields(), **fields}, guest_space_id)
        self.apps[app_id] = app
        for token, permissions in (tokens or {}).items():
            self.tokens[token] = (app_id, frozenset(permissions))
        return app

    def add_record(self, app_id: int, values: dict[str, Any],
                   updated_at: datetime | None = None) -> str:
        """Store a record directly (no HTTP, no validation); return its id."""
        with self._lock:
            app = self.apps[app_id]
            record = self._new_record(app, updated_at or self.now())
            record.update(values)
            return str(record["$id"])

    def records(self, app_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self.apps[app_id].records.values()]

    def requests(self, method: str | None = None, api: str | None = None) -> list[dict[str, Any]]:
        """The request log, optionally only one method (after override) and API."""
        return [r for r in self.request_log
                if (method is None or r["method"] == method) and (api is None or r["api"] == api)]

    # -- FakeCRM protocol ------------------------------------------------------------------------

    def add_customer(self, name: str, phone: str, *, company: str = "") -> str:
        return self.add_record(self.crm_app_id, {"顧客名": name, "電話番号": phone,
                                                 "会社名": company})

    def fail_next(self, failure: str, times: int = 1) -> None:
        if failure != "timeout" and failure not in FAILURES:
            raise NotImplementedError(f"fake kintone has no failure {failure!r}")
        with self._lock:
            self._failures += [failure] * times

    def logs_for(self, call_sid: str) -> list[dict[str, Any]]:
        return [r for r in self.records(self.call_history_app_id)
                if r.get(self.call_sid_field) == call_sid]

    # -- WSGI ------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.handle(Request(environ))(environ, start_response)

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            over = self.in_flight > self.concurrency_limit
            failure = self._failures.pop(0) if self._failures and not over else None
        try:
            if over:
                with self._lock:
                    self.rejected_for_concurrency += 1
                return _json(429, {"code": "", "message": "同時接続数の上限に達しました。"})
            if failure == "timeout":
                time.sleep(self.timeout_delay)  # then answer normally: the write happens
            elif failure:
                return _failure(failure)
            if self.latency:
                time.sleep(self.latency)
            return self.route(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    def route(self, request: Request) -> Response:
        match = _PATH.match(request.path)
        if not match:
            return _json(404, {"code": "GAIA_NF01", "message": "Not Found"})
        if self.basic_auth and not _basic_ok(request, self.basic_auth):
            return Response("<html>401 Authorization Required</html>", status=401,
                            headers={"WWW-Authenticate": 'Basic realm="kintone"'})
        space = int(match.group(1)) if match.group(1) else None
        api = match.group(2)
        method, params = _method_and_params(request)
        try:
            with self._lock:
                self.request_log.append({"method": method, "api": api, "params": params,
                                         "space": space, "http_method": request.method,
                                         "url": request.url})
                return _json(200, self.dispatch(request, space, api, method, params))
        except KintoneFault as fault:
            body: dict[str, Any] = {"code": fault.code, "id": uuid.uuid4().hex[:20],
                                    "message": fault.message}
            if fault.errors:
                body["errors"] = {k: {"messages": v} for k, v in fault.errors.items()}
            return _json(fault.status, body)

    def dispatch(self, request: Request, space: int | None, api: str, method: str,
                 params: dict[str, Any]) -> dict[str, Any]:
        if api == "records/cursor" and method in ("GET", "DELETE"):
            cursor = self._cursor(str(params.get("id", "")))
            app = self._app(request, space, cursor.app_id, "view")
            return self.read_cursor(app, str(params["id"])) if method == "GET" \
                else self.delete_cursor(str(params["id"]))
        routes: dict[tuple[str, str], tuple[str, Callable[..., dict[str, Any]]]] = {
            ("records", "GET"): ("view", self.get_records),
            ("records", "POST"): ("add", self.add_records),
            ("records", "PUT"): ("edit", self.update_records),
            ("records/cursor", "POST"): ("view", self.create_cursor),
            ("app/form/fields", "GET"): ("fields", self.get_fields),
            ("app/views", "GET"): ("admin", self.get_views),
        }
        if (api, method) not in routes:
            raise KintoneFault(404, "GAIA_NF01", f"{method} {api} is not supported by the fake")
        permission, handler = routes[(api, method)]
        if api == "records" and method == "PUT" and params.get("upsert"):
            permission = "upsert"
        app = self._app(request, space, _int(params.get("app"), "app"), permission)
        return handler(app, params)

    # -- authentication and apps -----------------------------------------------------------------

    def _app(self, request: Request, space: int | None, app_id: int,
             permission: str) -> FakeApp:
        app = self.apps.get(app_id)
        if app is None:
            raise KintoneFault(404, "GAIA_AP01",
                               f"指定したアプリ（id: {app_id}）が見つかりません。")
        if app.guest_space_id != space:
            raise KintoneFault(400, "GAIA_IL23", "ゲストスペース内のアプリを操作する場合は、"
                                                 "ゲストスペースIDを指定してください。")
        header = request.headers.get("X-Cybozu-API-Token", "")
        if not header:
            raise KintoneFault(401, "CB_AU01", "ログインしてください。")
        granted: frozenset[str] | None = None
        for token in header.split(","):
            if token.strip() not in self.tokens:
                raise KintoneFault(400, "GAIA_IA02", "指定したAPIトークンは、アプリで生成された"
                                                     "トークンと異なります。")
            token_app, permissions = self.tokens[token.strip()]
            if token_app == app_id:
                granted = permissions
        needed = {"view": {"view"}, "add": {"add"}, "edit": {"edit"}, "upsert": {"add", "edit"},
                  "fields": set(), "admin": {"admin"}}[permission]
        allowed = granted is not None and needed <= granted and (
            permission != "fields" or bool(granted & {"view", "add", "admin"}))
        if not allowed:
            raise KintoneFault(403, "GAIA_NO01",
                               "Using this API token, you cannot run the specified API.")
        self.request_counts[app_id] += 1
        return app

    # -- records GET -----------------------------------------------------------------------------

    def get_records(self, app: FakeApp, params: dict[str, Any]) -> dict[str, Any]:
        query = self._parse(app, str(params.get("query") or ""))
        limit = 100 if query.limit is None else query.limit
        offset = query.offset or 0
        if limit > MAX_GET:
            raise validation({"query": [f"limitには{MAX_GET}以下の値を指定してください。"]})
        if offset > MAX_OFFSET:
            raise validation({"query": [f"offsetには{MAX_OFFSET}以下の値を指定してください。"]})
        ids = self._select(app, query)
        fields = list(params.get("fields") or [])
        page = [self._wire(app, app.records[i], fields) for i in ids[offset:offset + limit]]
        total = str(len(ids)) if str(params.get("totalCount")).lower() == "true" else None
        return {"records": page, "totalCount": total}

    def _parse(self, app: FakeApp, text_: str) -> kq.Query:
        try:
            query = kq.parse(text_)
        except kq.QueryError as exc:
            raise KintoneFault(400, "GAIA_IQ03", f"クエリ記法が間違っています。({exc})") from exc
        unknown = sorted(query.fields() - set(app.types()))
        if unknown:
            raise KintoneFault(400, "GAIA_IQ11",
                               f"指定したフィールド（{unknown[0]}）が見つかりません。")
        return query

    def _select(self, app: FakeApp, query: kq.Query) -> list[int]:
        types = app.types()
        match = kq.matcher(query.condition, types)
        plain_records = [r for r in app.records.values() if match(r)]
        order = query.order or [("$id", False)]
        for name, ascending in reversed(order):  # stable sorts, last key first
            key = kq.sort_key(types[name])
            plain_records.sort(key=lambda r, k=key, n=name: k(r.get(n)), reverse=not ascending)
        return [int(r["$id"]) for r in plain_records]

    def _wire(self, app: FakeApp, record: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        types = app.types()
        codes = fields or list(record)
        return {c: {"type": types.get(c, "SINGLE_LINE_TEXT"), "value": _copy(record.get(c))}
                for c in codes if c in record}

    # -- cursors ---------------------------------------------------------------------------------

    def create_cursor(self, app: FakeApp, params: dict[str, Any]) -> dict[str, Any]:
        size = _int(params.get("size", 100), "size")
        if not 1 <= size <= MAX_CURSOR_SIZE:
            raise validation({"size": [f"1以上{MAX_CURSOR_SIZE}以下の値を指定してください。"]})
        query = self._parse(app, str(params.get("query") or ""))
        if query.limit is not None or query.offset is not None:
            raise validation({"query": ["カーソルのクエリにlimitとoffsetは指定できません。"]})
        if len(self.cursors) >= self.max_cursors:
            raise KintoneFault(429, "GAIA_TM12", "作成できるカーソルの上限に達しているため、"
                                                 "カーソルを作成できません。")
        ids = self._select(app, query)
        cursor_id = str(uuid.uuid4())
        self.cursors[cursor_id] = Cursor(app.app_id, ids, list(params.get("fields") or []),
                                         size)
        return {"id": cursor_id, "totalCount": str(len(ids))}

    def _cursor(self, cursor_id: str) -> Cursor:
        with self._lock:
            if cursor_id not in self.cursors:
                raise KintoneFault(400, "GAIA_CU01", "指定したカーソルが見つかりません。")
            return self.cursors[cursor_id]

    def read_cursor(self, app: FakeApp, cursor_id: str) -> dict[str, Any]:
        cursor = self.cursors[cursor_id]
        batch = cursor.ids[cursor.position:cursor.position + cursor.size]
        cursor.position += len(batch)
        more = cursor.position < len(cursor.ids)
        if not more:
            del self.cursors[cursor_id]  # kintone drops a cursor once it is read to the end
        records = [self._wire(app, app.records[i], cursor.fields) for i in batch
                   if i in app.records]
        return {"records": records, "next": more}

    def delete_cursor(self, cursor_id: str) -> dict[str, Any]:
        del self.cursors[cursor_id]
        return {}

    # -- records POST / PUT ----------------------------------------------------------------------

    def add_records(self, app: FakeApp, params: dict[str, Any]) -> dict[str, Any]:
        entries = _entries(params)
        errors: dict[str, list[str]] = {}
        claimed: dict[tuple[str, str], int] = {}
        for i, record in enumerate(entries):
            self._validate(app, record, f"records[{i}]", None, claimed, errors, insert=True)
        if errors:
            raise validation(errors)
        now = self.now()
        made = []
        for record in entries:
            new = self._new_record(app, now)
            new.update(_values(app, record))
            made.append(new)
        return {"ids": [str(r["$id"]) for r in made], "revisions": ["1"] * len(made),
                "records": [{"id": str(r["$id"]), "revision": "1"} for r in made]}

    def update_records(self, app: FakeApp, params: dict[str, Any]) -> dict[str, Any]:
        entries = _entries(params)
        upsert = bool(params.get("upsert"))
        errors: dict[str, list[str]] = {}
        claimed: dict[tuple[str, str], int] = {}
        targets: list[int | None] = []
        keys_seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            target, key_value = self._target(app, entry, i, upsert, errors, keys_seen)
            targets.append(target)
            record = dict(entry.get("record") or {})
            if key_value is not None and target is None:
                record[entry["updateKey"]["field"]] = {"value": key_value}
            self._validate(app, record, f"records[{i}].record", target, claimed, errors,
                           insert=target is None)
            entry["_record"] = record
        if errors:
            raise validation(errors)
        now, results = self.now(), []
        for entry, target in zip(entries, targets, strict=True):
            stored = app.records[target] if target else self._new_record(app, now)
            if target:
                stored["$revision"] = str(int(stored["$revision"]) + 1)
                stored["更新日時"] = _minute(now)
            stored.update(_values(app, entry["_record"]))
            results.append({"id": str(stored["$id"]), "revision": stored["$revision"],
                            "operation": "UPDATE" if target else "INSERT"})
        return {"records": results}

    def _target(self, app: FakeApp, entry: dict[str, Any], i: int, upsert: bool,
                errors: dict[str, list[str]],
                keys_seen: dict[str, int]) -> tuple[int | None, str | None]:
        where = f"records[{i}]"
        if ("id" in entry) == ("updateKey" in entry):
            errors[where] = ["idとupdateKeyのどちらか一方を指定してください。"]
            return None, None
        if "id" in entry:
            record_id = _int(entry["id"], f"{where}.id")
            if record_id in app.records:
                return record_id, None
            if upsert:
                return None, None
            raise KintoneFault(404, "GAIA_RE01",
                               f"指定したレコード（id: {record_id}）が見つかりません。")
        key = entry["updateKey"] or {}
        code, value = str(key.get("field", "")), str(key.get("value") or "")
        spec = app.properties.get(code, {})
        if spec.get("type") not in ("SINGLE_LINE_TEXT", "NUMBER") or not spec.get("unique"):
            errors[f"{where}.updateKey.field"] = [
                "重複禁止が設定された文字列(1行)または数値フィールドを指定してください。"]
            return None, None
        if not value:
            errors[f"{where}.updateKey.value"] = ["必須です。"]
            return None, None
        if value in keys_seen:
            errors[f"{where}.updateKey.value"] = ["重複しています。"]
            return None, None
        keys_seen[value] = i
        found = next((rid for rid, r in app.records.items() if str(r.get(code)) == value), None)
        if found is None and not upsert:
            raise KintoneFault(404, "GAIA_RE01",
                               f"指定したレコード（{code}: {value}）が見つかりません。")
        return found, value

    def _validate(self, app: FakeApp, record: dict[str, Any], where: str, target: int | None,
                  claimed: dict[tuple[str, str], int], errors: dict[str, list[str]], *,
                  insert: bool) -> None:
        for code, spec in app.properties.items():
            if spec["type"] in SYSTEM_TYPES:
                continue
            given = code in record
            value = (record.get(code) or {}).get("value") if given else None
            messages = _field_messages(spec, value) if given else []
            empty = value in (None, "", [])
            if spec.get("required") and empty and (given or (insert and not
                                                             spec.get("defaultValue"))):
                messages.insert(0, "必須です。")
            if spec.get("unique") and given and not empty and not messages:
                messages += self._unique_problem(app, code, str(value), target, claimed)
            if messages:
                errors[f"{where}.{code}.value"] = messages

    def _unique_problem(self, app: FakeApp, code: str, value: str, target: int | None,
                        claimed: dict[tuple[str, str], int]) -> list[str]:
        clash = any(str(r.get(code)) == value and rid != target for rid, r in app.records.items())
        if clash or (code, value) in claimed:
            return ["値がほかのレコードと重複しています。"]
        claimed[(code, value)] = 1
        return []

    # -- fields ----------------------------------------------------------------------------------

    def get_fields(self, app: FakeApp, params: dict[str, Any]) -> dict[str, Any]:
        return {"properties": json.loads(json.dumps(app.properties)), "revision": "1"}

    def get_views(self, app: FakeApp, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /app/views.json``: the app's views by name (the app settings API, which an API
        token may call only with アプリ管理 permission)."""
        return {"views": json.loads(json.dumps(app.views)), "revision": "1"}

    def add_view(self, app_id: int, name: str, filter_cond: str = "", sort: str = "") -> None:
        app = self.apps[app_id]
        app.views[name] = {"type": "LIST", "name": name, "id": str(5000 + len(app.views)),
                           "filterCond": filter_cond, "sort": sort,
                           "index": str(len(app.views)), "fields": []}

    # -- helpers ---------------------------------------------------------------------------------

    def _new_record(self, app: FakeApp, now: datetime) -> dict[str, Any]:
        record_id = app.next_id
        app.next_id += 1
        stamp = _minute(now)
        record = {"$id": str(record_id), "$revision": "1", "レコード番号": str(record_id),
                  "更新日時": stamp, "作成日時": stamp}
        app.records[record_id] = record
        return record


# -- module helpers --------------------------------------------------------------------------------

def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    content_type="application/json; charset=utf-8")


def _failure(name: str) -> Response:
    status, body = FAILURES[name]
    if body is None:
        return Response("<html>Service Unavailable</html>", status=status,
                        content_type="text/html")
    return _json(status, {**body, "id": uuid.uuid4().hex[:20]})


def _basic_ok(request: Request, expected: tuple[str, str]) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return (user, password) == expected


def _method_and_params(request: Request) -> tuple[str, dict[str, Any]]:
    method = request.method
    if method == "POST" and request.headers.get("X-HTTP-Method-Override", "").upper() == "GET":
        return "GET", request.get_json(silent=True) or {}
    if method == "GET":
        params: dict[str, Any] = {}
        arrays: dict[str, list[tuple[int, str]]] = {}
        for key, value in request.args.items(multi=True):
            m = re.match(r"^(\w+)\[(\d+)\]$", key)
            if m:
                arrays.setdefault(m.group(1), []).append((int(m.group(2)), value))
            else:
                params[key] = value
        for key, items in arrays.items():
            params[key] = [v for _, v in sorted(items)]
        # kintone also takes GET parameters as a JSON body (documented samples do).
        params.update(request.get_json(silent=True) or {})
        return method, params
    return method, request.get_json(silent=True) or {}


def _entries(params: dict[str, Any]) -> list[dict[str, Any]]:
    entries = params.get("records")
    if not isinstance(entries, list) or not entries:
        raise validation({"records": ["必須です。"]})
    if len(entries) > MAX_WRITE:
        raise validation({"records": [f"一度に{MAX_WRITE}件までのレコードを指定できます。"]})
    return [dict(e) for e in entries]


def _values(app: FakeApp, record: dict[str, Any]) -> dict[str, Any]:
    """Stored values of a validated record body; unknown and system fields are ignored."""
    out = {}
    for code, cell in record.items():
        spec = app.properties.get(code)
        if spec is None or spec["type"] in SYSTEM_TYPES:
            continue
        value = (cell or {}).get("value")
        if spec["type"] == "DATETIME" and value:
            value = _minute(datetime.fromisoformat(value))
        out[code] = "" if value is None else value
    return out


def _field_messages(spec: dict[str, Any], value: Any) -> list[str]:
    kind = spec["type"]
    if value in (None, "", []):
        return []
    if kind in TEXT_TYPES or kind in ("DROP_DOWN", "RADIO_BUTTON"):
        if not isinstance(value, str):
            return ["文字列でなければなりません。"]
    if kind in TEXT_TYPES:
        limit = str(spec.get("maxLength") or "")
        if limit and len(value) > int(limit):
            return [f"{limit}文字以下でなければなりません。"]
    if kind == "NUMBER" and not re.match(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$", str(value)):
        return ["数字でなければなりません。"]
    if kind == "DATETIME" and not (isinstance(value, str) and _DATETIME.match(value)):
        return ["日付の形式が不正です。"]
    if kind in ("DROP_DOWN", "RADIO_BUTTON") and value not in (spec.get("options") or {}):
        return [f"\"{value}\"は選択肢にありません。"]
    if kind == "USER_SELECT" and not (isinstance(value, list) and all(
            isinstance(u, dict) and u.get("code") for u in value)):
        return ["ユーザーの指定が正しくありません。"]
    return []


def _minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value)) if isinstance(value, list | dict) else value


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise validation({name: ["数字でなければなりません。"]}) from None


# -- a ready-made domain: a CRM app and a call-history app ----------------------------------------

CRM_TOKEN = "crm-token-s3cret"
HISTORY_TOKEN = "history-token-s3cret"
CALL_HISTORY_FIELDS = {
    "call_sid": "CallSid", "direction": "方向", "status": "状態", "from_number": "発信元",
    "to_number": "発信先", "customer_number": "顧客電話番号", "started_at": "開始日時",
    "answered_at": "応答日時", "ended_at": "終了日時", "duration_seconds": "通話時間",
    "talk_seconds": "会話秒数", "agent": "担当者", "customer_record_id": "顧客レコードID",
    "customer_name": "顧客名", "disposition": "対応結果", "notes": "メモ",
    "recording_url": "録音",
}


def crm_fields() -> dict[str, dict[str, Any]]:
    return {"顧客名": text("顧客名", required=True), "会社名": text("会社名"),
            "電話番号": link("電話番号"), "携帯番号": text("携帯番号")}


def call_history_fields() -> dict[str, dict[str, Any]]:
    f = CALL_HISTORY_FIELDS
    return {
        f["call_sid"]: text(f["call_sid"], unique=True, required=True),
        f["direction"]: choice(f["direction"], ["着信", "発信"], "RADIO_BUTTON"),
        f["status"]: text(f["status"]),
        f["from_number"]: link(f["from_number"]),
        f["to_number"]: link(f["to_number"]),
        f["customer_number"]: text(f["customer_number"]),
        **{f[k]: prop(f[k], "DATETIME") for k in ("started_at", "answered_at", "ended_at")},
        **{f[k]: prop(f[k], "NUMBER") for k in ("duration_seconds", "talk_seconds")},
        f["agent"]: text(f["agent"]),
        f["customer_record_id"]: text(f["customer_record_id"]),
        f["customer_name"]: text(f["customer_name"]),
        f["disposition"]: text(f["disposition"]),
        f["notes"]: prop(f["notes"], "MULTI_LINE_TEXT", maxLength="1000"),
        f["recording_url"]: link(f["recording_url"], "WEB"),
    }


def standard_kintone(*, crm_app_id: int = 11, history_app_id: int = 12,
                     guest_space_id: int | None = None, **options: Any) -> FakeKintone:
    """A domain with a CRM app (顧客名, 会社名, 電話番号, 携帯番号) and a call-history app
    whose fields match :data:`CALL_HISTORY_FIELDS`; tokens :data:`CRM_TOKEN` (view) and
    :data:`HISTORY_TOKEN` (view, add, edit)."""
    fake = FakeKintone(**options)
    fake.add_app(crm_app_id, crm_fields(), tokens={CRM_TOKEN: {"view"}},
                 guest_space_id=guest_space_id)
    fake.add_app(history_app_id, call_history_fields(),
                 tokens={HISTORY_TOKEN: {"view", "add", "edit"}}, guest_space_id=guest_space_id)
    fake.crm_app_id, fake.call_history_app_id = crm_app_id, history_app_id
    fake.call_sid_field = CALL_HISTORY_FIELDS["call_sid"]
    return fake


def standard_settings(base_url: str, fake: FakeKintone, **overrides: Any) -> dict[str, Any]:
    """The ``[crm.kintone]`` table (as parsed TOML) for :func:`standard_kintone`."""
    table: dict[str, Any] = {
        "base_url": base_url,
        "apps": [
            {"name": "顧客管理", "kind": "crm", "app_id": fake.crm_app_id,
             "api_token": CRM_TOKEN, "phone_fields": ["電話番号", "携帯番号"],
             "name_fields": ["顧客名"], "company_field": "会社名"},
            {"name": "通話履歴", "kind": "call_history", "app_id": fake.call_history_app_id,
             "api_token": HISTORY_TOKEN, "fields": dict(CALL_HISTORY_FIELDS)},
        ],
    }
    guest = next((a.guest_space_id for a in fake.apps.values() if a.guest_space_id), None)
    if guest:
        table["guest_space_id"] = guest
    table.update(overrides)
    return table
