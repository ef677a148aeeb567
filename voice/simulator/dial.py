"""``<Dial>``: ring numbers and browser clients, bridge, report to the ``action`` URL.

Relied on (twilio.com/docs/voice/twiml/dial, /number, /client): up to 10 nouns ring at once
and the first to answer wins; ``action`` is requested when the dialed leg ends, with
``DialCallStatus``, ``DialCallSid`` and ``DialCallDuration``; without ``action`` the document
continues; each noun's ``statusCallback`` receives the child leg's events (``initiated ringing
answered completed``, default ``completed``) with ``ParentCallSid``; ``<Client>`` carries
``<Parameter>``\\ s to the answering browser; a noun's ``url`` runs on the answering party
before the bridge (a whisper), the caller hearing ringing until it ends. ``<Queue>`` and
``<Conference>`` are delegated to :mod:`voice.simulator.queues` and
:mod:`voice.simulator.conference`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voice.simulator import facts
from voice.simulator.calls import CallbackConfig, Fetch, Leg, PartyHangup
from voice.simulator.executor import Stop
from voice.simulator.kernel import Event, ProcessGen
from voice.simulator.transcript import Bridged, Dialed
from voice.simulator.twiml import Verb, client_identity, client_parameters
from voice.simulator.webhooks import resolve

if TYPE_CHECKING:
    from voice.simulator.engine import Simulator


@dataclass
class DialResult:
    """How a ``<Dial>`` ended, as reported to its ``action``."""

    status: str
    child_sid: str = ""
    duration: int | None = None
    recording: tuple[tuple[str, str], ...] = ()
    caller_hung_up: bool = False
    extra: tuple[tuple[str, str], ...] = ()

    def params(self) -> list[tuple[str, str]]:
        pairs = [("DialCallStatus", self.status)]
        if self.child_sid:
            pairs.append(("DialCallSid", self.child_sid))
        if self.duration is not None:
            pairs.append(("DialCallDuration", str(self.duration)))
        return pairs + list(self.recording) + list(self.extra)


class Dialer:
    """Runs ``<Dial>`` for the executor."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.kernel = sim.kernel

    def dial(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        if not verb.bool_attr("answerOnBridge", False):
            leg.answer()
        nouns = verb.children or [Verb("Number", text=verb.text)]
        first = nouns[0].name
        if first == "Queue":
            result = yield from self.sim.queues.dial_queue(leg, verb, nouns[0], url)
        elif first == "Conference":
            result = yield from self.sim.conferences.join(leg, verb, nouns[0], url)
        elif first in ("Sip", "Application"):
            return (yield from self.sim.executor.not_emulated(leg, f"<Dial><{first}>", url))
        else:
            result = yield from self.dial_parties(leg, verb, nouns, url)
        return self.after(leg, verb, url, result)

    def after(self, leg: Leg, verb: Verb, url: str, result: DialResult) -> Fetch | Stop | None:
        action = verb.attr("action")
        fetch = Fetch(resolve(url, action), verb.method(), tuple(result.params())) if action \
            else None
        if result.caller_hung_up:
            self.sim.executor.hang_up(leg, "caller-hangup")
            if fetch and facts.DIAL_ACTION_AFTER_CALLER_HANGUP:
                self.sim.webhooks.notify(leg, "action", fetch.url, fetch.method,
                                         leg.params() + list(fetch.params))
            raise PartyHangup()
        return fetch

    # --- ringing -----------------------------------------------------------------------
    def dial_parties(self, leg: Leg, verb: Verb, nouns: list[Verb], url: str) -> ProcessGen:
        caller_id = verb.attr("callerId") or leg.from_
        leg.transcript.add(Dialed(self.kernel.now(), leg.sid, tuple(
            "client:" + client_identity(n) if n.name == "Client" else n.text for n in nouns)))
        children = [self.start_child(leg, noun, caller_id, url) for noun in nouns]
        deadline = self.kernel.timeout(verb.int_attr("timeout", facts.DIAL_DEFAULT_TIMEOUT))
        ring_started = self.kernel.now()
        winner: Leg | None = None
        try:
            winner = yield from self._wait_for_answer(children, deadline)
        except PartyHangup:
            self._end_ringing(children, None, "canceled", "caller-hangup")
            return DialResult(facts.DIAL_STATUS_CALLER_GAVE_UP, caller_hung_up=True)
        except BaseException:
            self._end_ringing(children, None, "canceled", "dial-interrupted")
            raise
        finally:
            deadline.cancel()
        if winner is None:
            self._end_ringing(children, None, "no-answer", "timeout")
            return DialResult(_unanswered_status(children))
        self._end_ringing(children, winner, facts.LOSING_LEG_STATUS, "answered-elsewhere")
        noun = nouns[children.index(winner)]
        if noun.attr("url"):
            try:
                connected = yield from self._called_party_url(winner, noun, url)
            except PartyHangup:
                if winner.alive:
                    winner.end("completed", "caller-hangup")
                return DialResult(facts.DIAL_STATUS_CALLER_GAVE_UP, caller_hung_up=True)
            if not connected:
                return DialResult(facts.DIAL_STATUS_URL_NOT_CONNECTED, winner.sid)
        leg.answer()
        if winner.detached.triggered:
            # Redirected (REST) between answering and this bridge, e.g. by the application
            # reacting to its "answered" callback: on Twilio the bridge forms at once and the
            # redirect then ends it; the caller's <Dial> completes either way.
            return DialResult("completed", winner.sid, 0)
        return (yield from self.bridge(leg, winner, verb, url, ring_started))

    def _called_party_url(self, child: Leg, noun: Verb, url: str) -> ProcessGen:
        """The noun's ``url``: TwiML the answering party hears before the bridge (a whisper;
        the caller still hears ringing). False when it ended the called leg instead."""
        fetch = Fetch(resolve(url, noun.attr("url")), noun.method(), purpose="dial-url")
        got = yield from self.sim.webhooks.fetch(child, fetch)
        if got is None:
            outcome: object = Stop("completed", "error")
        else:
            outcome = yield from self.sim.executor.run_verbs(child, got[0].children, got[1],
                                                             allowed=facts.DIAL_URL_VERBS)
        if isinstance(outcome, Stop) or not child.alive:
            if child.alive:
                child.end("completed", outcome.reason if isinstance(outcome, Stop) else "")
            return False
        return True

    def start_child(self, leg: Leg, noun: Verb, caller_id: str, url: str) -> Leg:
        """Create a dialed leg and make its endpoint ring after ``RING_DELAY``."""
        if noun.name == "Client":
            target, parameters = "client:" + client_identity(noun), client_parameters(noun)
        else:
            target, parameters = "".join(noun.text.split()), {}
        callback = None
        if noun.attr("statusCallback"):
            events = noun.attr("statusCallbackEvent") or " ".join(
                facts.DEFAULT_NOUN_CALLBACK_EVENTS)
            callback = CallbackConfig(resolve(url, noun.attr("statusCallback")),
                                      noun.method("statusCallbackMethod"),
                                      frozenset(events.split()))
        child = self.sim.new_leg(caller_id, target, facts.DIRECTION_OUTBOUND_DIAL,
                                 leg.transcript, parent=leg, callback=callback)
        child.handle.parameters = parameters
        child.initiate()
        self.kernel.schedule(facts.RING_DELAY, lambda: self.sim.ring_endpoint(child))
        return child

    def _wait_for_answer(self, children: list[Leg], deadline: Event) -> ProcessGen:
        while not deadline.triggered:
            ringing = [c for c in children if c.alive]
            answered = [c for c in ringing if c.answered_at is not None]
            if answered:
                return answered[0]
            if not ringing:
                return None
            yield self.kernel.any_of(deadline, *(c.answered for c in ringing),
                                     *(c.ended for c in ringing))
        return None

    def _end_ringing(self, children: list[Leg], winner: Leg | None, status: str,
                     reason: str) -> None:
        for child in children:
            if child is not winner and child.alive and child.answered_at is None:
                child.end(status, reason)

    # --- bridge ------------------------------------------------------------------------
    def bridge(self, leg: Leg, child: Leg, verb: Verb, url: str, ring_started: float,
               end_child: bool = True) -> ProcessGen:
        """Connect ``leg`` and ``child`` until one leaves; return the Dial's result.

        ``end_child=False`` leaves the other leg running afterwards (a dequeued caller goes
        on to its Enqueue ``action``).
        """
        started = self.kernel.now()
        child.detached = self.kernel.event()
        leg.peer, child.peer = child, leg
        leg.transcript.add(Bridged(started, leg.sid, child.to))
        limit = self.kernel.timeout(verb.int_attr("timeLimit", facts.DIAL_DEFAULT_TIME_LIMIT))
        waits: list[Event] = [child.ended, child.detached, limit]
        star_after = getattr(leg.party, "star_after", None)
        if verb.bool_attr("hangupOnStar", False) and star_after is not None:
            waits.append(self.kernel.timeout(star_after))
        hung_up = closed = False
        try:
            yield self.kernel.any_of(*waits)
        except PartyHangup:
            hung_up = True
        except GeneratorExit:
            # Only a simulation being thrown away closes a running process (the kernel closes
            # unstarted ones only): ending the leg now would call the app's webhooks after
            # its Redis and database are gone.
            closed = True
            raise
        finally:
            for wait in waits:
                wait.cancel()
            leg.peer = child.peer = None
            duration = math.ceil(self.kernel.now() - started - 1e-9)
            if not closed:
                if end_child and child.alive and not child.detached.triggered:
                    child.end("completed", "caller-hangup" if hung_up else "bridge-ended")
                leg.transcript.add(Bridged(self.kernel.now(), leg.sid, child.to, True,
                                           duration))
        recording = self._recording(leg, verb, url, started, ring_started)
        return DialResult("completed", child.sid, duration, recording, hung_up)

    def _recording(self, leg: Leg, verb: Verb, url: str, answered: float,
                   ring_started: float) -> tuple[tuple[str, str], ...]:
        mode = verb.attr("record", "do-not-record")
        if mode in ("do-not-record", "false"):
            return ()
        start = ring_started if "ringing" in mode else answered
        seconds = round(self.kernel.now() - start)
        channels = 2 if mode.endswith("dual") else 1
        recording = self.sim.add_recording(leg, seconds, channels, "DialVerb")
        self.sim.send_recording_callback(leg, verb, url, recording)
        return (("RecordingUrl", self.sim.recording_url(recording.sid)),
                ("RecordingSid", recording.sid), ("RecordingDuration", str(seconds)))


def _unanswered_status(children: list[Leg]) -> str:
    """DialCallStatus when nobody answered: busy only if every leg was busy."""
    statuses = {c.status for c in children}
    if statuses <= {"busy"}:
        return "busy"
    if statuses <= {"failed"}:
        return "failed"
    return "no-answer"
