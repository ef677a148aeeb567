"""A small Salesforce org for tests, played over HTTP by the documented REST API.

Run it with :class:`tests.fakes.server.LiveServer`; the same server is the login host and the
instance. simple-salesforce reaches it as ``https://<name>.salesforce.com`` through
``tests.fakes.server.route_hosts`` (wrap the fake in ``behind_tls_proxy`` so it sees that URL).
What it follows (REST API Developer Guide; ecosystem.md §3):

* ``POST /services/oauth2/token`` — JWT bearer grant; the assertion's RS256 signature is checked
  against the connected app's certificate, and ``iss``/``sub``/``aud``/``exp`` are checked.
  Errors are ``{"error", "error_description"}`` with HTTP 400. ``exp`` may be a numeric string:
  RFC 7519 asks for a number, but simple-salesforce has always sent a string and its JWT login
  works against real orgs (simple-salesforce#491 is a clock bug, not a type one) — the exact
  rule is UNVERIFIED in Salesforce's docs, so the fake reads it the way PyJWT does.
* ``GET /services/data/`` — the API versions (no auth, not counted).
* ``/services/data/vXX.X/``: ``search/?q=`` (SOSL), ``query?q=`` and ``query/<locator>`` (SOQL
  with ``nextRecordsUrl`` paging), ``sobjects/<Obj>/describe``, and ``PATCH
  composite/sobjects/<Obj>/<ExternalIdField>`` (sObject Collections upsert: ≤ 200 records,
  per-record ``{"id", "success", "errors", "created"}``).
* Every data response carries ``Sforce-Limit-Info: api-usage=used/limit``; errors are JSON
  arrays ``[{"message", "errorCode", "fields"}]``; an unknown or expired token gets 401
  ``INVALID_SESSION_ID``; beyond the daily limit, 403 ``REQUEST_LIMIT_EXCEEDED``.
* Task rules: ``TaskSubtype`` is insert-only; a Lead ``WhoId`` allows no ``WhatId``; owners
  and related records must exist.
* Agents' interactive sign-in (authorize, code exchange with PKCE, identity URL):
  :mod:`tests.fakes.salesforce_signin`; the Lightning page that frames the softphone, with a
  fake Open CTI library and ``saveLog``: :mod:`tests.fakes.salesforce_lightning`.

Phone search: Salesforce's normalisation is UNVERIFIED, so this fake is deliberately plain — a
term matches a phone field when the term's digits equal all the stored value's digits or one
digit run of it. ``+81`` and ``0`` forms are *not* equated: the adapter has to send both.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import jwt
from cryptography import x509
from werkzeug.wrappers import Request, Response

from tests.fakes.salesforce_lightning import LightningPages
from tests.fakes.salesforce_permissions import FieldSecurity
from tests.fakes.salesforce_query import (
    QuerySyntaxError,
    evaluate,
    parse_soql,
    parse_sosl,
)
from tests.fakes.salesforce_signin import SignInEndpoints

API_VERSIONS = ("58.0", "59.0", "60.0", "61.0", "62.0", "63.0")
COLLECTION_LIMIT = 200
PREFIXES = {"Account": "001", "Contact": "003", "Lead": "00Q", "Task": "00T", "User": "005",
            "Opportunity": "006", "Case": "500", "PermissionSet": "0PS",
            "FieldPermissions": "01k", "PermissionSetAssignment": "0Pa"}
FAILURES = ("401", "429", "500", "503", "timeout", "UNABLE_TO_LOCK_ROW", "LOCK_IN_FLOW",
            "REQUEST_LIMIT_EXCEEDED")


@dataclass(frozen=True)
class FieldDef:
    """What ``describe`` tells about one field."""

    name: str
    type: str = "string"
    external_id: bool = False
    unique: bool = False
    createable: bool = True
    updateable: bool = True
    reference_to: tuple[str, ...] = ()
    relationship_name: str = ""
    length: int = 255
    picklist: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.name, "type": self.type,
                "length": self.length, "externalId": self.external_id, "unique": self.unique,
                "createable": self.createable, "updateable": self.updateable,
                "nillable": True, "referenceTo": list(self.reference_to),
                "relationshipName": self.relationship_name or None,
                "picklistValues": [{"value": v, "label": v, "active": True}
                                   for v in self.picklist]}


def default_schema(callsid_field: str = "CTI_CallSid__c",
                   recording_field: str = "CTI_Recording_URL__c") -> dict[str, dict]:
    def fields(*defs: FieldDef) -> dict[str, FieldDef]:
        common = (FieldDef("Id", "id", createable=False, updateable=False, length=18),
                  FieldDef("LastModifiedDate", "datetime", createable=False, updateable=False))
        return {f.name: f for f in (*common, *defs)}

    phone = [FieldDef(n, "phone", length=40) for n in
             ("Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone")]
    return {
        "Account": fields(FieldDef("Name"), FieldDef("Phone", "phone", length=40),
                          FieldDef("Fax", "phone", length=40)),
        "Contact": fields(FieldDef("Name"), *phone, FieldDef("Email", "email"),
                          FieldDef("AccountId", "reference", reference_to=("Account",),
                                   relationship_name="Account")),
        "Lead": fields(FieldDef("Name"), FieldDef("Company"), *phone[:2]),
        "User": fields(FieldDef("Name"), FieldDef("Username"), FieldDef("Email", "email"),
                       FieldDef("IsActive", "boolean")),
        "Task": fields(
            FieldDef("Subject", "combobox"),
            FieldDef("Status", "picklist", picklist=("Not Started", "In Progress",
                                                     "Completed")),
            FieldDef("TaskSubtype", "picklist", updateable=False,
                     picklist=("Task", "Email", "Call")),
            FieldDef("CallType", "picklist", picklist=("Inbound", "Internal", "Outbound")),
            FieldDef("CallDurationInSeconds", "int"), FieldDef("CallObject"),
            FieldDef("CallDisposition"), FieldDef("Description", "textarea", length=32000),
            FieldDef("ActivityDate", "date"),
            FieldDef("WhoId", "reference", reference_to=("Contact", "Lead"),
                     relationship_name="Who"),
            FieldDef("WhatId", "reference", reference_to=("Account", "Opportunity", "Case"),
                     relationship_name="What"),
            FieldDef("OwnerId", "reference", reference_to=("User",), relationship_name="Owner"),
            FieldDef(callsid_field, external_id=True, unique=True, length=64),
            FieldDef(recording_field, "url")),
        # Field-level security (tests/fakes/salesforce_permissions.py), read-only over REST.
        "PermissionSet": fields(FieldDef("Name"), FieldDef("Label")),
        "FieldPermissions": fields(
            FieldDef("ParentId", "reference", reference_to=("PermissionSet",),
                     relationship_name="Parent"),
            FieldDef("SobjectType"), FieldDef("Field"),
            FieldDef("PermissionsRead", "boolean"), FieldDef("PermissionsEdit", "boolean")),
        "PermissionSetAssignment": fields(
            FieldDef("AssigneeId", "reference", reference_to=("User",),
                     relationship_name="Assignee"),
            FieldDef("PermissionSetId", "reference", reference_to=("PermissionSet",),
                     relationship_name="PermissionSet")),
    }


class SalesforceError(Exception):
    """Answer the current request with Salesforce's error array."""

    def __init__(self, status: int, code: str, message: str, fields: tuple[str, ...] = ()):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields


