"""Programmable Messaging in the simulator: SMS sent through the REST API, and SMS the
customers send to the account's numbers.

* ``POST /Accounts/{sid}/Messages.json`` (``To``, ``From`` — one of the account's numbers or
  an alphanumeric sender ID — ``Body``, ``StatusCallback``) answers 201 with the message in
  Twilio's JSON shape, ``status`` ``queued``; then, in simulated time, the status callback gets
  ``sent`` and ``delivered`` (or ``undelivered`` with ``ErrorCode`` 30003 for a number marked
  unreachable), each signed like every webhook.
* ``GET /Messages/{sid}.json`` and ``GET /Messages.json``.
* :meth:`Messaging.receive`: a customer's SMS to one of our numbers is POSTed to that number's
  SMS URL with ``MessageSid``, ``From``, ``To``, ``Body``, ``NumSegments`` …; the TwiML answer
  may reply with ``<Message>``.

Error codes: 21211 invalid ``To``, 21606 ``From`` not a number of the account that can send,
21602 no body, 21617 body over 1600 characters — VERIFIED names in Twilio's errors
dictionary; the exact message texts are UNVERIFIED. Whether Twilio posts a ``queued`` status
callback is UNVERIFIED (we post ``sent`` and the final status only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from voice import sms_segments
from voice.signature import SIGNATURE_HEADER, compute_signature
from voice.simulator import facts
from voice.simulator.calls import new_sid

if TYPE_CHECKING:
    from voice.simulator.engine import Simulator

ERR_INVALID_TO = (21211, 400)
ERR_FROM_CANNOT_SEND = (21606, 400)
ERR_NO_BODY = (21602, 400)
ERR_BODY_TOO_LONG = (21617, 400)
ERR_UNREACHABLE = 30003
#: Seconds from accepted to sent, and from sent to the handset's receipt (simulated).
SEND_DELAY = 1.0
DELIVERY_DELAY = 3.0
MAX_BODY = 1600

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")


class MessagingError(Exception):
    def __init__(self, error: tuple[int, int], message: str) -> None:
        super().__init__(message)
        self.code, self.status = error
        self.message = message


@dataclass
class Message:
    sid: str
    direction: str  # "outbound-api" | "inbound"
    from_: str
    to: str
    body: str
    status: str
    created_at: float
    status_callback: str = ""
    error_code: int | None = None
    updated_at: float = 0.0
    history: list[str] = field(default_factory=list)


def num_segments(body: str) -> int:
    """Segments as carriers count them (voice/sms_segments.py)."""
    return sms_segments.count(body).count


class Messaging:
    """The account's messages; one per :class:`Simulator` (``sim.messaging``)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.messages: dict[str, Message] = {}
        self.sms_urls: dict[str, str] = {}
        self.unreachable: set[str] = set()
        #: (url, params) of every status callback and inbound webhook sent, in order.
        self.sent_webhooks: list[tuple[str, list[tuple[str, str]], int | None]] = []

    def set_sms_url(self, e164: str, url: str) -> None:
        """The number's "A message comes in" webhook (the Console's messaging configuration)."""
        self.sms_urls[e164] = url

    # --- REST --------------------------------------------------------------------------
    def create(self, to: str, from_: str, body: str, status_callback: str = "") -> Message:
        if not _E164.fullmatch(to or ""):
            raise MessagingError(ERR_INVALID_TO, f"The 'To' number {to} is not a valid phone "
                                                 "number.")
        if not (from_ in self.sim.numbers or _SENDER_ID.fullmatch(from_ or "")):
            raise MessagingError(ERR_FROM_CANNOT_SEND, f"The 'From' phone number provided "
                                                       f"({from_}) is not a valid message-"
                                                       "capable Twilio phone number for this "
                                                       "destination/account")
        if not body:
            raise MessagingError(ERR_NO_BODY, "Message body is required.")
        if len(body) > MAX_BODY:
            raise MessagingError(ERR_BODY_TOO_LONG, "The concatenated message body exceeds "
                                                    "the 1600 character limit.")
        now = self.sim.kernel.now()
        message = Message(new_sid("SM"), "outbound-api", from_, to, body, "queued", now,
                          status_callback, updated_at=now, history=["queued"])
        self.messages[message.sid] = message
        self.sim.kernel.post(lambda: self._deliver(message))
        return message

    def _deliver(self, message: Message) -> None:
        def sent() -> None:
            self._status(message, "sent")
            self.sim.kernel.schedule(DELIVERY_DELAY, final)

        def final() -> None:
            if message.to in self.unreachable:
                self._status(message, "undelivered", ERR_UNREACHABLE)
            else:
                self._status(message, "delivered")

        self.sim.kernel.schedule(SEND_DELAY, sent)

    def _status(self, message: Message, status: str, error_code: int | None = None) -> None:
        message.status, message.error_code = status, error_code
        message.updated_at = self.sim.kernel.now()
        message.history.append(status)
        if not message.status_callback:
            return
        params = [("AccountSid", self.sim.account_sid), ("ApiVersion", facts.API_VERSION),
                  ("From", message.from_), ("MessageSid", message.sid),
                  ("MessageStatus", status), ("SmsSid", message.sid), ("SmsStatus", status),
                  ("To", message.to)]
        if error_code is not None:
            params.append(("ErrorCode", str(error_code)))
        self._post(message.status_callback, params)

    # --- inbound -----------------------------------------------------------------------
    def receive(self, from_: str, to: str, body: str) -> Message:
        """A customer's SMS to our number ``to``: POST it to the number's SMS URL now."""
        url = self.sms_urls.get(to)
        if url is None:
            raise ValueError(f"{to} has no SMS URL (Messaging.set_sms_url)")
        now = self.sim.kernel.now()
        message = Message(new_sid("SM"), "inbound", from_, to, body, "received", now,
                          updated_at=now, history=["received"])
        self.messages[message.sid] = message
        params = [("AccountSid", self.sim.account_sid), ("ApiVersion", facts.API_VERSION),
                  ("Body", body), ("From", from_), ("FromCountry", _country(from_)),
                  ("MessageSid", message.sid), ("NumMedia", "0"),
                  ("NumSegments", str(num_segments(body))), ("SmsMessageSid", message.sid),
                  ("SmsSid", message.sid), ("SmsStatus", "received"), ("To", to),
                  ("ToCountry", _country(to))]
        response = self._post(url, params)
        for reply in re.findall(r"<Message[^>]*>(.*?)</Message>", response or "", re.S):
            self.create(from_, to, _unescape(reply))
        return message

    def _post(self, url: str, params: list[tuple[str, str]]) -> str | None:
        headers = {SIGNATURE_HEADER: compute_signature(url, params, self.sim.signing_key()),
                   "User-Agent": facts.USER_AGENT, "Content-Type": facts.FORM_CONTENT_TYPE,
                   "I-Twilio-Idempotency-Token": self.sim.new_idempotency_token()}
        response = self.sim.transport.request("POST", url, params, headers)
        self.sent_webhooks.append((url, params, response.status))
        return response.body if response.status is not None else None

    # --- JSON ----------------------------------------------------------------------------
    def to_json(self, message: Message) -> dict[str, Any]:
        uri = f"/{facts.API_VERSION}/Accounts/{self.sim.account_sid}/Messages/{message.sid}.json"
        return {
            "account_sid": self.sim.account_sid, "api_version": facts.API_VERSION,
            "body": message.body, "date_created": self._date(message.created_at),
            "date_sent": self._date(message.updated_at) if message.status != "queued" else None,
            "date_updated": self._date(message.updated_at), "direction": message.direction,
            "error_code": message.error_code, "error_message": None, "from": message.from_,
            "messaging_service_sid": None, "num_media": "0",
            "num_segments": str(num_segments(message.body)), "price": None,
            "price_unit": "USD", "sid": message.sid, "status": message.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": message.to, "uri": uri,
        }

    def _date(self, seconds: float) -> str:
        return self.sim.wall_time(seconds).strftime(facts.TIMESTAMP_FORMAT)


def _country(number: str) -> str:
    return "JP" if number.startswith("+81") else ""


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))
