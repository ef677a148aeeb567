"""The fake org's Lightning side, for browser tests: the page that frames the softphone.

Mixed into :class:`tests.fakes.salesforce.FakeSalesforce`, so the org origin that frames the
softphone is the org that holds the data — as in Salesforce:

* ``GET /lightning/page/home`` — a Lightning page with the softphone in an iframe (the adapter
  URL plus ``sfdcIFrameOrigin=<org origin>``, as Salesforce appends it) and the fake Lightning
  side of Open CTI (``lightning/lightning.js``);
* ``GET /support/api/<version>/lightning/opencti_min.js`` — the fake Open CTI library
  (``lightning/opencti_min.js``), at the real path;
* ``GET /lightning/search?q=`` — what ``searchAndScreenPop`` finds: records whose phone fields
  match, as ``{Id: {Id, Name, RecordType}}``;
* ``POST /lightning/savelog`` — ``saveLog`` of a new Task (``entityApiName`` = Task) as the user
  signed into the browser: an insert with the org's field rules and that user's field-level
  security (:mod:`tests.fakes.salesforce_permissions`), so a second Task with the same unique
  ``CTI_CallSid__c`` is refused with ``DUPLICATE_VALUE`` — the same store the REST upsert
  writes to. Errors reach the page as the org's ``[{errorCode, message, fields}]``; the fake
  Lightning page hands them to the softphone in Open CTI's documented error objects.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

ASSETS = Path(__file__).with_name("lightning")
SEARCHED = ("Contact", "Lead", "Account")


class LightningPages:
    """Test controls and WSGI handlers of the fake Lightning page (a mixin)."""

    records: dict[str, dict[str, dict[str, Any]]]
    schema: dict[str, dict[str, Any]]
    callsid_field: str
    integration_user_id: str
    browser_user: str | None

    def _init_lightning(self) -> None:
        #: The adapter URL the call center points at (the test sets it).
        self.adapter_url = ""
        #: What getCallCenterSettings returns for the custom section (name -> value).
        self.call_center_settings: dict[str, str] = {}
        self.savelog_requests: list[dict[str, Any]] = []

    def _lightning(self, request: Request) -> Response | None:
        """Answer a Lightning-side request, or None when the path is not one."""
        path = request.path
        if path == "/lightning/page/home":
            return self._home(request)
        if path == "/lightning/lightning.js":
            return _asset("lightning.js")
        if re.fullmatch(r"/support/api/\d+\.\d/lightning/opencti_min\.js", path):
            return _asset("opencti_min.js")
        if path == "/lightning/search":
            return self._search_pop(request.args.get("q", ""))
        if path == "/lightning/savelog" and request.method == "POST":
            return self._save_log(request.get_json(silent=True))
        return None

    def _home(self, request: Request) -> Response:
        org = request.host_url.rstrip("/")
        separator = "&" if "?" in self.adapter_url else "?"
        softphone = f"{self.adapter_url}{separator}sfdcIFrameOrigin={org}"
        settings = {"/reqGeneralInfo/reqAdapterUrl": self.adapter_url,
                    **{f"/CtiConnectorSettings/{k}": v
                       for k, v in self.call_center_settings.items()}}
        config = {"callCenterSettings": settings,
                  "appView": {"url": org + "/lightning/page/home", "recordId": "",
                              "recordName": "", "objectType": ""}}
        data = json.dumps(config).replace("<", "\\u003c")
        html = ("<!doctype html><html lang='ja'><head><meta charset='utf-8'>"
                "<title>Home | Salesforce</title></head><body>"
                f"<script type='application/json' id='lightning-config'>{data}</script>"
                f"<iframe id='softphone' title='softphone' allow='microphone' width='360' "
                f"height='600' src='{escape(softphone)}'></iframe>"
                "<script src='/lightning/lightning.js'></script></body></html>")
        return Response(html, mimetype="text/html")

    def _search_pop(self, text: str) -> Response:
        digits = re.sub(r"\D", "", text)
        found: dict[str, dict[str, Any]] = {}
        for sobject in SEARCHED:
            phones = [f for f, d in self.schema[sobject].items() if d.type == "phone"]
            for record in self.records[sobject].values():
                if digits and any(re.sub(r"\D", "", str(record.get(p) or "")) == digits
                                  for p in phones):
                    found[record["Id"]] = {"Id": record["Id"], "Name": record.get("Name", ""),
                                           "RecordType": sobject}
        return _json(found)

    def _save_log(self, value: Any) -> Response:
        self.savelog_requests.append(value)
        if not isinstance(value, dict) or value.get("entityApiName") != "Task" or "Id" in value:
            return _errors("INVALID_TYPE", "this fake saves new Tasks only")
        record = {k: v for k, v in value.items() if k != "entityApiName"}
        user = self.browser_user
        access = {k: self.field_access(user, "Task", k) for k in record}  # type: ignore[attr-defined]
        unknown = [k for k, (readable, _) in access.items() if not readable]
        if unknown:  # also what a field hidden from this user by field-level security gets
            return _errors("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type "
                           "Task", unknown[0])
        locked = [k for k, (_, editable) in access.items() if not editable]
        if locked:
            return _errors("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "
                           f"{', '.join(locked)}. Please check the security settings of this "
                           "field and verify that it is read/write for your profile or "
                           "permission set.", *locked)
        key = record.get(self.callsid_field)
        taken = next((r for r in self.records["Task"].values()
                      if key and r.get(self.callsid_field) == key), None)
        if taken is not None:
            return _errors("DUPLICATE_VALUE", f"duplicate value found: {self.callsid_field} "
                           f"duplicates value on record with id: {taken['Id']}",
                           self.callsid_field)
        owner = self.browser_user or self.integration_user_id
        problem = self._validate("Task", {"OwnerId": owner, **record})  # type: ignore[attr-defined]
        if problem:
            return _errors(*problem)
        return _json({"id": self.add_record("Task", OwnerId=owner,  # type: ignore[attr-defined]
                                            **record)})


def _asset(name: str) -> Response:
    return Response((ASSETS / name).read_text(encoding="utf-8"),
                    mimetype="text/javascript")


def _errors(code: str, message: str, *fields: str) -> Response:
    return _json([{"errorCode": code, "message": message, "fields": list(fields)}], 400)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    mimetype="application/json")
