"""Call legs: the simulator's equivalent of Twilio's Call resources.

A :class:`Leg` holds a call's identity (SID, From/To, direction, parent), its status and
timestamps, its status-callback subscription, and the events a process waits for
(``answered``, ``ended``, ``detached``). Status changes are recorded in the transcript and
sent to the status callback in Twilio's order: initiated → ringing → answered → completed.
:class:`LegHandle` is the :class:`~voice.simulator.parties.RingingCall` an endpoint gets.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import phonenumbers

from voice.simulator import facts
from voice.simulator.kernel import Process
from voice.simulator.parties import CallerScript, Endpoint, Party
from voice.simulator.transcript import Answered, Ended, LegStatus, Transcript

if TYPE_CHECKING:
    from voice.simulator.engine import Simulator

TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True)
class CallbackConfig:
    """Where a leg's status changes are sent, and which ones."""

    url: str
    method: str = "POST"
    events: frozenset[str] = frozenset(facts.DEFAULT_NOUN_CALLBACK_EVENTS)


@dataclass(frozen=True)
class Fetch:
    """A TwiML document to get next: a URL (and method) or inline TwiML (REST ``Twiml``)."""

    url: str
    method: str = "POST"
    params: tuple[tuple[str, str], ...] = ()
    twiml: str | None = None
    purpose: str = "twiml"


@dataclass
class Leg:
    """One call leg."""

    sim: Simulator
    sid: str
    from_: str
    to: str
    direction: str
    transcript: Transcript
    parent: Leg | None = None
    party: Party = field(default_factory=CallerScript)
    callback: CallbackConfig | None = None
    fallback: Fetch | None = None
    extra_params: dict[str, str] = field(default_factory=dict)
    status: str = "queued"
    created_at: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    end_reason: str = ""
    answered_by: str = ""
    queue_name: str | None = None
    process: Process | None = None
    peer: Leg | None = None
    endpoint: Endpoint | None = None
    on_answer: Fetch | None = None  # an API call's TwiML, run once the callee answers

    def __post_init__(self) -> None:
        kernel = self.sim.kernel
        self.created_at = kernel.now()
        self.answered = kernel.event()
        self.ended = kernel.event()
        self.detached = kernel.event()
        self.handle = LegHandle(self)
        self._sequence = 0
        self._end_listeners: list[Callable[[str], None]] = []

    # --- state -------------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.status not in TERMINAL

    @property
    def duration(self) -> int:
        """Seconds from answer to end (0 if never answered), rounded up like Twilio bills."""
        if self.answered_at is None:
            return 0
        end = self.ended_at if self.ended_at is not None else self.sim.kernel.now()
        return math.ceil(end - self.answered_at - 1e-9)

    def initiate(self) -> None:
        self._set(facts.INITIATED_STATUS, event="initiated")

    def ring(self) -> None:
        self._set("ringing", event="ringing")

    def answer(self, by: str = "") -> None:
        """Mark the leg answered (idempotent)."""
        if self.answered_at is not None or not self.alive:
            return
        self.answered_at = self.sim.kernel.now()
        self.answered_by = by
        if by:
            self.transcript.add(Answered(self.sim.kernel.now(), self.sid, by))
        self._set("in-progress", event="answered")
        self.answered.succeed(by)

    def end(self, status: str, reason: str) -> None:
        """Finish the leg with a terminal status (idempotent)."""
        if not self.alive:
            return
        self.ended_at = self.sim.kernel.now()
        self.end_reason = reason
        self._set(status, event="completed")
        self.transcript.add(Ended(self.ended_at, self.sid, status, reason, self.duration))
        self.ended.succeed(status)
        for listener in self._end_listeners:
            listener(status)

    def _set(self, status: str, event: str) -> None:
        self.status = status
        self.transcript.add(LegStatus(self.sim.kernel.now(), self.sid, self.to, status))
        if self.callback and event in self.callback.events:
            self._send_status_callback(event)

    # --- parameters --------------------------------------------------------------------
    def params(self) -> list[tuple[str, str]]:
        """Twilio's standard voice request parameters for this leg, now."""
        pairs = [
            ("AccountSid", self.sim.account_sid), ("ApiVersion", facts.API_VERSION),
            ("CallSid", self.sid), ("CallStatus", self.status), ("Called", self.to),
            ("Caller", self.from_), ("Direction", self.direction), ("From", self.from_),
            ("To", self.to),
        ]
        if self.parent is not None:
            pairs.append(("ParentCallSid", self.parent.sid))
        pairs += _country_params("From", self.from_) + _country_params("To", self.to)
        pairs += _country_params("Caller", self.from_) + _country_params("Called", self.to)
        named = {name for name, _ in pairs}
        pairs += [(k, v) for k, v in self.extra_params.items() if k not in named]
        return pairs

    def _send_status_callback(self, event: str) -> None:
        assert self.callback is not None
        now = self.sim.kernel.now()
        stamp = self.sim.wall_time(now).strftime(facts.TIMESTAMP_FORMAT)
        pairs = [p for p in self.params() if p[0] != "CallStatus"]
        pairs += [("CallStatus", self.status), ("CallbackSource", facts.CALLBACK_SOURCE),
                  ("SequenceNumber", str(self._sequence)), ("Timestamp", stamp)]
        if event == "completed":
            pairs.append(("CallDuration", str(self.duration)))
        self._sequence += 1
        self.sim.webhooks.notify(self, "status-callback", self.callback.url,
                                 self.callback.method, pairs)

    def on_end(self, callback: Callable[[str], None]) -> None:
        self._end_listeners.append(callback)


