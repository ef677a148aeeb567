"""Runs TwiML on a leg: the document loop and the simple verbs.

A leg's *program* fetches a document, runs its verbs in order and follows ``action`` and
``<Redirect>`` URLs until a verb ends the call or the document runs out (Twilio hangs up).
``<Dial>`` lives in :mod:`voice.simulator.dial`, ``<Enqueue>`` in :mod:`voice.simulator.queues`.

Behaviour relied on (twilio.com/docs/voice/twiml/*): a verb's relative URLs resolve against
the current document's URL; ``<Gather>`` and ``<Record>`` post to the current document when they
have no ``action``; without input ``<Gather>`` falls through to the next verb unless
``actionOnEmptyResult``; ``<Pause>`` as the first verb delays answering; ``<Reject>`` before
answering leaves the call unanswered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voice.simulator import facts
from voice.simulator.calls import Fetch, Leg, PartyHangup, RestHangup, RestRedirect
from voice.simulator.kernel import ProcessGen
from voice.simulator.media import digits_seconds, play_seconds, say_seconds
from voice.simulator.parties import GatherPrompt, Press, Speech
from voice.simulator.transcript import ErrorEvent, Heard, Pressed, Redirected, Spoke
from voice.simulator.twiml import NOT_EMULATED, Verb
from voice.simulator.webhooks import resolve

if TYPE_CHECKING:
    from voice.simulator.engine import Simulator

FOREVER = 10_000  # loop="0" plays "until the call ends"; the kernel's time limit stops it


@dataclass(frozen=True)
class Stop:
    """End the call with this status."""

    status: str
    reason: str


class Leave:
    """``<Leave/>`` was run (meaningful inside a queue's wait document)."""


LEAVE = Leave()
Outcome = Fetch | Stop | Leave | None


class Executor:
    """Runs documents on legs."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.kernel = sim.kernel
        self._gathers: dict[str, int] = {}

    def start(self, leg: Leg, fetch: Fetch) -> None:
        """Start (or restart) the leg's program with ``fetch``."""
        leg.process = self.kernel.process(self.program(leg, fetch), name=leg.sid)

    def program(self, leg: Leg, fetch: Fetch) -> ProcessGen:
        pending: Fetch | None = fetch
        while pending is not None:
            try:
                outcome = yield from self.run_fetch(leg, pending)
            except RestRedirect as redirect:
                self._note_redirect(leg, redirect.fetch, "rest-api")
                pending = redirect.fetch
                continue
            except PartyHangup:
                self.hang_up(leg, "caller-hangup")
                return
            except RestHangup as rest:
                leg.end(rest.status if leg.answered_at is None else "completed", "rest-api")
                return
            if isinstance(outcome, Fetch):
                pending = outcome
                continue
            stop = outcome if isinstance(outcome, Stop) else Stop("completed", "end-of-document")
            leg.end(stop.status, stop.reason)
            return

    def hang_up(self, leg: Leg, reason: str) -> None:
        status = "completed" if leg.answered_at is not None else facts.UNANSWERED_HANGUP_STATUS
        leg.end(status, reason)

    def run_fetch(self, leg: Leg, fetch: Fetch) -> ProcessGen:
        got = yield from self.sim.webhooks.fetch(leg, fetch)
        if got is None:
            return (yield from self.fail(leg))
        document, url = got
        return (yield from self.run_verbs(leg, document.children, url))

    def run_verbs(self, leg: Leg, verbs: Iterable[Verb], url: str,
                  allowed: frozenset[str] | None = None) -> ProcessGen:
        """Run verbs in order; return the first outcome that leaves the document."""
        for verb in verbs:
            if verb.name in NOT_EMULATED:
                return (yield from self.not_emulated(leg, f"<{verb.name}>", url))
            if allowed is not None and verb.name not in allowed:
                leg.transcript.add(ErrorEvent(self.kernel.now(), leg.sid, facts.ERR_SCHEMA,
                                              f"<{verb.name}> is not allowed here", url))
                return (yield from self.fail(leg))
            outcome = yield from self.run_verb(leg, verb, url)
            if outcome is not None:
                return outcome
        return None

    def run_verb(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        if verb.name == "Dial":
            return (yield from self.sim.dialer.dial(leg, verb, url))
        if verb.name == "Enqueue":
            return (yield from self.sim.queues.enqueue(leg, verb, url))
        handler = getattr(self, f"_verb_{verb.name.lower()}")
        return (yield from handler(leg, verb, url))

    def not_emulated(self, leg: Leg, what: str, url: str) -> ProcessGen:
        """Valid TwiML the simulator cannot play: say so in the transcript and end the call."""
        leg.transcript.add(ErrorEvent(self.kernel.now(), leg.sid, None,
                                      f"{what} is not emulated by the simulator", url))
        return (yield from self.fail(leg, say_message=False))

    def fail(self, leg: Leg, say_message: bool = True) -> ProcessGen:
        """Twilio's behaviour when no TwiML can run: a recorded apology, then hang up."""
        if say_message:
            leg.answer()
            yield from self.hear(leg, "say", facts.GENERIC_ERROR_MESSAGE,
                                 say_seconds(facts.GENERIC_ERROR_MESSAGE))
        return Stop("completed", "error")

    # --- media -------------------------------------------------------------------------
    def hear(self, leg: Leg, kind: str, content: str, seconds: float,
             voice: str = "", language: str = "") -> ProcessGen:
        leg.transcript.add(Heard(self.kernel.now(), leg.sid, kind, content, voice, language))
        yield self.kernel.timeout(seconds)

    def media_items(self, verb: Verb) -> list[tuple[Heard, float]]:
        """What a Say/Play/Pause makes the party hear, with durations (t and sid unset)."""
        if verb.name == "Pause":
            return [(Heard(0, "", "pause", ""), float(verb.int_attr("length",
                                                                     facts.PAUSE_DEFAULT_LENGTH)))]
        loops = verb.int_attr("loop", 1) or FOREVER
        if verb.name == "Say":
            language = verb.attr("language", facts.SAY_DEFAULT_LANGUAGE)
            item = Heard(0, "", "say", verb.text, verb.attr("voice", facts.SAY_DEFAULT_VOICE),
                         language)
            return [(item, say_seconds(verb.text, language))] * loops
        if "digits" in verb.attrs:
            return [(Heard(0, "", "tones", verb.attrs["digits"]),
                     digits_seconds(verb.attrs["digits"]))]
        seconds = play_seconds(verb.text, self.sim.play_durations)
        return [(Heard(0, "", "play", verb.text), seconds)] * loops

    def play_media(self, leg: Leg, verbs: Iterable[Verb],
                   stop_at: float | None = None) -> ProcessGen:
        """Play Say/Play/Pause verbs; stop early at ``stop_at`` (barge-in). Returns True if cut."""
        for verb in verbs:
            for item, seconds in self.media_items(verb):
                now = self.kernel.now()
                cut = stop_at is not None and stop_at < now + seconds
                if item.kind != "pause":
                    leg.transcript.add(Heard(now, leg.sid, item.kind, item.content, item.voice,
                                             item.language, interrupted=cut))
                if cut:
                    yield self.kernel.timeout(max(0.0, stop_at - now))
                    return True
                yield self.kernel.timeout(seconds)
        return False

    def _verb_say(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        leg.answer()
        yield from self.play_media(leg, [verb])

    def _verb_play(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        leg.answer()
        yield from self.play_media(leg, [verb])

    def _verb_pause(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        yield from self.play_media(leg, [verb])

    # --- control -----------------------------------------------------------------------
    def _verb_redirect(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        fetch = Fetch(resolve(url, verb.text), verb.method())
        self._note_redirect(leg, fetch, "twiml")
        return fetch
        yield  # a generator like every verb

    def _verb_hangup(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        leg.answer()
        return Stop("completed", "hangup-verb")
        yield

    def _verb_reject(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        if leg.answered_at is not None:
            return Stop("completed", "hangup-verb")
        reason = verb.attr("reason", "rejected")
        return Stop(facts.REJECT_STATUS[reason], f"rejected ({reason})")
        yield

    def _verb_leave(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        return LEAVE
        yield

    def _note_redirect(self, leg: Leg, fetch: Fetch, source: str) -> None:
        target = fetch.url or "(inline TwiML)"
        leg.transcript.add(Redirected(self.kernel.now(), leg.sid, target, source))

    # --- input -------------------------------------------------------------------------
    def _verb_gather(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        leg.answer()
        timeout = verb.int_attr("timeout", facts.GATHER_DEFAULT_TIMEOUT)
        finish_key = verb.attr("finishOnKey", facts.GATHER_DEFAULT_FINISH_ON_KEY)
        num_digits = verb.int_attr("numDigits", 0) or None
        index = self._gathers[leg.sid] = self._gathers.get(leg.sid, -1) + 1
        prompt = GatherPrompt(
            index, tuple(item.content for v in verb.children
                         for item, _ in self.media_items(v)[:1] if item.kind != "pause"),
            frozenset(verb.attr("input", facts.GATHER_DEFAULT_INPUT).split()),
            num_digits, finish_key)
        answer = leg.party.respond(prompt)
        start = self.kernel.now()
        early = answer is not None and isinstance(answer, Press) and answer.during_prompt
        barge_in = verb.bool_attr("bargeIn", True)
        yield from self.play_media(leg, verb.children,
                                   start + answer.delay if early and barge_in else None)
        wait = (start + answer.delay - self.kernel.now()) if early else (
            answer.delay if answer is not None else timeout)
        action = Fetch(resolve(url, verb.attr("action") or url), verb.method())
        if answer is None or wait > timeout:
            yield self.kernel.timeout(timeout)
            return self._empty_gather(verb, action)
        yield self.kernel.timeout(max(0.0, wait))
        if isinstance(answer, Speech):
            leg.transcript.add(Spoke(self.kernel.now(), leg.sid, answer.text))
            yield self.kernel.timeout(say_seconds(answer.text))
            return Fetch(action.url, action.method, (("SpeechResult", answer.text),
                                                     ("Confidence", str(answer.confidence))))
        digits, key, complete = _collect(answer.digits, num_digits, finish_key)
        leg.transcript.add(Pressed(self.kernel.now(), leg.sid, digits + key))
        if not complete:
            yield self.kernel.timeout(timeout)
        if not digits:
            return self._empty_gather(verb, action)
        return Fetch(action.url, action.method, (("Digits", digits), ("FinishedOnKey", key)))

    def _empty_gather(self, verb: Verb, action: Fetch) -> Outcome:
        return action if verb.bool_attr("actionOnEmptyResult", False) else None

    def _verb_record(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        leg.answer()
        if verb.bool_attr("playBeep", True):
            yield from self.hear(leg, "tone", "beep", facts.BEEP_SECONDS)
        behaviour = leg.party.record_input()
        max_length = verb.int_attr("maxLength", facts.RECORD_DEFAULT_MAX_LENGTH)
        keys = verb.attr("finishOnKey", facts.RECORD_DEFAULT_FINISH_ON_KEY)
        action = Fetch(resolve(url, verb.attr("action") or url), verb.method())
        start = self.kernel.now()
        try:
            yield self.kernel.timeout(min(behaviour.seconds, max_length))
        except PartyHangup:
            self._finish_recording(leg, verb, url, action, self.kernel.now() - start, "hangup")
            raise
        duration = self.kernel.now() - start
        if behaviour.end == "hangup" and duration < max_length:
            self._finish_recording(leg, verb, url, action, duration, "hangup")
            raise PartyHangup()
        key = behaviour.end if behaviour.end in keys and duration < max_length else ""
        if key:
            leg.transcript.add(Pressed(self.kernel.now(), leg.sid, key))
        elif duration < max_length:
            yield self.kernel.timeout(verb.int_attr("timeout", facts.RECORD_DEFAULT_TIMEOUT))
        return self._finish_recording(leg, verb, url, action, duration, key)

    def _finish_recording(self, leg: Leg, verb: Verb, url: str, action: Fetch,
                          seconds: float, digits: str) -> Fetch:
        recording = self.sim.add_recording(leg, round(seconds), 1, "RecordVerb")
        params = (("RecordingUrl", self.sim.recording_url(recording.sid)),
                  ("RecordingSid", recording.sid),
                  ("RecordingDuration", str(recording.duration)), ("Digits", digits))
        if digits == "hangup":
            self.hang_up(leg, "caller-hangup")
            self.sim.webhooks.notify(leg, "action", action.url, action.method,
                                     leg.params() + list(params))
        self.sim.send_recording_callback(leg, verb, url, recording)
        return Fetch(action.url, action.method, params)


def _collect(pressed: str, num_digits: int | None, finish_key: str) -> tuple[str, str, bool]:
    """Apply numDigits and finishOnKey to keys pressed: (digits, finishing key, complete)."""
    digits = ""
    for key in pressed:
        if finish_key and key == finish_key:
            return digits, key, True
        digits += key
        if num_digits is not None and len(digits) >= num_digits:
            return digits, "", True
    return digits, "", False
