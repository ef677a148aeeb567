"""The "connect" test of Hasso's kintone screen: load each app's fields and say what to fix.

For every configured app it loads ``GET /k/v1/app/form/fields.json`` (which works with a token
that may view or add records, or administer the app), checks that each configured field code
exists with a type the connector can use, and probes the token's permissions *without writing
anything*: an add or edit request with an empty ``records`` list is refused with ``GAIA_NO01``
when the token lacks that permission, and otherwise fails validation (or does nothing). That
kintone checks the token's permission before validating the body is UNVERIFIED — it follows
from the error's wording ("Using this API token, you cannot run the specified API"), not from
a documented order.
"""

from __future__ import annotations

import logging
from typing import Any

from ..base import Check
from ..errors import AdapterConfigError, AdapterError
from .client import KintoneClient
from .records import ID_FIELD
from .settings import KintoneApp, KintoneSettings

TEXT = "SINGLE_LINE_TEXT"
CHOICE = (TEXT, "DROP_DOWN", "RADIO_BUTTON")
PHONE = (TEXT, "LINK")

#: Field types the connector can write each call-log value to.
CALL_HISTORY_TYPES: dict[str, tuple[str, ...]] = {
    "call_sid": (TEXT,),
    "direction": CHOICE,
    "status": CHOICE,
    "from_number": PHONE,
    "to_number": PHONE,
    "customer_number": PHONE,
    "started_at": ("DATETIME",),
    "answered_at": ("DATETIME",),
    "ended_at": ("DATETIME",),
    "duration_seconds": ("NUMBER",),
    "talk_seconds": ("NUMBER",),
    "agent": (TEXT,),
    "agent_user": ("USER_SELECT",),
    "customer_record_id": (TEXT, "NUMBER"),
    "customer_name": (TEXT,),
    "disposition": CHOICE,
    "notes": ("MULTI_LINE_TEXT", TEXT, "RICH_TEXT"),
    "recording_url": ("LINK", TEXT),
}

#: Twilio's final call statuses, which a drop-down status field must offer.
CALL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")

#: Field types kintone fills in itself; "required" does not concern the connector for them.
SYSTEM_TYPES = {"RECORD_NUMBER", "__ID__", "__REVISION__", "CREATOR", "CREATED_TIME",
                "MODIFIER", "UPDATED_TIME", "STATUS", "STATUS_ASSIGNEE", "CATEGORY", "CALC",
                "SUBTABLE", "REFERENCE_TABLE", "GROUP", "LABEL", "SPACER", "HR"}

Properties = dict[str, dict[str, Any]]


