"""``[sms]``: sending and receiving SMS (SPEC SM-1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Twilio's alphanumeric sender IDs: 1–11 characters, letters, digits and spaces, at least one
#: letter. Whether a Japanese carrier shows it is the carrier's business (UNVERIFIED).
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")


@dataclass(frozen=True)
class SmsSettings:
    """``[sms]``"""

    #: Sender shown to the customer per number of ours: an alphanumeric sender ID, else the
    #: number itself. ``{ "+815012345678" = "ACME" }``
    sender_ids: dict[str, str] = field(default_factory=dict)
    #: Our number messages go out from when the agent does not choose (E.164; "" = the first
    #: number that can send).
    default_from: str = ""
    #: Longest message, in segments (70 characters each in Japanese, 160 in plain ASCII).
    max_segments: int = 5
    #: Log each message, sent or received, to the CRMs that can take it (as a call-less log).
    log_to_crm: bool = True
    #: Replace each long web address in a message by ``<public_base_url>/s/<code>`` (a
    #: redirect that counts clicks), so it costs fewer segments.
    short_urls: bool = True
    #: Days a short URL keeps redirecting; afterwards it answers 410 (Gone).
    short_url_days: int = 90

    def __post_init__(self) -> None:
        for number, sender in self.sender_ids.items():
            if not re.fullmatch(r"\+[1-9]\d{6,14}", number):
                raise ValueError(f"sender_ids.{number}: the key must be one of our numbers "
                                 "in E.164 (+815012345678)")
            if not _SENDER_ID.fullmatch(sender):
                raise ValueError(f"sender_ids.{number}: a sender ID has 1 to 11 letters, "
                                 f"digits or spaces with at least one letter, got {sender!r}")
        if self.default_from and not re.fullmatch(r"\+[1-9]\d{6,14}", self.default_from):
            raise ValueError("default_from: an E.164 number (+815012345678) is required")
        if not 1 <= self.max_segments <= 10:
            raise ValueError("max_segments: must be between 1 and 10")
        if not 1 <= self.short_url_days <= 3650:
            raise ValueError("short_url_days: must be between 1 and 3650")
