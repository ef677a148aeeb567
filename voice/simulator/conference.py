"""Basic ``<Dial><Conference>``: join, wait music while alone, start and end rules.

Relied on (twilio.com/docs/voice/twiml/conference, /docs/voice/api/conference-participant):
a participant hears the ``waitUrl`` document (default hold music) until the conference starts;
it starts when a participant with ``startConferenceOnEnter="true"`` (the default) is there with
someone else; when a participant with ``endConferenceOnExit="true"`` leaves, everyone leaves and
their ``<Dial>`` continues.

Who hears whom (:meth:`Conference.hears`): once started, every participant hears every other
one, except that nobody hears a ``muted`` participant, and a *coach* (``coach`` in TwiML,
``Coaching``/``CallSidToCoach`` in REST) is heard only by the participant it coaches — while it
hears everyone. ``beep`` (default ``true``) plays a tone to the others on entry and exit
(``onEnter`` / ``onExit`` only one of them). Participants' ``muted`` and coaching change through
the REST Participant resource (:mod:`voice.simulator.rest_conferences`).

``record="record-from-start"`` on a participant's ``<Conference>`` records the conference from
its start to its end (one channel, ``RecordingSource=Conference``); that noun's
``recordingStatusCallback`` then gets the recording with ``ConferenceSid`` and no ``CallSid``
(which call Twilio would name is not documented; the application should not need one).
Not emulated: hold, announcements, conference status callbacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voice.simulator import facts
from voice.simulator.calls import Fetch, Interrupt, Leg, PartyHangup, new_sid
from voice.simulator.dial import DialResult
from voice.simulator.kernel import Event, ProcessGen
from voice.simulator.transcript import ConferenceEvent, Dialed, Heard
from voice.simulator.twiml import Verb
from voice.simulator.webhooks import resolve

if TYPE_CHECKING:
    from voice.simulator.engine import Simulator


class ConferenceStarted(Interrupt):
    """Stops a participant's wait music: the conference has started."""


@dataclass
class Participant:
    leg: Leg
    start_on_enter: bool
    end_on_exit: bool
    muted: bool = False
    coach: str = ""  # the CallSid of the participant this one coaches ("" = not coaching)
    label: str = ""
    beep: str = "true"
    joined_at: float = 0.0


@dataclass
class Conference:
    sid: str
    name: str
    ended: Event
    participants: list[Participant] = field(default_factory=list)
    started: bool = False
    started_at: float = 0.0
    recording: tuple[Verb, str, Leg] | None = None  # who asked to record, from which document

    def note(self, action: str, now: float) -> None:
        for p in self.participants:
            p.leg.transcript.add(ConferenceEvent(now, p.leg.sid, self.name, action))

    def participant(self, call_sid: str) -> Participant | None:
        return next((p for p in self.participants if p.leg.sid == call_sid), None)

    def hears(self, listener_sid: str, speaker_sid: str) -> bool:
        """Whether ``listener_sid`` hears ``speaker_sid`` now (Twilio's mute and coach rules)."""
        listener, speaker = self.participant(listener_sid), self.participant(speaker_sid)
        if listener is None or speaker is None or listener is speaker or not self.started:
            return False
        if speaker.muted:
            return False
        return not speaker.coach or speaker.coach == listener_sid

    def listeners(self, speaker_sid: str) -> list[Leg]:
        """The legs that hear ``speaker_sid``, in joining order."""
        return [p.leg for p in self.participants if self.hears(p.leg.sid, speaker_sid)]

    def beep(self, me: Participant, when: str, now: float) -> None:
        """The entry or exit tone, heard by everyone else (``beep`` true, onEnter, onExit)."""
        if me.beep not in ("true", when):
            return
        for p in self.participants:
            if p is not me:
                p.leg.transcript.add(Heard(now, p.leg.sid, "tone", "beep"))


