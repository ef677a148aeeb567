"""The connection check: every verdict says what was checked and what to fix.

Runs the token request, then describes each lookup object and Task (as the integration user)
and, for ``logging_path = "both"``, reads the agents' access to the CallSid field
(:mod:`.agent_access`). Describes count against the
API allowance, so this runs on demand (``cti config check``), never per call.
"""

from __future__ import annotations

from typing import Any

from ..base import Check
from ..errors import AdapterError
from .agent_access import agent_callsid_check
from .auth import JwtBearerAuth
from .rest import SalesforceRest
from .settings import SalesforceSettings

PACKAGE_HINT = ("deploy sfdc-package/ (see docs/salesforce.md) and assign the "
                "CTI_Connector_Integration permission set to the integration user")


def run_checks(settings: SalesforceSettings, auth: JwtBearerAuth,
               rest: SalesforceRest) -> list[Check]:
    if not settings.uses_api:
        return [Check("salesforce.logging_path", True, "logging_path = 'browser': the server "
                      "makes no API calls; the softphone logs calls with Open CTI saveLog",
                      "info")]
    try:
        session = auth.session()
    except AdapterError as exc:
        return [Check("salesforce.token", False, str(exc)),
                Check("salesforce.api", False, "not checked: no access token", "info")]
    verdicts = [Check("salesforce.token", True,
                      f"token issued for {settings.username} at {session.instance_url}")]
    verdicts.append(_api_version(settings, rest))
    for sobject in settings.lookup_objects:
        verdicts.extend(_lookup_object(settings, rest, sobject))
    verdicts.extend(_task_fields(settings, rest))
    verdicts.append(agent_callsid_check(settings, rest))
    verdicts.append(_allowance(settings, rest))
    return verdicts


def _api_version(settings: SalesforceSettings, rest: SalesforceRest) -> Check:
    name = "salesforce.api_version"
    try:
        offered = rest.versions()
    except AdapterError as exc:
        return Check(name, False, f"cannot list API versions: {exc}")
    if settings.api_version in offered:
        return Check(name, True, f"API version {settings.api_version} is available")
    newest = max(offered, key=lambda v: float(v), default="none")
    return Check(name, False, f"api_version {settings.api_version} is not offered by this org "
                 f"(newest: {newest}); set api_version to one it offers")


def _describe(rest: SalesforceRest, sobject: str) -> dict[str, Any]:
    return rest.get(f"sobjects/{sobject}/describe")


def _lookup_object(settings: SalesforceSettings, rest: SalesforceRest,
                   sobject: str) -> list[Check]:
    name = f"salesforce.lookup.{sobject}"
    try:
        described = _describe(rest, sobject)
    except AdapterError as exc:
        return [Check(name, False, f"cannot read {sobject} ({exc}): check lookup_objects and "
                      f"give the integration user read access to {sobject}")]
    fields = {f["name"]: f for f in described.get("fields", [])}
    config = settings.fields_for(sobject)
    problems, warnings = [], []
    for phone in config.phone_fields:
        if phone not in fields:
            problems.append(f"phone field {phone} is missing or not readable")
        elif fields[phone].get("type") != "phone":
            warnings.append(f"{phone} is of type {fields[phone].get('type')}, not phone: "
                            "phone searches skip it")
    for key in ("name_field", "company_field"):
        path = getattr(config, key)
        if path and not _has_path(fields, path):
            problems.append(f"{key} {path} is missing or not readable")
    if not described.get("searchable", True):
        problems.append(f"{sobject} is not searchable")
    if problems:
        fix = (f"fix object_fields.{sobject} or grant the integration user read access to "
               "these fields")
        return [Check(name, False, f"{sobject}: {'; '.join(problems)} — {fix}")]
    checks = [Check(name, True, f"{sobject}: phone fields {', '.join(config.phone_fields)} "
                    "readable")]
    checks += [Check(name, False, f"{sobject}: {w}", "warning") for w in warnings]
    return checks


def _has_path(fields: dict[str, Any], path: str) -> bool:
    head, _, rest = path.partition(".")
    if not rest:
        return head in fields
    # Account.Name: follow the reference field whose relationshipName is "Account".
    return any(f.get("relationshipName") == head for f in fields.values())


def _task_fields(settings: SalesforceSettings, rest: SalesforceRest) -> list[Check]:
    try:
        fields = {f["name"]: f for f in _describe(rest, "Task").get("fields", [])}
    except AdapterError as exc:
        return [Check("salesforce.task", False, f"cannot describe Task ({exc}): give the "
                      "integration user the Edit Tasks permission")]
    checks = [_callsid_field(settings, fields.get(settings.task_callsid_field))]
    if settings.task_recording_field:
        checks.append(_recording_field(settings, fields.get(settings.task_recording_field)))
    return checks


def _callsid_field(settings: SalesforceSettings, field: dict[str, Any] | None) -> Check:
    name, key = "salesforce.task_callsid_field", settings.task_callsid_field
    if field is None:
        return Check(name, False, f"Task has no field {key} (or the integration user cannot "
                     f"see it): {PACKAGE_HINT}, or set task_callsid_field")
    if field.get("type") != "string" or not field.get("externalId"):
        return Check(name, False, f"Task.{key} must be a Text field marked External ID (it is "
                     f"{field.get('type')}, externalId={field.get('externalId')}); upserts by "
                     "CallSid need it — fix the field or " + PACKAGE_HINT)
    if not (field.get("createable") and field.get("updateable")):
        return Check(name, False, f"Task.{key} is read-only for the integration user: grant "
                     "edit access (permission set CTI_Connector_Integration)")
    if not field.get("unique"):
        return Check(name, False, f"Task.{key} is not Unique: two simultaneous first writes "
                     "of one call could create two Tasks; mark it Unique", "warning")
    return Check(name, True, f"Task.{key} is a unique External ID")


def _recording_field(settings: SalesforceSettings, field: dict[str, Any] | None) -> Check:
    name, key = "salesforce.task_recording_field", settings.task_recording_field
    if field is None:
        return Check(name, False, f"Task has no field {key}: {PACKAGE_HINT}, or set "
                     "task_recording_field = \"\" to write no recording links")
    if field.get("type") != "url":
        return Check(name, False, f"Task.{key} is of type {field.get('type')}, not URL: links "
                     "will not be clickable", "warning")
    return Check(name, True, f"Task.{key} holds recording links")


def _allowance(settings: SalesforceSettings, rest: SalesforceRest) -> Check:
    name = "salesforce.api_allowance"
    usage = rest.usage
    if usage is None:
        return Check(name, True, "the org did not report its API usage", "info")
    left = usage.remaining_percent
    text = f"{usage.used} of {usage.limit} daily API requests used ({left:.0f}% left)"
    if left < settings.api_reserve_percent:
        return Check(name, False, f"{text}: below api_reserve_percent "
                     f"({settings.api_reserve_percent:g}%), so call logs are deferred; buy "
                     "more API calls or lower api_reserve_percent", "warning")
    return Check(name, True, text)
