"""One ``CallLog`` -> one Task record for the sObject Collections upsert.

Field facts (Task object reference; UNVERIFIED ones marked in ecosystem.md §1.3):

* ``TaskSubtype = "Call"`` makes the Task show as a call, but the field can be set only on
  insert. The upsert sends it every time; when Salesforce rejects it for an existing Task (a
  re-write of the same CallSid, e.g. after wrap-up), the adapter re-sends just those records
  without it. A first write costs one request, a re-write two.
* ``WhoId`` takes a Contact or Lead, ``WhatId`` anything else; a Task whose ``WhoId`` is a Lead
  must have no ``WhatId``, so a Lead sets ``WhatId`` to null explicitly (a re-write may move a
  Task from an Account to a Lead).
* ``ActivityDate`` is a date without time: the day the call started, in the deployment's zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from ..base import CallLog, WriteResult
from .rest import ApiError, parse_errors
from .settings import SalesforceSettings

SUBJECT_MAX = 255
DISPOSITION_MAX = 255
DESCRIPTION_MAX = 32_000
URL_FIELD_MAX = 255

#: Record-id key prefixes of the standard objects a call is tied to.
KEY_PREFIXES = {"003": "Contact", "00Q": "Lead", "001": "Account", "006": "Opportunity",
                "500": "Case"}
WHO_OBJECTS = {"Contact", "Lead"}

#: CallDisposition when the agent chose none: Twilio's final CallStatus, in Japanese.
STATUS_LABELS = {"completed": "完了", "busy": "話中", "no-answer": "応答なし",
                 "failed": "失敗", "canceled": "キャンセル"}

ANONYMOUS = "非通知"


def task_record(log: CallLog, settings: SalesforceSettings, *, timezone: str,
                owner_id: str | None) -> dict[str, Any]:
    """The Task fields for ``log``; ``owner_id`` None leaves the owner to Salesforce (the
    integration user on insert, unchanged on update)."""
    record: dict[str, Any] = {
        "attributes": {"type": "Task"},
        settings.task_callsid_field: log.call_sid,
        "Subject": subject(log, settings)[:SUBJECT_MAX],
        "Status": settings.task_status,
        "TaskSubtype": "Call",
        "CallType": "Inbound" if log.direction == "inbound" else "Outbound",
        "CallDurationInSeconds": max(0, int(log.talk_seconds or 0)),
        "CallObject": log.call_sid,
        "CallDisposition": disposition(log)[:DISPOSITION_MAX],
        "ActivityDate": activity_date(log.started_at, timezone),
    }
    record.update(related_records(log))
    if owner_id:
        record["OwnerId"] = owner_id
    description = log.notes
    recording = log.recording_url
    if recording and settings.task_recording_field and len(recording) <= URL_FIELD_MAX:
        record[settings.task_recording_field] = recording
    elif recording:
        # A URL field holds 255 characters; a longer link still reaches the agent this way.
        description = f"{description}\n\n録音: {recording}".strip()
    if description:
        record["Description"] = description[:DESCRIPTION_MAX]
    return record


def without_subtype(record: dict[str, Any]) -> dict[str, Any]:
    """The same record for an update: ``TaskSubtype`` is insert-only."""
    return {k: v for k, v in record.items() if k != "TaskSubtype"}


def related_records(log: CallLog) -> dict[str, Any]:
    """``WhoId``/``WhatId`` for the customer record the call belongs to."""
    record_id = log.customer_record_id
    if not record_id:
        return {}
    kind = log.customer_object_type or KEY_PREFIXES.get(record_id[:3], "")
    if kind == "Lead":
        return {"WhoId": record_id, "WhatId": None}
    if kind in WHO_OBJECTS:
        return {"WhoId": record_id}
    return {"WhatId": record_id}


def subject(log: CallLog, settings: SalesforceSettings) -> str:
    """The subject from the inbound, outbound or missed-call template."""
    if log.direction == "outbound":
        template = settings.subject_outbound
    elif log.answered:
        template = settings.subject_inbound
    else:
        template = settings.subject_missed
    number = national_number(log.customer_number)
    return template.format(party=log.customer_name or number or ANONYMOUS,
                           name=log.customer_name, number=number, agent=log.agent_name,
                           disposition=log.disposition)


def disposition(log: CallLog) -> str:
    return log.disposition or STATUS_LABELS.get(log.status, log.status)


def national_number(e164: str) -> str:
    """``+81312345678`` -> ``03-1234-5678``; anything unparseable is returned as is."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def activity_date(started_at: str, timezone: str) -> str:
    """The local calendar day of an ISO 8601 UTC timestamp."""
    moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def rejects_subtype(result: dict[str, Any]) -> bool:
    """Whether an upsert result failed only because ``TaskSubtype`` cannot be updated."""
    errors = parse_errors(result.get("errors"))
    return not result.get("success") and bool(errors) and all(
        "TaskSubtype" in e.fields or "TaskSubtype" in e.message for e in errors)


def duplicate_race(result: dict[str, Any], callsid_field: str) -> bool:
    """Two writers created the same CallSid at once; a retry updates the winner's Task."""
    return any(e.code == "DUPLICATE_VALUE" and (callsid_field in e.fields
                                                or callsid_field in e.message)
               for e in parse_errors(result.get("errors")))


def write_result(log: CallLog, result: dict[str, Any]) -> WriteResult:
    """The adapter-neutral outcome of one upsert result."""
    if result.get("success"):
        return WriteResult(call_sid=log.call_sid, record_id=str(result.get("id", "")))
    errors = parse_errors(result.get("errors")) or [ApiError("UNKNOWN_ERROR", "no details")]
    first = errors[0]
    return WriteResult(call_sid=log.call_sid, error=str(first)[:1000],
                       field=first.fields[0] if first.fields else "")