class Conferences:
    """The account's conferences, by name (a finished conference's name can be reused)."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.kernel = sim.kernel
        self.by_name: dict[str, Conference] = {}

    def find(self, name_or_sid: str) -> Conference | None:
        """A conference by SID or friendly name (the REST API accepts either)."""
        if name_or_sid in self.by_name:
            return self.by_name[name_or_sid]
        return next((c for c in self.by_name.values() if c.sid == name_or_sid), None)

    def of_leg(self, call_sid: str) -> Conference | None:
        """The live conference ``call_sid`` is a participant of, if any."""
        return next((c for c in self.by_name.values()
                     if not c.ended.triggered and c.participant(call_sid)), None)

    def join(self, leg: Leg, verb: Verb, noun: Verb, url: str) -> ProcessGen:
        leg.answer()
        conf = self.by_name.get(noun.text)
        if conf is None or conf.ended.triggered:
            conf = self.by_name[noun.text] = Conference(new_sid("CF"), noun.text,
                                                        self.kernel.event())
        me = Participant(leg, noun.bool_attr("startConferenceOnEnter", True),
                         noun.bool_attr("endConferenceOnExit", False),
                         muted=noun.bool_attr("muted", False), coach=noun.attr("coach"),
                         label=noun.attr("participantLabel"), beep=noun.attr("beep", "true"),
                         joined_at=self.kernel.now())
        leg.transcript.add(Dialed(self.kernel.now(), leg.sid, (f"conference:{conf.name}",)))
        conf.participants.append(me)
        if noun.attr("record") == "record-from-start" and conf.recording is None:
            conf.recording = (noun, url, leg)
        conf.note(f"{leg.from_} joined", self.kernel.now())
        conf.beep(me, "onEnter", self.kernel.now())
        joined = self.kernel.now()
        hung_up = False
        try:
            self._maybe_start(conf)
            if not conf.started:
                try:
                    yield from self._wait_music(leg, noun, url)
                except ConferenceStarted:
                    pass
            yield from self._talk(leg, verb, conf)
        except PartyHangup:
            hung_up = True
        finally:
            self._leave(conf, me)
        duration = math.ceil(self.kernel.now() - joined - 1e-9)
        return DialResult("completed", duration=duration, caller_hung_up=hung_up,
                          extra=(("ConferenceSid", conf.sid),))

    def _maybe_start(self, conf: Conference) -> None:
        enough = len(conf.participants) >= facts.CONFERENCE_MIN_PARTICIPANTS
        if conf.started or not enough or not any(p.start_on_enter for p in conf.participants):
            return
        conf.started = True
        conf.started_at = self.kernel.now()
        conf.note("started", self.kernel.now())
        for p in conf.participants:
            if p.leg.process is not None and p.leg.process is not self._current(conf):
                p.leg.process.interrupt(ConferenceStarted())

    def _current(self, conf: Conference) -> object:
        return conf.participants[-1].leg.process

    def _wait_music(self, leg: Leg, noun: Verb, url: str) -> ProcessGen:
        if not noun.attr("waitUrl"):
            leg.transcript.add(Heard(self.kernel.now(), leg.sid, "music",
                                     facts.DEFAULT_HOLD_MUSIC))
            yield self.kernel.event()
        wait = Fetch(resolve(url, noun.attr("waitUrl")), noun.method("waitMethod"),
                     purpose="wait-url")
        while True:
            got = yield from self.sim.webhooks.fetch(leg, wait)
            if got is not None:
                yield from self.sim.executor.run_verbs(leg, got[0].children, got[1],
                                                       allowed=facts.CONFERENCE_WAIT_VERBS)
            yield self.kernel.timeout(1.0)  # Twilio loops the wait document; never spin

    def _talk(self, leg: Leg, verb: Verb, conf: Conference) -> ProcessGen:
        waits: list[Event] = [conf.ended, self.kernel.timeout(
            verb.int_attr("timeLimit", facts.DIAL_DEFAULT_TIME_LIMIT))]
        star_after = getattr(leg.party, "star_after", None)
        if verb.bool_attr("hangupOnStar", False) and star_after is not None:
            waits.append(self.kernel.timeout(star_after))
        try:
            yield self.kernel.any_of(*waits)
        finally:
            for wait in waits[1:]:
                wait.cancel()

    def _leave(self, conf: Conference, me: Participant) -> None:
        if me in conf.participants:
            conf.note(f"{me.leg.from_} left", self.kernel.now())
            conf.participants.remove(me)
            conf.beep(me, "onExit", self.kernel.now())
        if conf.started and (me.end_on_exit or not conf.participants):
            if not conf.ended.triggered:
                conf.note("ended", self.kernel.now())
                conf.ended.succeed()
                self._record(conf)

    def _record(self, conf: Conference) -> None:
        """The finished conference's recording and its callback, if a participant asked."""
        if conf.recording is None:
            return
        noun, url, leg = conf.recording
        seconds = round(self.kernel.now() - conf.started_at)
        recording = self.sim.add_recording(leg, seconds, 1, "Conference")
        callback = noun.attr("recordingStatusCallback")
        if not callback:
            return
        self.sim.webhooks.notify(
            leg, "recording-callback", resolve(url, callback),
            noun.method("recordingStatusCallbackMethod"),
            [("AccountSid", self.sim.account_sid), ("ConferenceSid", conf.sid),
             ("RecordingSid", recording.sid),
             ("RecordingUrl", self.sim.recording_url(recording.sid)),
             ("RecordingStatus", "completed"), ("RecordingDuration", str(seconds)),
             ("RecordingChannels", "1"), ("RecordingSource", "Conference")])
