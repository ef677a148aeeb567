"""The kintone adapter: caller lookups in the CRM app, call logs in the call-history app, screen
pops, the phone-index sync, and the flow actions of Hasso's call-flow parts.

kintone REST API: https://cybozu.dev/ja/kintone/docs/rest-api/ (records, cursor, form fields).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import requests

from ..base import AdapterEnvironment, CallLog, Check, CRMAdapter, Customer, WriteResult
from ..errors import AdapterConfigError, AdapterPermanentError, AdapterTemporaryError
from .calllists import call_list_pages, list_query, view_condition
from .checks import ConnectionCheck
from .client import KintoneClient
from .errors import KintoneError, record_errors
from .phones import stored_variants
from .records import (
    ID_FIELD,
    call_log_record,
    crm_fields,
    customer_from_record,
    plain,
    quote,
    text_of,
)
from .settings import KintoneApp, KintoneSettings
from .sync import cursor_pages, open_cursor, seek_pages

#: kintone's limit for records in one add or update request.
WRITE_LIMIT = 100

#: Most customers one lookup returns (newest records first).
LOOKUP_LIMIT = 20

#: Most records a flow's "match" part returns.
MATCH_LIMIT = 100

# Field codes may hold letters of any script, digits, "_", "・", "$" and "￥"; anything that
# could end the code inside a query is refused.
_FIELD_CODE = re.compile(r"^[^\s\"'()=<>!,\\]+$")


class KintoneAdapter(CRMAdapter):
    """Adapter for kintone apps (see ``docs/kintone.md``)."""

    name: ClassVar[str] = "kintone"
    display_name: ClassVar[str] = "kintone"
    Settings: ClassVar[type] = KintoneSettings
    write_batch_limit: ClassVar[int] = WRITE_LIMIT
    supports_sync: ClassVar[bool] = True

    settings: KintoneSettings

    def __init__(self, settings: KintoneSettings, *, http: requests.Session,
                 env: AdapterEnvironment | None = None) -> None:
        super().__init__(settings, http=http, env=env)
        self.client = KintoneClient(settings, http=self.http, limiter=self.env.limiter,
                                    log=self.log, adapter=self.name)

    # -- lookups -----------------------------------------------------------------------------

    def lookup_by_phone(self, e164: str) -> list[Customer]:
        """Records of the CRM app whose phone fields hold ``e164`` in a common stored format
        (see :mod:`crm_adapters.kintone.phones`), newest first, at most 20."""
        app = self._crm_app
        records = self._records(app, self._phone_query(app, e164, LOOKUP_LIMIT),
                                crm_fields(app), what="look up a caller")
        return [self._customer(app, record) for record in records]

    def caller_in_crm(self, e164: str) -> bool:
        """Whether any record of the CRM app holds ``e164`` (the flow's [顧客] part)."""
        app = self._crm_app
        return bool(self._records(app, self._phone_query(app, e164, 1), [ID_FIELD],
                                  what="check a caller"))

    def screen_pop_url(self, customer: Customer) -> str | None:
        if customer.url:
            return customer.url
        if not customer.record_id:
            return None
        return self.client.record_url(customer.object_type or self._crm_app.app_id,
                                      customer.record_id)

    def browser_links(self) -> dict[str, str]:
        """kintone pages the softphone's kintone bridge opens in the agent's browser.

        ``record_url`` is a template with ``{app}`` and ``{id}`` (the voice core may drop a
        match's URL to fit Twilio's parameter limits); ``new_record_url`` is the CRM app's add
        screen, where the click-to-call plugin fills in the caller's number.
        """
        app_id = self._crm_app.app_id
        return {"record_url": self.client.record_url("{app}", "{id}"),
                "new_record_url": self.client.new_record_url(app_id),
                "crm_app_id": str(app_id)}

    def contacts_changed_since(self, since: datetime | None) -> Iterator[Customer]:
        """Every record of the CRM app changed at or after ``since``, oldest change first.

        Records without any phone number are included (with no numbers), so the phone index
        can forget numbers that were removed.
        """
        app = self._crm_app
        for page in self._sync_pages(app, since):
            for record in page:
                yield self._customer(app, record)

    def call_list(self, *, view: str = "", condition: str = "",
                  app_name: str = "") -> Iterator[Customer]:
        """The customers of a call list (発信リスト): the records of the CRM app's ``view``
        and/or matching ``condition`` (a kintone query condition), in the view's order."""
        app = self._app_named(app_name) if app_name else self._crm_app
        found = view_condition(self.client, app, view) if view else None
        pages = call_list_pages(self.client, app, list_query(found, condition), self.log)
        for page in pages:
            for record in page:
                yield self._customer(app, record)

    def check(self) -> list[Check]:
        return ConnectionCheck(self.settings, self.client, self.log).run()

    # -- call logs ---------------------------------------------------------------------------

    def write_call_logs(self, logs: Sequence[CallLog]) -> list[WriteResult]:
        """Upsert ``logs`` into the call-history app keyed on the CallSid field.

        kintone applies a batch all-or-nothing; when it rejects some records, those get a
        per-record error and the rest are sent again, so one bad log never holds back the others.
        """
        app = self._call_history_app()
        results: list[WriteResult] = []
        for start in range(0, len(logs), WRITE_LIMIT):
            results += self._write_batch(app, logs[start:start + WRITE_LIMIT])
        return results

    def _write_batch(self, app: KintoneApp, logs: Sequence[CallLog]) -> list[WriteResult]:
        outcome: dict[str, WriteResult] = {}
        pending: dict[str, dict[str, Any]] = {}
        for log in logs:  # a CallSid twice in one batch: the later log wins
            try:
                pending[log.call_sid] = call_log_record(log, app)
                outcome.pop(log.call_sid, None)
            except ValueError as exc:
                pending.pop(log.call_sid, None)
                outcome[log.call_sid] = WriteResult(log.call_sid, error=str(exc))
        while pending:
            sids = list(pending)
            data, error = self.client.send_validated(
                app, "PUT", "records", what="write call logs",
                body={"app": app.app_id, "upsert": True,
                      "records": [self._upsert_entry(app, sid, pending[sid]) for sid in sids]})
            if error is None:
                for sid, written in zip(sids, data.get("records") or [], strict=False):
                    outcome[sid] = WriteResult(sid, record_id=str(written.get("id", "")))
                break
            for sid, result in self._rejected(app, sids, error).items():
                outcome[sid] = result
                del pending[sid]
        return [outcome.get(log.call_sid) or WriteResult(log.call_sid, error="not written")
                for log in logs]

    @staticmethod
    def _upsert_entry(app: KintoneApp, sid: str, record: dict[str, Any]) -> dict[str, Any]:
        assert app.fields is not None
        return {"updateKey": {"field": app.fields.call_sid, "value": sid}, "record": record}

    def _rejected(self, app: KintoneApp, sids: list[str],
                  error: KintoneError) -> dict[str, WriteResult]:
        """Per-record results for a CB_VA01 answer; raise if kintone blamed the whole batch."""
        assert app.fields is not None
        per_record, other = record_errors(error)
        if other or not per_record or any(i >= len(sids) for i in per_record):
            raise AdapterPermanentError(f"kintone app {app.label}: write call logs: "
                                        f"{error.describe()}", adapter=self.name)
        rejected = {}
        for index, problems in sorted(per_record.items()):
            named = [(app.fields.call_sid if code == "updateKey" else code, message)
                     for code, message in problems]
            text = "; ".join(f"{code}: {message}" for code, message in named)
            rejected[sids[index]] = WriteResult(sids[index], error=f"kintone rejected: {text}",
                                                field=named[0][0])
        self.log.warning("kintone app %s rejected %d of %d call logs", app.label,
                         len(rejected), len(sids))
        return rejected

    # -- flow actions (Hasso's [照合], [更新] and [追加] parts) -------------------------------

    def match_general(self, app_name: str, field: str, value: str | int) -> list[dict[str, Any]]:
        """Records of app ``app_name`` whose ``field`` equals ``value``, as ``{code: value}``
        dicts (``$id`` included), oldest first, at most 100."""
        app = self._app_named(app_name)
        literal = str(value) if isinstance(value, int) else quote(str(value))
        query = (f"{_field_code(field)} = {literal} order by {ID_FIELD} asc "
                 f"limit {MATCH_LIMIT}")
        return [plain(r) for r in self._records(app, query, [], what="match records")]

    def upsert_general(self, app_name: str, key_field: str, key_value: str | int,
                       values: Mapping[str, Any]) -> str:
        """Update the record of ``app_name`` whose ``key_field`` is ``key_value``, or add it;
        return its record id.

        ``key_field`` must be a text or number field with "prohibit duplicate values" on, or
        ``"$id"`` to address a record by id.
        """
        app = self._app_named(app_name)
        record = {_field_code(code): {"value": _field_value(v)} for code, v in values.items()}
        entry: dict[str, Any] = {"record": record}
        if key_field == ID_FIELD:
            entry["id"] = str(key_value)
        else:
            entry["updateKey"] = {"field": _field_code(key_field), "value": str(key_value)}
        data = self.client.send(app, "PUT", "records", what="upsert a record",
                                body={"app": app.app_id, "upsert": True, "records": [entry]})
        return str((data.get("records") or [{}])[0].get("id", ""))

    # -- helpers -----------------------------------------------------------------------------

    @property
    def _crm_app(self) -> KintoneApp:
        app = self.settings.app("crm")
        if app is None:  # settings validation makes this unreachable
            raise AdapterConfigError("no kintone app of kind 'crm' configured", adapter=self.name)
        return app

    def _call_history_app(self) -> KintoneApp:
        app = self.settings.app("call_history")
        if app is None or app.fields is None:
            raise AdapterConfigError('no kintone app of kind "call_history" is configured, so '
                                     "call logs cannot be written", adapter=self.name)
        return app

    def _app_named(self, name: str) -> KintoneApp:
        app = self.settings.app_named(name)
        if app is None:
            known = ", ".join(a.name for a in self.settings.apps)
            raise AdapterConfigError(f"no kintone app named {name!r} (configured: {known})",
                                     adapter=self.name)
        return app

    def _phone_query(self, app: KintoneApp, e164: str, limit: int) -> str:
        try:
            variants = stored_variants(e164)
        except ValueError as exc:
            raise AdapterPermanentError(str(exc), adapter=self.name) from exc
        clauses = [f"{code} = {quote(v)}" for code in app.phone_fields for v in variants]
        return f"{' or '.join(clauses)} order by {ID_FIELD} desc limit {limit}"

    def _records(self, app: KintoneApp, query: str, fields: list[str], *,
                 what: str) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"app": app.app_id, "query": query}
        if fields:
            params["fields"] = fields
        data = self.client.get(app, "records", params, what=what, override=True)
        return list(data.get("records") or [])

    def _customer(self, app: KintoneApp, record: dict[str, Any]) -> Customer:
        url = self.client.record_url(app.app_id, text_of(record, ID_FIELD))
        return customer_from_record(record, app, url=url, adapter=self.name)

    def _sync_pages(self, app: KintoneApp,
                    since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        if self.settings.sync_method == "cursor":
            try:
                cursor_id = open_cursor(self.client, app, since)
            except AdapterTemporaryError as exc:
                # Usually GAIA_TM12: the domain's 10 cursors are taken by other integrations.
                self.log.warning("cannot open a kintone cursor (%s); reading page by page "
                                 "instead", exc)
            else:
                return cursor_pages(self.client, app, cursor_id, self.log)
        return seek_pages(self.client, app, since)


def _field_code(code: str) -> str:
    if not _FIELD_CODE.match(code):
        raise AdapterConfigError(f"not a kintone field code: {code!r}", adapter="kintone")
    return code


def _field_value(value: Any) -> Any:
    """kintone's JSON for a plain Python value: numbers as strings, lists and dicts as given."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value