class LegHandle:
    """The endpoint's view of a ringing leg; every action is posted to the engine loop."""

    def __init__(self, leg: Leg) -> None:
        self._leg = leg
        self.call_sid = leg.sid
        self.parent_call_sid = leg.parent.sid if leg.parent else None
        self.from_ = leg.from_
        self.to = leg.to
        self.parameters: dict[str, str] = {}

    def answer(self, script: Party | None = None) -> None:
        self._leg.sim.kernel.post(lambda: self._leg.sim.endpoint_answered(self._leg, script))

    def decline(self) -> None:
        self._post_end(facts.DECLINED_LEG_STATUS, "declined")

    def busy(self) -> None:
        self._post_end("busy", "busy")

    def hangup(self) -> None:
        self._leg.sim.kernel.post(lambda: self._leg.sim.party_hangup(self._leg))

    def later(self, delay: float, action: Callable[[], None]) -> None:
        kernel = self._leg.sim.kernel
        kernel.post(lambda: kernel.schedule(delay, action))

    def on_end(self, callback: Callable[[str], None]) -> None:
        self._leg.on_end(callback)

    def _post_end(self, status: str, reason: str) -> None:
        def act() -> None:
            if self._leg.answered_at is None:
                self._leg.end(status, reason)
        self._leg.sim.kernel.post(act)


def _country_params(prefix: str, address: str) -> list[tuple[str, str]]:
    """``FromCountry`` & co. for E.164 numbers (Twilio sends them for PSTN parties)."""
    if not address.startswith("+"):
        return []
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(address))
    except phonenumbers.NumberParseException:
        return []
    return [(f"{prefix}Country", region)] if region else []



class Interrupt(Exception):  # noqa: N818 - these are signals, not errors
    """Raised inside a leg's process to stop what it is doing."""


class PartyHangup(Interrupt):
    """The party on this leg hung up."""


class RestHangup(Interrupt):
    """The REST API set the call's status to completed (or canceled)."""

    def __init__(self, status: str = "completed") -> None:
        super().__init__(status)
        self.status = status


class RestRedirect(Interrupt):
    """The REST API gave the call new TwiML (``Url`` or ``Twiml``)."""

    def __init__(self, fetch: Fetch) -> None:
        super().__init__(fetch.url)
        self.fetch = fetch