class ConnectionCheck:
    """Runs the connection check for one :class:`KintoneSettings`."""

    def __init__(self, settings: KintoneSettings, client: KintoneClient,
                 log: logging.Logger) -> None:
        self.settings = settings
        self.client = client
        self.log = log

    def run(self) -> list[Check]:
        verdicts: list[Check] = []
        for app in self.settings.apps:
            try:
                verdicts += self.check_app(app)
            except Exception as exc:  # a check must report, never raise
                verdicts.append(Check(_name(app, "connection"), False,
                                      f"unexpected error: {exc}"))
        return verdicts

    def check_app(self, app: KintoneApp) -> list[Check]:
        try:
            data = self.client.get(app, "app/form/fields", {"app": app.app_id},
                                   what="load fields")
        except AdapterError as exc:
            return [Check(_name(app, "connection"), False,
                          f"cannot load the fields of app {app.label}: {exc}")]
        properties: Properties = data.get("properties") or {}
        verdicts = [Check(_name(app, "connection"), True,
                          f"connected; {len(properties)} fields loaded from app {app.label}",
                          "info")]
        problems = self.field_problems(app, properties)
        verdicts += problems
        if not any(p.severity == "error" for p in problems):
            verdicts.append(Check(_name(app, "fields"), True,
                                  "every configured field exists with a usable type", "info"))
        verdicts += self.permission_checks(app)
        return verdicts

    # -- fields ------------------------------------------------------------------------------

    def field_problems(self, app: KintoneApp, properties: Properties) -> list[Check]:
        if app.kind == "crm":
            return self._crm_fields(app, properties)
        if app.kind == "call_history":
            return self._call_history_fields(app, properties)
        return []

    def _crm_fields(self, app: KintoneApp, properties: Properties) -> list[Check]:
        problems = []
        for code in app.phone_fields:
            problems += _expect(app, properties, code, PHONE, "phone_fields")
            link = properties.get(code, {})
            if link.get("type") == "LINK" and link.get("protocol") not in (None, "CALL"):
                problems.append(Check(_name(app, f"field {code}"), False,
                                      f"phone field '{code}' is a link of kind "
                                      f"{link.get('protocol')}; use a link of kind 電話番号 "
                                      "(CALL) or a text field", "warning"))
        for code in app.name_fields:
            problems += _expect(app, properties, code, (TEXT,), "name_fields")
        if app.company_field:
            problems += _expect(app, properties, app.company_field, (TEXT,), "company_field")
        problems += _expect(app, properties, app.updated_time_field, ("UPDATED_TIME",),
                            "updated_time_field")
        return problems

    def _call_history_fields(self, app: KintoneApp, properties: Properties) -> list[Check]:
        assert app.fields is not None
        mapped = app.fields.mapped()
        problems = []
        for attr, code in mapped.items():
            problems += _expect(app, properties, code, CALL_HISTORY_TYPES[attr],
                                f"fields.{attr}")
        sid = properties.get(app.fields.call_sid)
        if sid and sid.get("type") == TEXT and not sid.get("unique"):
            problems.append(Check(
                _name(app, f"field {app.fields.call_sid}"), False,
                f"field '{app.fields.call_sid}' (fields.call_sid) must have 値の重複を禁止する "
                "(prohibit duplicate values) turned on: every call log is upserted on it, so "
                "a retried write updates its record instead of adding a second one"))
        problems += _choice_problems(app, properties, mapped)
        problems += _unmapped_required(app, properties, set(mapped.values()))
        return problems

    # -- permissions -------------------------------------------------------------------------

    def permission_checks(self, app: KintoneApp) -> list[Check]:
        verdicts = [self._probe(app, "view", "レコード閲覧", self._probe_view)]
        if app.kind == "crm":
            return verdicts
        # Upserting call logs needs add and edit; general apps need them for flow actions.
        severity = "error" if app.kind == "call_history" else "warning"
        for what, label, probe in (("add", "レコード追加", self._probe_add),
                                   ("edit", "レコード編集", self._probe_edit)):
            verdict = self._probe(app, what, label, probe)
            if not verdict.ok:
                verdict = Check(verdict.name, False, verdict.message, severity)
            verdicts.append(verdict)
        return verdicts

    def _probe(self, app: KintoneApp, what: str, label: str, probe: Any) -> Check:
        name = _name(app, f"permission {what}")
        try:
            probe(app)
        except AdapterConfigError as exc:
            if "GAIA_NO01" in str(exc) or "CB_NO02" in str(exc):
                return Check(name, False, f"the API token of app {app.label} lacks the "
                             f"{label} ({what} records) permission: tick it under "
                             "設定 > APIトークン, save, and press アプリを更新")
            return Check(name, False, str(exc))
        except AdapterError as exc:
            return Check(name, False, f"could not test the {what} permission: {exc}")
        return Check(name, True, f"the API token may {what} records", "info")

    def _probe_view(self, app: KintoneApp) -> None:
        params = {"app": app.app_id, "query": "limit 1", "fields": [ID_FIELD]}
        self.client.get(app, "records", params, what="test view permission", override=True)

    def _probe_add(self, app: KintoneApp) -> None:
        # An empty batch: refused for lack of permission, otherwise invalid or a no-op.
        self.client.send_validated(app, "POST", "records", what="test add permission",
                                   body={"app": app.app_id, "records": []})

    def _probe_edit(self, app: KintoneApp) -> None:
        self.client.send_validated(app, "PUT", "records", what="test edit permission",
                                   body={"app": app.app_id, "records": []})


def _name(app: KintoneApp, what: str) -> str:
    return f"kintone {app.name}: {what}"


def _expect(app: KintoneApp, properties: Properties, code: str, types: tuple[str, ...],
            key: str) -> list[Check]:
    prop = properties.get(code)
    name = _name(app, f"field {code}")
    if prop is None:
        return [Check(name, False, f"field code '{code}' ({key}) does not exist in app "
                      f"{app.label}; field codes are case-sensitive and shown under "
                      "設定 > フォーム > フィールドの設定 > フィールドコード")]
    if prop.get("type") not in types:
        return [Check(name, False, f"field '{code}' ({key}) is of type {prop.get('type')}; "
                      f"expected {' or '.join(types)}")]
    return []


def _choice_problems(app: KintoneApp, properties: Properties,
                     mapped: dict[str, str]) -> list[Check]:
    wanted = {"direction": tuple(app.direction_labels.values()), "status": CALL_STATUSES}
    problems = []
    for attr, values in wanted.items():
        prop = properties.get(mapped.get(attr, ""), {})
        if prop.get("type") not in ("DROP_DOWN", "RADIO_BUTTON"):
            continue
        missing = [v for v in values if v not in (prop.get("options") or {})]
        if missing:
            problems.append(Check(_name(app, f"field {prop.get('code', mapped[attr])}"), False,
                                  f"field '{mapped[attr]}' (fields.{attr}) has no option(s) "
                                  f"{', '.join(missing)}; add them or use a text field"))
    return problems


def _unmapped_required(app: KintoneApp, properties: Properties,
                       mapped_codes: set[str]) -> list[Check]:
    problems = []
    for code, prop in properties.items():
        if (prop.get("required") and code not in mapped_codes
                and prop.get("type") not in SYSTEM_TYPES and not prop.get("defaultValue")):
            problems.append(Check(_name(app, f"field {code}"), False,
                                  f"field '{code}' is required in app {app.label} but the "
                                  "connector does not fill it: map it under fields, give it "
                                  "a default value, or make it optional"))
    return problems