#: The fake org's id (18 characters; the first 15 are the case-sensitive id).
ORG_ID = "00D000000000042EAA"


class FakeSalesforce(SignInEndpoints, LightningPages, FieldSecurity):
    """A WSGI app holding one org. Implements ``crm_adapters.testing.FakeCRM``."""

    def __init__(self, certificate_pem: bytes, *, consumer_key: str = "3MVG9FAKECONSUMERKEY",
                 username: str = "integration@example.com", audience: str | None = None,
                 api_limit: int = 100_000, page_size: int = 2000, timeout_delay: float = 1.5,
                 callsid_field: str = "CTI_CallSid__c") -> None:
        self.public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
        self.consumer_key = consumer_key
        self.org_id = ORG_ID
        self.audience = audience  # None: this server's own URL (like an Experience site)
        self.api_used, self.api_limit = 0, api_limit
        self.page_size = page_size
        self.timeout_delay = timeout_delay
        self.callsid_field = callsid_field
        self.schema = default_schema(callsid_field)
        self.records: dict[str, dict[str, dict[str, Any]]] = {o: {} for o in PREFIXES}
        self.tokens: set[str] = set()
        self.requests: list[tuple[str, str]] = []  # (method, path below the version root)
        self.token_requests = 0
        self.assertions: list[str] = []  # every JWT posted to the token endpoint
        self._failures: list[str] = []
        self._token_failures: list[tuple[str, str]] = []
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        #: (object, list view id) -> the SOQL its describe answers
        self.list_views: dict[tuple[str, str], str] = {}
        self._counter = 0
        self._lock = threading.RLock()
        self.integration_user_id = self.add_user(username, "integration@example.com")
        self.approved_users = {username}
        self._init_signin()
        self._init_lightning()
        self._init_permissions()

    # -- test controls ---------------------------------------------------------------------

    def add_customer(self, name: str, phone: str, *, company: str = "") -> str:
        account_id = self.add_record("Account", Name=company) if company else None
        return self.add_record("Contact", Name=name, Phone=phone, AccountId=account_id)

    def add_record(self, sobject: str, **values: Any) -> str:
        with self._lock:
            self._counter += 1
            record_id = f"{PREFIXES[sobject]}{self._counter:012d}AAA"
            self.records[sobject][record_id] = {"Id": record_id, **values,
                                                "LastModifiedDate": _now()}
            return record_id

    def add_user(self, username: str, email: str = "", *, active: bool = True,
                 email_verified: bool = True) -> str:
        return self.add_record("User", Name=username, Username=username, Email=email,
                               IsActive=active, EmailVerified=email_verified)

    def touch(self, sobject: str, record_id: str, when: datetime) -> None:
        """Set a record's LastModifiedDate (for sync tests)."""
        self.records[sobject][record_id]["LastModifiedDate"] = when

    def fail_next(self, failure: str, times: int = 1) -> None:
        if failure not in FAILURES:
            raise NotImplementedError(f"unknown failure {failure!r}")
        with self._lock:
            self._failures.extend([failure] * times)

    def fail_token(self, error: str, description: str, times: int = 1) -> None:
        self._token_failures.extend([(error, description)] * times)

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def set_api_usage(self, used: int, limit: int | None = None) -> None:
        self.api_used = used
        self.api_limit = limit or self.api_limit

    def set_field(self, sobject: str, name: str, **changes: Any) -> None:
        current = self.schema[sobject].get(name, FieldDef(name))
        self.schema[sobject][name] = replace(current, **changes)

    def remove_field(self, sobject: str, name: str) -> None:
        self.schema[sobject].pop(name)

    def logs_for(self, call_sid: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.records["Task"].values()
                if r.get(self.callsid_field) == call_sid]

    def count(self, method: str | None = None, prefix: str = "") -> int:
        """Data API requests so far, optionally of one method and path prefix."""
        return sum(1 for m, p in self.requests
                   if (method is None or m == method) and p.startswith(prefix))

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except SalesforceError as exc:
            body = [{"message": exc.message, "errorCode": exc.code, "fields": list(exc.fields)}]
            response = _json(body, exc.status)
        if request.path.startswith("/services/data/v"):
            response.headers["Sforce-Limit-Info"] = f"api-usage={self.api_used}/{self.api_limit}"
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/services/oauth2/token" and request.method == "POST":
            if request.form.get("grant_type") == "authorization_code":
                return self._exchange_code(request)
            return self._token(request)
        if path == "/services/oauth2/authorize" and request.method == "GET":
            return self._authorize(request)
        identity = re.fullmatch(r"/id/(\w+)/(\w+)", path)
        if identity and request.method == "GET":
            return self._identity(request, *identity.groups())
        lightning = self._lightning(request)
        if lightning is not None:
            return lightning
        if path.rstrip("/") == "/services/data":
            return _json([{"label": f"v{v}", "url": f"/services/data/v{v}", "version": v}
                          for v in API_VERSIONS])
        match = re.fullmatch(r"/services/data/v(\d+\.\d)/(.*)", path)
        if not match or match.group(1) not in API_VERSIONS:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        version, rest = match.groups()
        failure = self._take_failure()
        lock = self._inject(failure, request.method, rest)
        self._authorise(request)
        with self._lock:
            self.requests.append((request.method, rest))
            self.api_used += 1
            if self.api_used > self.api_limit:
                raise SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit "
                                      "exceeded.")
            return self._route(request, version, rest, lock)

    def _route(self, request: Request, version: str, rest: str, lock: str) -> Response:
        method = request.method
        if method == "GET" and rest in ("search", "search/"):
            return self._search(request.args.get("q", ""))
        if method == "GET" and rest in ("query", "query/"):
            return self._query(request.args.get("q", ""), version)
        if method == "GET" and rest.startswith("query/"):
            return self._next_page(rest.split("/", 1)[1], version)
        list_view = re.fullmatch(r"sobjects/(\w+)/listviews/(\w+)/describe/?", rest)
        if method == "GET" and list_view:
            return self._describe_list_view(list_view.group(1), list_view.group(2))
        described = re.fullmatch(r"sobjects/(\w+)/describe/?", rest)
        if method == "GET" and described:
            return self._describe(described.group(1))
        upsert = re.fullmatch(r"composite/sobjects/(\w+)/(\w+)/?", rest)
        if method == "PATCH" and upsert:
            return self._upsert(upsert.group(1), upsert.group(2), request.get_json(), lock)
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")

    # -- failures and auth -----------------------------------------------------------------

    def _take_failure(self) -> str:
        with self._lock:
            return self._failures.pop(0) if self._failures else ""

    def _inject(self, failure: str, method: str, rest: str) -> str:
        """Raise the injected failure, sleep for "timeout", or return a lock to apply."""
        if failure == "timeout":
            time.sleep(self.timeout_delay)  # then carry on: the client has given up, we have not
        elif failure == "401":
            raise SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")
        elif failure == "429":
            raise SalesforceError(429, "REQUEST_LIMIT_EXCEEDED", "Too many requests")
        elif failure == "500":
            raise SalesforceError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred. "
                                  "Please include this ErrorId if you contact support: 1-2 (3)")
        elif failure == "503":
            raise SalesforceError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable")
        elif failure == "REQUEST_LIMIT_EXCEEDED":
            raise SalesforceError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        elif failure in ("UNABLE_TO_LOCK_ROW", "LOCK_IN_FLOW"):
            if method == "PATCH":
                return failure  # a per-record error inside a 200 answer
            raise SalesforceError(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive "
                                  "access to this record or 1 records: 001000000000001AAA")
        return ""

    def _authorise(self, request: Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or header[7:] not in self.tokens:
            raise SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")

    def _token(self, request: Request) -> Response:
        self.token_requests += 1
        if self._token_failures:
            error, description = self._token_failures.pop(0)
            return _json({"error": error, "error_description": description}, 400)
        if request.form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return _json({"error": "unsupported_grant_type",
                          "error_description": "grant type not supported"}, 400)
        audience = self.audience or request.host_url.rstrip("/")
        self.assertions.append(request.form.get("assertion", ""))
        try:
            claims = jwt.decode(self.assertions[-1], self.public_key,
                                algorithms=["RS256"], audience=audience,
                                options={"require": ["iss", "sub", "aud", "exp"]})
        except jwt.InvalidAudienceError:
            return _json({"error": "invalid_grant", "error_description": "audience is invalid"},
                         400)
        except jwt.PyJWTError:
            return _json({"error": "invalid_grant", "error_description": "invalid assertion"},
                         400)
        if claims["iss"] != self.consumer_key:
            return _json({"error": "invalid_client_id",
                          "error_description": "client identifier invalid"}, 400)
        if float(claims["exp"]) > time.time() + 300:
            return _json({"error": "invalid_grant", "error_description": "invalid assertion"},
                         400)
        if claims["sub"] not in self.approved_users:
            return _json({"error": "invalid_grant",
                          "error_description": "user hasn't approved this consumer"}, 400)
        token = "00DFAKE!" + secrets.token_urlsafe(24)
        self.tokens.add(token)
        base = request.host_url.rstrip("/")
        return _json({"access_token": token, "instance_url": base, "token_type": "Bearer",
                      "id": f"{base}/id/{self.org_id}/{self.integration_user_id}", "scope": "api",
                      "issued_at": str(int(time.time() * 1000))})

    # -- reads -----------------------------------------------------------------------------

    def _search(self, text: str) -> Response:
        try:
            query = parse_sosl(text)
        except QuerySyntaxError as exc:
            raise SalesforceError(400, "MALFORMED_SEARCH", str(exc)) from None
        digits = [re.sub(r"\D", "", t) for t in query.terms]
        found = []
        for sobject, fields in query.returning:
            self._check_fields(sobject, fields)
            phones = [f.name for f in self.schema[sobject].values() if f.type == "phone"]
            for record in self.records[sobject].values():
                if any(_phone_matches(record.get(p), d) for p in phones for d in digits if d):
                    found.append(self._project(sobject, record, fields))
        return _json({"searchRecords": found[:query.limit or 2000]})

    def _query(self, text: str, version: str) -> Response:
        try:
            query = parse_soql(text)
        except QuerySyntaxError as exc:
            raise SalesforceError(400, "MALFORMED_QUERY", str(exc)) from None
        self._check_fields(query.sobject, query.fields)
        rows = [r for r in self.records[query.sobject].values()
                if evaluate(query.where, lambda f, r=r: self._value(query.sobject, r, f))]
        for name, descending in reversed(query.order_by):
            rows.sort(key=lambda r, n=name: (r.get(n) is not None, r.get(n) or 0),
                      reverse=descending)
        rows = rows[:query.limit] if query.limit is not None else rows
        projected = [self._project(query.sobject, r, query.fields) for r in rows]
        return self._page(projected, len(projected), version)

    def _next_page(self, locator: str, version: str) -> Response:
        rows = self._cursors.pop(locator, None)
        if rows is None:
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(rows, int(locator.split("-")[1]), version)

    def _page(self, rows: list[dict], total: int, version: str) -> Response:
        page, remainder = rows[:self.page_size], rows[self.page_size:]
        body: dict[str, Any] = {"totalSize": total, "done": not remainder, "records": page}
        if remainder:
            locator = f"01gFAKE{secrets.token_hex(4)}-{total}"
            self._cursors[locator] = remainder
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}"
        return _json(body)

    def add_list_view(self, sobject: str, label: str, query: str) -> str:
        """A list view whose describe answers ``query`` (the SOQL Salesforce generates from
        its filters, e.g. ``SELECT Name, Id FROM Contact WHERE … ORDER BY Name ASC``)."""
        view_id = f"00B{len(self.list_views) + 1:012d}"
        self.list_views[(sobject, view_id)] = query
        return view_id

    def _describe_list_view(self, sobject: str, view_id: str) -> Response:
        query = self.list_views.get((sobject, view_id))
        if query is None:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        return _json({"id": view_id, "query": query, "sobjectType": sobject,
                      "columns": [], "orderBy": [], "scope": None, "whereCondition": {}})

    def _describe(self, sobject: str) -> Response:
        if sobject not in self.schema:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        return _json({"name": sobject, "label": sobject, "queryable": True, "searchable": True,
                      "createable": True, "updateable": True,
                      "fields": [f.describe() for f in self.schema[sobject].values()]})

    def _check_fields(self, sobject: str, fields: list[str]) -> None:
        if sobject not in self.schema:
            raise SalesforceError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not "
                                  "supported.")
        for name in fields:
            if self._field_def(sobject, name) is None:
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on entity "
                                      f"'{sobject}'.")

    def _field_def(self, sobject: str, path: str) -> FieldDef | None:
        head, _, rest = path.partition(".")
        if not rest:
            return self.schema[sobject].get(head)
        for f in self.schema[sobject].values():
            if f.relationship_name == head and f.reference_to:
                return self._field_def(f.reference_to[0], rest)
        return None

    def _value(self, sobject: str, record: dict[str, Any], path: str) -> Any:
        head, _, rest = path.partition(".")
        if not rest:
            return record.get(head)
        for f in self.schema[sobject].values():
            if f.relationship_name == head and record.get(f.name):
                target = f.reference_to[0]
                return self._value(target, self.records[target].get(record[f.name], {}), rest)
        return None

    def _project(self, sobject: str, record: dict[str, Any], fields: list[str]) -> dict:
        out: dict[str, Any] = {"attributes": self._attributes(sobject, record["Id"])}
        for name in fields:
            head, _, rest = name.partition(".")
            if not rest:
                out[head] = _jsonable(record.get(head))
                continue
            ref = next(f for f in self.schema[sobject].values() if f.relationship_name == head)
            target_id = record.get(ref.name)
            target = self.records[ref.reference_to[0]].get(target_id) if target_id else None
            if target is None:
                out[head] = None
            else:
                nested = out.get(head) or self._project(ref.reference_to[0], target, [])
                nested.update(self._project(ref.reference_to[0], target, [rest]))
                out[head] = nested
        return out

    def _attributes(self, sobject: str, record_id: str) -> dict[str, str]:
        return {"type": sobject, "url": f"/services/data/v62.0/sobjects/{sobject}/{record_id}"}

    # -- writes ----------------------------------------------------------------------------

    def _upsert(self, sobject: str, ext_field: str, body: Any, lock: str) -> Response:
        field = self.schema.get(sobject, {}).get(ext_field)
        if sobject not in self.schema or field is None or not field.external_id:
            raise SalesforceError(404, "NOT_FOUND", "Provided external ID field does not exist "
                                  f"or is not accessible: {ext_field}")
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "records must be a list")
        if len(records) > COLLECTION_LIMIT:
            raise SalesforceError(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot "
                                  "submit more than 200 records into this call")
        for record in records:
            unknown = [k for k in record if k != "attributes" and k not in self.schema[sobject]]
            if unknown:
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on "
                                      f"sobject of type {sobject}")
        keys = [r.get(ext_field) for r in records]
        results = []
        for index, record in enumerate(records):
            if index == 0 and lock:
                results.append(_failed(*_LOCK_ERRORS[lock]))
            elif keys.count(record.get(ext_field)) > 1:
                results.append(_failed("DUPLICATE_EXTERNAL_ID", "Duplicate external id "
                                       f"specified: {record.get(ext_field)}", ext_field))
            else:
                results.append(self._upsert_one(sobject, ext_field, record))
        return _json(results)

    def _upsert_one(self, sobject: str, ext_field: str, record: dict[str, Any]) -> dict:
        if record.get("attributes", {}).get("type") != sobject:
            return _failed("INVALID_TYPE", "attributes.type must match the URL", "attributes")
        key = record.get(ext_field)
        if not key:
            return _failed("REQUIRED_FIELD_MISSING", f"Required fields are missing: "
                           f"[{ext_field}]", ext_field)
        values = {k: v for k, v in record.items() if k != "attributes"}
        existing = next((r for r in self.records[sobject].values() if r.get(ext_field) == key),
                        None)
        if existing is not None:
            locked = [k for k in values if not self.schema[sobject][k].updateable]
            if locked:
                return _failed("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update "
                               f"fields: {', '.join(locked)}. Please check the security "
                               "settings of this field and verify that it is read/write for "
                               "your profile or permission set.", *locked)
            merged = {**existing, **values}
        else:
            merged = {"OwnerId": self.integration_user_id, **values}
        problem = self._validate(sobject, merged)
        if problem:
            return _failed(*problem)
        if existing is None:
            self._counter += 1
            merged["Id"] = f"{PREFIXES[sobject]}{self._counter:012d}AAA"
        merged["LastModifiedDate"] = _now()
        self.records[sobject][merged["Id"]] = merged
        return {"id": merged["Id"], "success": True, "errors": [], "created": existing is None}

    def _validate(self, sobject: str, record: dict[str, Any]) -> tuple[str, ...] | None:
        fields = self.schema[sobject]
        for name, value in record.items():
            f = fields.get(name)
            if f is None or value is None:
                continue
            if f.picklist and value not in f.picklist:
                return ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                        f"bad value for restricted picklist field: {value}", name)
            if isinstance(value, str) and len(value) > f.length:
                return ("STRING_TOO_LONG", f"{name}: data value too large", name)
            if f.type == "int" and (not isinstance(value, int) or value < 0):
                return ("NUMBER_OUTSIDE_VALID_RANGE", f"{name}: value outside of valid range",
                        name)
            if f.type == "date" and not _is_date(value):
                return ("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{name}: value not of required "
                        "type", name)
            if f.type == "reference" and not self._references(f, value):
                return ("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", name)
        who = record.get("WhoId") or ""
        if sobject == "Task" and who.startswith(PREFIXES["Lead"]) and record.get("WhatId"):
            return ("FIELD_INTEGRITY_EXCEPTION", "Related To ID: A task related to a lead "
                    "cannot be related to another record.", "WhatId")
        return None

    def _references(self, f: FieldDef, value: Any) -> bool:
        target = next((o for o in f.reference_to if str(value) in self.records.get(o, {})), "")
        if target == "User":
            return bool(self.records["User"][value].get("IsActive"))
        return bool(target)


_LOCK_ERRORS = {
    "UNABLE_TO_LOCK_ROW": ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this "
                           "record or 1 records: 001000000000001AAA"),
    "LOCK_IN_FLOW": ("CANNOT_EXECUTE_FLOW_TRIGGER", "We can't save this record because the "
                     "\"Update Account\" process failed. Error ID: UNABLE_TO_LOCK_ROW: unable "
                     "to obtain exclusive access to this record or 1 records"),
}


def _failed(code: str, message: str, *fields: str) -> dict[str, Any]:
    return {"success": False, "errors": [{"statusCode": code, "message": message,
                                          "fields": list(fields)}]}


def _phone_matches(stored: Any, digits: str) -> bool:
    if not stored:
        return False
    text = str(stored)
    return re.sub(r"\D", "", text) == digits or digits in re.findall(r"\d+", text)


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return value


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    mimetype="application/json")
