"""The generic HTTP adapter: any CRM reached through URL templates (SPEC HT-1, HT-2, CR-3).

Configured per instance as ``[crm.http.<name>]`` (see :mod:`.settings`); each instance is an
adapter of its own named ``http_<name>``. What it does per event:

- **search** (ringing, and the phone index): the search template, its answer parsed into
  customers (:mod:`.responses`), signed in first with the auth template when there is one;
- **hangup** and **wrapup** (server-side): sent by :meth:`write_call_logs`, i.e. by the
  write-back queue — queued after the call record is committed, retried with backoff,
  dead-lettered. The hang-up template fires once per call, a wrap-up once per saved result
  and note (:mod:`.ledger`);
- **click**, **incoming**, **answered** (server-side): :meth:`fire`, called by the
  connector's integration jobs, once per call and event;
- any event with ``run = "browser"`` and the per-number pop-ups: :meth:`browser_requests`,
  which the softphone opens as screen pops.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import phonenumbers
import requests
from sqlalchemy import Engine, create_engine

from ..base import CallLog, Check, CRMAdapter, Customer, WriteResult
from ..errors import AdapterAuthError, AdapterError, AdapterPermanentError, AdapterTemporaryError
from ..http import raise_for_status, transport_errors
from . import placeholders, responses
from .context import CallContext, from_log
from .ledger import AlreadyInFlight, Ledger
from .ledger import metadata as ledger_metadata
from .settings import AuthTemplate, HTTPTemplateSettings, SearchTemplate, Template, app_scheme


class HTTPTemplateAdapter(CRMAdapter):
    """A CRM with no adapter of its own, reached through URL templates."""

    name: ClassVar[str] = "http"
    display_name: ClassVar[str] = "HTTP (URL templates)"
    Settings: ClassVar[type] = HTTPTemplateSettings
    write_batch_limit: ClassVar[int] = 1
    #: ``[crm.http.<instance>]`` tables: one adapter per instance, named ``http_<instance>``.
    multi_instance: ClassVar[bool] = True

    settings: HTTPTemplateSettings

    def __init__(self, settings: Any, *, http: requests.Session, env: Any = None) -> None:
        super().__init__(settings, http=http, env=env)
        self._lock = threading.Lock()
        self._sid = ""
        self._sid_until = 0.0
        self._engine: Engine | None = None
        #: The ledger's clock; the connector sets its own (tests move it).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    @property
    def server_side(self) -> bool:
        # Live lookups need a search template; write-back rows a server-side hang-up or
        # wrap-up. An integration of browser pops only is never asked anything.
        return self.settings.search is not None or any(
            t.run == "server" for e, t in self.settings.templates().items()
            if e in ("hangup", "wrapup"))

    # -- CRMAdapter --------------------------------------------------------------------------

    def lookup_by_phone(self, e164: str) -> list[Customer]:
        search = self.settings.search
        if search is None:
            return []
        context = CallContext(customer_number=e164)
        response = self._send("search", search, context, authed=True)
        text = responses.decode(response.content, _charset(response))
        try:
            if search.response == "json":
                records = responses.parse_json(text, search.items_path, search.fields)
            else:
                records = responses.parse_text(text, search.format)
        except responses.ResponseFormatError as exc:
            raise AdapterPermanentError(f"search answer: {exc}", adapter=self.name) from exc
        return [self._customer(record, e164, search) for record in records
                if record.get("NAME") or record.get("ID")]

    def write_call_logs(self, logs: Sequence[CallLog]) -> list[WriteResult]:
        if len(logs) > self.write_batch_limit:
            raise ValueError(f"at most {self.write_batch_limit} logs per call")
        results = []
        for log in logs:
            context = from_log(log)
            if self.applies_to(context):
                hangup = self.settings.hangup
                if (hangup is not None and hangup.run == "server"
                        and (log.answered or not hangup.only_answered)):
                    self._send_once("hangup", hangup, context)
                wrapup = self.settings.wrapup
                if wrapup is not None and wrapup.run == "server" and (log.disposition
                                                                       or log.notes):
                    self._send_once(_wrapup_key(log), wrapup, context)
            results.append(WriteResult(log.call_sid, record_id=log.call_sid))
        return results

    def screen_pop_url(self, customer: Customer) -> str | None:
        return customer.url or None

    def check(self) -> list[Check]:
        verdicts = []
        try:
            if self.settings.auth is not None:
                self._session(force=True)
                verdicts.append(Check("auth", True, "signed in with the auth template"))
        except AdapterError as exc:
            return [Check("auth", False, f"the auth template failed: {exc}")]
        if self.settings.search is not None:
            try:
                found = self.lookup_by_phone(self.settings.test_number)
                verdicts.append(Check("search", True, f"search answered ({len(found)} "
                                                      f"customer(s) for a test number)"))
            except AdapterError as exc:
                verdicts.append(Check("search", False, f"the search template failed: {exc}"))
        for event, template in self.settings.templates().items():
            verdicts.append(self._reachable(event, template))
        if not verdicts:
            verdicts.append(Check("configuration", True, "no template configured", "warning"))
        return verdicts

    # -- events ------------------------------------------------------------------------------

    def applies_to(self, context: CallContext) -> bool:
        """Whether this integration handles the call: target numbers, internal calls."""
        if context.internal and self.settings.skip_internal:
            return False
        targets = self.settings.target_numbers
        return not targets or _e164(context.our_number) in {_e164(t) for t in targets}

    def fire(self, event: str, context: CallContext) -> bool:
        """Send the server-side template of ``event`` once per call; True if sent now."""
        template = self.settings.templates().get(event)
        if template is None or template.run != "server" or not self.applies_to(context):
            return False
        return self._send_once(event, template, context)

    def browser_requests(self, event: str, context: CallContext) -> list[dict[str, Any]]:
        """What the softphone opens for ``event``: ``[{"method", "url", "fields"}]`` (with
        ``"target": "app"`` for a URL of an app's own scheme).

        ``incoming`` and ``answered`` add the per-number pop-ups of HT-2.
        """
        if not self.applies_to(context):
            return []
        values = self._values(context)
        secrets = self._secrets()
        opened = []
        template = self.settings.templates().get(event)
        if template is not None and template.run == "browser":
            url, fields = self._browser_form(template, values, secrets)
            pop: dict[str, Any] = {"method": template.method, "url": url, "fields": fields}
            if app_scheme(template.url):
                pop["target"] = "app"  # handed to the app of its scheme, not a window
            opened.append(pop)
        popups = {"incoming": self.settings.ring_popups,
                  "answered": self.settings.answer_popups}.get(event, {})
        for number, popup in popups.items():
            if _e164(number) == _e164(context.our_number):
                opened.append({"method": "GET", "fields": [], "url": placeholders.render_url(
                    popup, values, secrets=secrets, charset=self.settings.url_charset)})
        return opened

    # -- internals ---------------------------------------------------------------------------

    def ledger(self) -> Ledger:
        with self._lock:
            if self._engine is None:
                url = self.env.database_url or "sqlite://"
                self._engine = create_engine(url)
                if url == "sqlite://":
                    # No shared database (a script): a ledger for this process only.
                    self.log.warning("no database: sent templates are remembered in memory")
                    ledger_metadata.create_all(self._engine)
            return Ledger(self._engine, self.name, self.clock)

    def _send_once(self, event: str, template: Template, context: CallContext) -> bool:
        ledger = self.ledger()
        try:
            if not ledger.claim(context.call_sid, event):
                return False
        except AlreadyInFlight as exc:
            raise AdapterTemporaryError(str(exc), adapter=self.name) from exc
        try:
            self._send(event.split("-")[0], template, context, authed=True,
                       idempotency_key=f"{context.call_sid}-{event}")
        except BaseException:
            ledger.release(context.call_sid, event)
            raise
        ledger.sent(context.call_sid, event)
        return True

    def _send(self, event: str, template: Template | SearchTemplate | AuthTemplate,
              context: CallContext, *, authed: bool = False,
              idempotency_key: str = "") -> requests.Response:
        for attempt in (1, 2):
            values = self._values(context)
            if authed and self.settings.auth is not None:
                values["SID"] = self._session()
            response = self._request(template, values, idempotency_key)
            if response.status_code == 401 and authed and self.settings.auth and attempt == 1:
                self._sid_until = 0.0  # the session ended early: sign in again, once
                continue
            break
        raise_for_status(response, adapter=self.name, detail=_detail(response))
        self.log.info("%s template answered HTTP %s", event, response.status_code,
                      extra={"call_sid": context.call_sid})
        return response

    def _request(self, template: Template | SearchTemplate | AuthTemplate,
                 values: dict[str, str], idempotency_key: str) -> requests.Response:
        secrets = self._secrets()
        charset = self.settings.url_charset
        headers = {k: placeholders.render(v, values, "raw", secrets=secrets)
                   for k, v in self.settings.headers.items()}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        kwargs: dict[str, Any] = {"headers": headers, "timeout": self.settings.timeout_seconds,
                                  "allow_redirects": False}
        try:
            url = placeholders.render_url(template.url, values, secrets=secrets, charset=charset)
            if template.method == "POST":
                if template.body and template.body_format == "json":
                    kwargs["json"] = placeholders.render_json(template.body, values,
                                                              secrets=secrets)
                elif template.body:
                    kwargs["data"] = placeholders.render_form(template.body, values,
                                                              secrets=secrets)
                else:
                    # BIZTEL's "HTTP POST": the URL's parameters go in the body instead.
                    url, _, query = url.partition("?")
                    kwargs["data"] = query
                    headers["Content-Type"] = "application/x-www-form-urlencoded"
        except placeholders.TemplateError as exc:
            raise AdapterPermanentError(f"template: {exc}", adapter=self.name) from exc
        with transport_errors(self.name):
            return self.http.request(template.method, url, **kwargs)

    def _session(self, *, force: bool = False) -> str:
        auth = self.settings.auth
        if auth is None:
            return ""
        with self._lock:
            if not force and self._sid and time.monotonic() < self._sid_until:
                return self._sid
        response = self._request(auth, self._values(CallContext()), "")
        raise_for_status(response, adapter=self.name, detail=_detail(response))
        text = responses.decode(response.content, _charset(response))
        try:
            if auth.format.startswith("json:"):
                sid = str(responses.dotted(_json(text), auth.format[5:]) or "")
            else:
                found = responses.parse_text(text, auth.format)
                sid = found[0].get("SID", "") if found else ""
        except responses.ResponseFormatError as exc:
            raise AdapterAuthError(f"auth answer: {exc}", adapter=self.name) from exc
        if not sid:
            raise AdapterAuthError("the auth template's answer holds no session ({SID})",
                                   adapter=self.name)
        with self._lock:
            self._sid, self._sid_until = sid, time.monotonic() + auth.session_minutes * 60
        return sid

    def _reachable(self, event: str, template: Template) -> Check:
        """A HEAD request to the template's URL: reachable, without creating anything."""
        values = self._values(CallContext(customer_number=self.settings.test_number,
                                          call_sid="CAdoctor"))
        try:
            url = placeholders.render_url(template.url, values, secrets=self._secrets(),
                                          charset=self.settings.url_charset)
        except placeholders.TemplateError as exc:
            return Check(event, False, f"the {event} template cannot be rendered: {exc}")
        where = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}{urlsplit(url).path}"
        if template.run == "browser" and app_scheme(template.url):
            return Check(event, True, f"handed to the app of {app_scheme(template.url)}: on the "
                                      "agent's PC (not checked from here)", "info")
        if template.run == "browser":
            return Check(event, True, f"opened in the agent's browser: {where}", "info")
        try:
            with transport_errors(self.name):
                response = self.http.request("HEAD", url, timeout=self.settings.timeout_seconds,
                                             allow_redirects=False)
        except AdapterError as exc:
            return Check(event, False, f"the {event} template's server is unreachable: {exc}")
        # 405/501: the endpoint exists but takes no HEAD; only 404 and auth say "wrong".
        if response.status_code in (401, 403, 404) or response.status_code >= 500 and \
                response.status_code != 501:
            return Check(event, False, f"the {event} template's URL {where} answered HTTP "
                                       f"{response.status_code}")
        return Check(event, True, f"{where} reachable (HTTP {response.status_code})")

    def _values(self, context: CallContext) -> dict[str, str]:
        return context.values(timezone=self.env.timezone,
                              number_format=self.settings.number_format)

    def _secrets(self) -> dict[str, str]:
        return {k: v.reveal() for k, v in self.settings.secrets.items()}

    def _browser_form(self, template: Template, values: dict[str, str],
                      secrets: dict[str, str]) -> tuple[str, list[list[str]]]:
        charset = self.settings.url_charset
        url = placeholders.render_url(template.url, values, secrets=secrets, charset=charset)
        if template.method == "GET":
            return url, []
        if template.body:
            return url, [list(f) for f in placeholders.render_form(template.body, values,
                                                                     secrets=secrets)]
        base, _, query = url.partition("?")
        return base, [list(f) for f in parse_qsl(query, keep_blank_values=True,
                                                  encoding=charset)]

    def _customer(self, record: dict[str, str], e164: str,
                  search: SearchTemplate) -> Customer:
        record_id = record.get("ID") or _digest(record.get("NAME", ""), record.get("COMPANY", ""))
        url = record.get("URL", "")
        if not url and search.record_url:
            context = CallContext(customer_number=e164).with_customer(
                record.get("NAME", ""), record.get("COMPANY", ""), record_id)
            url = placeholders.render_url(search.record_url, self._values(context),
                                          charset=self.settings.url_charset)
        return Customer(adapter=self.name, record_id=record_id,
                        display_name=record.get("NAME", ""), object_type="record",
                        company=record.get("COMPANY", ""), phone_numbers=(e164,), url=url)


def _wrapup_key(log: CallLog) -> str:
    # One wrap-up send per distinct result and note: a re-run of the same revision sends
    # nothing, an edited wrap-up sends again.
    digest = hashlib.sha256(f"{log.disposition}\n{log.notes}".encode()).hexdigest()[:8]
    return f"wrapup-{digest}"


def _digest(*parts: str) -> str:
    return "h" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _e164(number: str) -> str:
    if number.startswith("+"):
        return number
    try:
        return phonenumbers.format_number(phonenumbers.parse(number, "JP"),
                                          phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        return number


def _charset(response: requests.Response) -> str | None:
    # Only a charset the server declared: requests guesses ISO-8859-1 for any text/*.
    content_type = response.headers.get("Content-Type", "")
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            return value.strip('"')
    return None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise responses.ResponseFormatError(f"not JSON: {exc.msg}") from exc


def _detail(response: requests.Response) -> str:
    if response.status_code < 400:
        return ""
    text = responses.decode(response.content[:300], _charset(response))
    return " ".join(text.split())[:200]
