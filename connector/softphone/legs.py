"""Finding the customer's leg of an agent's call through Twilio's REST API.

The softphone knows its call by the call record's CallSid:

* **incoming**: the customer's call is the parent (``cti_parent_call_sid``); the browser's leg
  is a child dialed by ``<Dial><Client>``;
* **outgoing**: the browser's own call is the parent (From ``client:<identity>``); the customer
  is the child dialed by ``<Dial><Number>``.

Hold and transfer move the *customer's* leg, so that leg is found here — from Twilio's own
view of the calls, which works whatever the call records say.
"""

from __future__ import annotations

from dataclasses import dataclass

from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

LIVE = ("in-progress", "ringing", "queued")


class LegError(Exception):
    """The call cannot be controlled: ``code`` is stable, messages say why in both languages."""

    def __init__(self, status: int, code: str, message_ja: str, message_en: str) -> None:
        super().__init__(message_en)
        self.status = status
        self.code = code
        self.message_ja = message_ja
        self.message_en = message_en


CALL_ENDED = ("call_not_active", "通話はすでに終了しています。", "The call has already ended.")
NOT_YOURS = ("not_your_call", "この通話を操作する権限がありません。",
             "This call belongs to another agent.")


def ended() -> LegError:
    return LegError(409, *CALL_ENDED)


def not_yours() -> LegError:
    return LegError(403, *NOT_YOURS)


def twilio_failure(exc: TwilioRestException) -> LegError:
    if exc.status == 404 or exc.code in (20404, 21220):
        return ended()
    return LegError(502, "twilio_error",
                    "電話サービスとの通信に失敗しました。もう一度お試しください。",
                    f"Twilio refused the request (error {exc.code}).")


@dataclass(frozen=True)
class CustomerLeg:
    sid: str
    our_number: str  # the number of ours on the customer's call (caller ID for transfers)


def caller_of(call: object) -> str:
    """A REST call's ``from`` (twilio-python keeps it as ``_from``: ``from`` is a keyword)."""
    return getattr(call, "_from", None) or ""


def live_children(client: Client, parent_sid: str) -> list[object]:
    """In-progress child legs of ``parent_sid`` (filtered again here: not every API filters)."""
    found = client.calls.list(parent_call_sid=parent_sid, status="in-progress", limit=20)
    return [c for c in found if c.parent_call_sid == parent_sid and c.status == "in-progress"]


def customer_leg(client: Client, call_sid: str, identity: str, *,
                 check_owner: bool = True) -> CustomerLeg:
    """The customer's live leg of the call ``call_sid`` that the agent ``identity`` is on.

    Raises:
        LegError: the call has ended, or (with ``check_owner``) it is not the agent's.
    """
    me = f"client:{identity}"
    try:
        call = client.calls(call_sid).fetch()
        if call.status not in LIVE:
            raise ended()
        children = live_children(client, call_sid)
    except TwilioRestException as exc:
        raise twilio_failure(exc) from None
    if caller_of(call).startswith("client:"):  # outgoing: the customer is the dialed child
        if check_owner and caller_of(call) != me:
            raise not_yours()
        customer = next((c for c in children if not c.to.startswith("client:")), None)
        if customer is None:
            raise ended()
        return CustomerLeg(customer.sid, caller_of(customer))
    if check_owner and not any(c.to == me for c in children):
        raise not_yours()
    return CustomerLeg(call.sid, call.to)


def redirect(client: Client, call_sid: str, twiml: str) -> None:
    """Give a live leg new TwiML (Calls API ``Twiml``)."""
    try:
        client.calls(call_sid).update(twiml=twiml)
    except TwilioRestException as exc:
        raise twilio_failure(exc) from None


def hang_up(client: Client, call_sid: str) -> None:
    try:
        client.calls(call_sid).update(status="completed")
    except TwilioRestException as exc:
        if exc.status != 404 and exc.code not in (20404, 21220):
            raise twilio_failure(exc) from None
