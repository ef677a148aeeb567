"""The values of one call as the placeholders see them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import phonenumbers

from ..base import CallLog
from .placeholders import date_values


@dataclass(frozen=True)
class CallContext:
    """One call, for rendering templates. Numbers are E.164 (or ``client:…`` for agents)."""

    call_sid: str = ""
    direction: str = "inbound"
    customer_number: str = ""  # {TEL}: the caller inbound, the callee outbound
    our_number: str = ""  # {CALLED}: the number of ours the call went through
    customer_name: str = ""  # {NAME} {TELNAME}
    customer_company: str = ""  # {COMPANY}
    customer_id: str = ""  # {ID}: the customer's record in this CRM, when known
    agent_username: str = ""  # {AID} {EXT}
    agent_name: str = ""  # {CALLEDNAME}
    started_at: str = ""  # ISO 8601 UTC → {DATE-*} in the deployment's time zone
    duration_seconds: int = 0
    answered: bool = False
    result: str = ""
    note: str = ""
    recording_url: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        """A call between agents (no outside party)."""
        number = self.customer_number
        return not number or number.startswith("client:")

    def with_customer(self, name: str, company: str = "", record_id: str = "") -> CallContext:
        return replace(self, customer_name=name, customer_company=company,
                       customer_id=record_id)

    def values(self, *, timezone: str, number_format: str) -> dict[str, str]:
        moment = _parse_time(self.started_at).astimezone(ZoneInfo(timezone))
        values = {
            "TEL": format_number(self.customer_number, number_format),
            "TELNAME": self.customer_name,
            "CALLED": format_number(self.our_number, number_format),
            "CALLEDNAME": self.agent_name,
            "COMPANY": self.customer_company,
            "NAME": self.customer_name,
            "ID": self.customer_id,
            "EXT": self.agent_username,
            "AID": self.agent_username,
            "CALLSID": self.call_sid,
            "DIRECTION": self.direction,
            "DURATION": str(self.duration_seconds),
            "RESULT": self.result,
            "NOTE": self.note,
            "RECORDING_URL": self.recording_url,
            **date_values(moment),
        }
        values.update(self.extra)
        return values


def from_log(log: CallLog) -> CallContext:
    """The context of a finished (or wrapped-up) call."""
    our = log.to_number if log.direction == "inbound" else log.from_number
    return CallContext(
        call_sid=log.call_sid, direction=log.direction, customer_number=log.customer_number,
        our_number="" if our.startswith("client:") else our, customer_name=log.customer_name,
        customer_id=log.customer_record_id, agent_username=log.agent_username,
        agent_name=log.agent_name, started_at=log.started_at,
        duration_seconds=log.duration_seconds, answered=log.answered,
        result=log.disposition, note=log.notes, recording_url=log.recording_url)


def format_number(number: str, number_format: str) -> str:
    """An E.164 number as a template wants it; anything else (``client:…``, "") as it is."""
    if not number.startswith("+") or number_format == "e164":
        return number
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    if number_format == "hyphen":
        return national
    return "".join(ch for ch in national if ch.isdigit())


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
