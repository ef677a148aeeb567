"""The simulated Twilio account: numbers, TwiML App, endpoints, calls and the run loop.

Typical test::

    sim = Simulator("AC" + "0" * 32, "token", WSGITransport(app, "https://cti.example.jp"))
    sim.add_number("+815012345678", voice_url="https://cti.example.jp/voice/incoming")
    sim.on_client("agent1", answer_after=3, hangup_after=60)
    t = sim.place_inbound_call("+819012345678", "+815012345678",
                               caller=CallerScript(digits=["1"]))
    sim.run_until_idle()
    assert t.answered_by == "client:agent1"
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from voice.simulator import facts
from voice.simulator.calls import (
    CallbackConfig,
    Fetch,
    Leg,
    PartyHangup,
    RestHangup,
    RestRedirect,
    new_sid,
)
from voice.simulator.conference import Conferences
from voice.simulator.dial import Dialer
from voice.simulator.executor import Executor
from voice.simulator.kernel import Clock, Kernel
from voice.simulator.messaging import Messaging
from voice.simulator.parties import CallerScript, Endpoint, Party, ScriptedEndpoint
from voice.simulator.queues import Queues
from voice.simulator.recordings import Recording, RecordingsAdapter
from voice.simulator.tariff import Tariff
from voice.simulator.transcript import HeardVoice, Recorded, Redirected, Spoke, Transcript
from voice.simulator.transport import Transport
from voice.simulator.twiml import Verb
from voice.simulator.webhooks import Webhooks, resolve


@dataclass(frozen=True)
class NumberConfig:
    """One of the account's phone numbers (an IncomingPhoneNumber's voice settings)."""

    e164: str
    voice: Fetch
    fallback: Fetch | None
    callback: CallbackConfig | None
    sid: str


class Simulator:
    """A discrete-event simulation of one Twilio account's Programmable Voice.

    Args:
        account_sid: The ``AC…`` SID the webhooks carry.
        auth_token: The token that signs the webhooks (never logged, not in ``repr``).
        transport: How requests reach the application (:class:`WSGITransport` or
            :class:`HTTPTransport`).
        clock: :class:`VirtualClock` (default) or :class:`RealTimeClock`.
        start_time: The wall-clock time of simulated second 0 (status-callback timestamps).
        play_durations: Lengths of audio files by URL or file name, for ``<Play>``.
        tariff: What the Call resources' ``price`` says (:mod:`voice.simulator.tariff`, whose
            rates are UNVERIFIED); replace ``sim.tariff`` at any time.
    """

    def __init__(self, account_sid: str, auth_token: str, transport: Transport,
                 clock: Clock | None = None, start_time: datetime | None = None,
                 play_durations: dict[str, float] | None = None,
                 tariff: Tariff | None = None) -> None:
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.transport = transport
        self.kernel = Kernel(clock)
        self.start_time = start_time or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self.play_durations = dict(play_durations or {})
        self.tariff = tariff or Tariff()
        self.webhooks = Webhooks(self)
        self.executor = Executor(self)
        self.dialer = Dialer(self)
        self.queues = Queues(self)
        self.conferences = Conferences(self)
        self.messaging = Messaging(self)
        self.numbers: dict[str, NumberConfig] = {}
        self.application: NumberConfig | None = None
        self.legs: dict[str, Leg] = {}
        self.transcripts: list[Transcript] = []
        self.recordings: dict[str, Recording] = {}
        self._clients: dict[str, Endpoint] = {}
        self._phones: dict[str, Endpoint] = {}

    def __repr__(self) -> str:
        return f"Simulator(account_sid={self.account_sid!r}, calls={len(self.transcripts)})"

    def signing_key(self) -> str:
        return self._auth_token

    def checks_auth(self, username: str, password: str) -> bool:
        """Whether REST credentials (account SID and auth token) are this account's."""
        return secrets.compare_digest(f"{username}:{password}",
                                      f"{self.account_sid}:{self._auth_token}")

    def wall_time(self, seconds: float) -> datetime:
        return self.start_time + timedelta(seconds=seconds)

    def new_idempotency_token(self) -> str:
        return f"{self.account_sid}-{secrets.token_hex(8)}"

    # --- configuration -----------------------------------------------------------------
    def add_number(self, e164: str, voice_url: str, voice_method: str = "POST",
                   status_callback: str | None = None,
                   status_callback_events: tuple[str, ...] = facts.DEFAULT_NUMBER_CALLBACK_EVENTS,
                   status_callback_method: str = "POST", fallback_url: str | None = None,
                   fallback_method: str = "POST") -> NumberConfig:
        """Configure one of the account's numbers, as in the Console."""
        config = NumberConfig(e164, Fetch(voice_url, voice_method.upper()),
                              Fetch(fallback_url, fallback_method.upper(), purpose="fallback")
                              if fallback_url else None,
                              _callback(status_callback, status_callback_method,
                                        status_callback_events), new_sid("PN"))
        self.numbers[e164] = config
        return config

    def set_twiml_app(self, voice_url: str, voice_method: str = "POST",
                      status_callback: str | None = None,
                      status_callback_events: tuple[str, ...] = ("completed",),
                      fallback_url: str | None = None) -> str:
        """Configure the TwiML App that ``Device.connect()`` calls use; returns its ``AP`` SID."""
        sid = new_sid("AP")
        self.application = NumberConfig(
            "", Fetch(voice_url, voice_method.upper()),
            Fetch(fallback_url, purpose="fallback") if fallback_url else None,
            _callback(status_callback, "POST", status_callback_events), sid)
        return sid

    def on_client(self, identity: str, endpoint: Endpoint | None = None,
                  **behaviour: Any) -> Endpoint:
        """Register how browser ``identity`` behaves when rung (default: answers after 1 s).

        Pass an endpoint (``busy()``, ``no_answer()``, ``reject()``, a custom one) or the
        keyword arguments of :class:`ScriptedEndpoint` (``answer_after``, ``hangup_after``…).
        """
        self._clients[identity] = endpoint or ScriptedEndpoint(**behaviour)
        return self._clients[identity]

    def on_number(self, e164: str, endpoint: Endpoint | None = None,
                  **behaviour: Any) -> Endpoint:
        """Register how an outside phone number behaves when dialed."""
        self._phones[e164] = endpoint or ScriptedEndpoint(**behaviour)
        return self._phones[e164]

    def endpoint_for(self, address: str) -> Endpoint | None:
        if address.startswith("client:"):
            return self._clients.get(address[len("client:"):])
        return self._phones.get(address)

    # --- placing calls -----------------------------------------------------------------
    def place_inbound_call(self, from_: str, to: str, caller: Party | None = None,
                           forwarded_from: str | None = None,
                           caller_name: str | None = None,
                           params: dict[str, str] | None = None) -> Transcript:
        """A PSTN caller dials one of the account's numbers; returns the live transcript.

        ``params`` are sent with every request of the call besides Twilio's own (the
        simulator's ``--at`` uses one; real Twilio sends no such thing).
        """
        if to not in self.numbers:
            raise KeyError(f"{to} is not one of the simulated account's numbers")
        number = self.numbers[to]
        extra = {"ForwardedFrom": forwarded_from, "CallerName": caller_name, **(params or {})}
        return self._place(from_, to, number, caller, {k: v for k, v in extra.items() if v})

    def place_client_call(self, identity: str, params: dict[str, str] | None = None,
                          caller: Party | None = None) -> Transcript:
        """A browser's ``Device.connect({params})`` through the TwiML App."""
        if self.application is None:
            raise LookupError("call set_twiml_app() before placing client calls")
        params = dict(params or {})
        extra = {"ApplicationSid": self.application.sid, **params}
        return self._place(f"client:{identity}", params.get("To", ""), self.application,
                           caller, extra)

    def _place(self, from_: str, to: str, config: NumberConfig, caller: Party | None,
               extra: dict[str, str]) -> Transcript:
        transcript = Transcript(new_sid("CA"), f"{from_} → {to or '(app)'}")
        leg = self.new_leg(from_, to, facts.DIRECTION_INBOUND, transcript, sid=transcript.call_sid,
                           party=caller or CallerScript(), callback=config.callback,
                           fallback=config.fallback, extra_params=extra)
        self.transcripts.append(transcript)
        leg.ring()
        hangup_after = getattr(leg.party, "hangup_after", None)
        if hangup_after is not None:
            self.kernel.schedule(hangup_after, lambda: self.party_hangup(leg))
        self.executor.start(leg, config.voice)
        return transcript

    def new_leg(self, from_: str, to: str, direction: str, transcript: Transcript,
                sid: str | None = None, **fields: Any) -> Leg:
        leg = Leg(self, sid or new_sid("CA"), from_, to, direction, transcript, **fields)
        self.legs[leg.sid] = leg
        return leg

    # --- endpoint and party actions (run in the engine loop) ---------------------------
    def ring_endpoint(self, leg: Leg) -> None:
        if not leg.alive:
            return
        leg.ring()
        endpoint = self.endpoint_for(leg.to)
        if endpoint is not None:
            endpoint.ring(leg.handle)

    def endpoint_answered(self, leg: Leg, script: Party | None) -> None:
        if not leg.alive or leg.answered_at is not None:
            return
        leg.party = script or CallerScript()
        leg.answer(by=leg.to)
        hangup_after = getattr(leg.party, "hangup_after", None)
        if hangup_after is not None:
            self.kernel.schedule(hangup_after, lambda: self.party_hangup(leg))
        if leg.on_answer is not None:
            fetch, leg.on_answer = leg.on_answer, None
            self.executor.start(leg, fetch)

    def party_hangup(self, leg: Leg) -> None:
        """The party on ``leg`` hangs up (or gives up ringing)."""
        if not leg.alive:
            return
        if leg.process is not None and leg.process.alive:
            leg.process.interrupt(PartyHangup())
        else:
            leg.end("completed" if leg.answered_at is not None else "canceled", "party-hangup")

    def speak(self, call_sid: str, text: str) -> list[str]:
        """The party on ``call_sid`` says ``text``; returns the SIDs of the legs that hear it.

        In a conference the mute and coach rules decide (:meth:`Conference.hears`); on a
        ``<Dial>`` bridge the other leg hears it; anywhere else nobody does.
        """
        leg = self.legs[call_sid]
        now = self.kernel.now()
        leg.transcript.add(Spoke(now, call_sid, text))
        conference = self.conferences.of_leg(call_sid)
        if conference is not None:
            hearers = conference.listeners(call_sid)
        else:
            hearers = [leg.peer] if leg.peer is not None and leg.peer.alive else []
        for hearer in hearers:
            hearer.transcript.add(HeardVoice(now, hearer.sid, call_sid, text))
        return [h.sid for h in hearers]

    # --- REST-side control (see rest.py) -------------------------------------------------
    def create_call(self, from_: str, to: str, fetch: Fetch, timeout: int = 60,
                    callback: CallbackConfig | None = None,
                    fallback: Fetch | None = None) -> Leg:
        """An outbound API call: ring ``to``; when it answers, run ``fetch`` on that leg."""
        transcript = Transcript(new_sid("CA"), f"API call {from_} → {to}")
        leg = self.new_leg(from_, to, facts.DIRECTION_OUTBOUND_API, transcript,
                           sid=transcript.call_sid, callback=callback, fallback=fallback,
                           on_answer=fetch)
        self.transcripts.append(transcript)
        self.kernel.post(lambda: self._start_outbound(leg, timeout))
        return leg

    def _start_outbound(self, leg: Leg, timeout: int) -> None:
        if not leg.alive:
            return
        leg.initiate()
        self.kernel.schedule(facts.RING_DELAY, lambda: self.ring_endpoint(leg))

        def give_up() -> None:
            if leg.alive and leg.answered_at is None:
                leg.end("no-answer", "timeout")
        self.kernel.schedule(timeout, give_up)

    def redirect(self, leg: Leg, fetch: Fetch) -> None:
        """REST ``Calls(sid).update(url=…|twiml=…)``: give a live leg new TwiML."""
        if not leg.alive:
            return
        if leg.process is not None and leg.process.alive:
            leg.process.interrupt(RestRedirect(fetch))
            return
        leg.transcript.add(Redirected(self.kernel.now(), leg.sid, fetch.url or "(inline TwiML)",
                                      "rest-api"))
        leg.detached.succeed()  # a dialed leg leaves its bridge and runs TwiML of its own
        self.executor.start(leg, fetch)

    def hang_up_call(self, leg: Leg, status: str = "completed") -> None:
        """REST ``Calls(sid).update(status="completed"|"canceled")``."""
        if not leg.alive:
            return
        if leg.process is not None and leg.process.alive:
            leg.process.interrupt(RestHangup(status))
        else:
            leg.end(status if leg.answered_at is None else "completed", "rest-api")

    # --- running -------------------------------------------------------------------------
    def now(self) -> float:
        return self.kernel.now()

    def run(self, until: float | None = None, limit: float = 86400.0) -> None:
        """Advance simulated time to ``until`` (or until nothing is left to do)."""
        self.kernel.run(until=until, limit=limit)

    def run_until_idle(self, limit: float = 86400.0) -> None:
        """Run until every call has ended and no callback is pending."""
        self.kernel.run(limit=limit)

    def add_recording(self, leg: Leg, seconds: int, channels: int, source: str) -> Recording:
        """Register a finished recording of ``leg``'s call and note it in the transcript."""
        sid = new_sid("RE")
        call_sid = leg.parent.sid if leg.parent is not None else leg.sid
        recording = Recording(sid, call_sid, seconds, channels, source)
        self.recordings[sid] = recording
        leg.transcript.add(Recorded(self.kernel.now(), leg.sid, sid, self.recording_url(sid),
                                    seconds))
        return recording

    def delete_recording(self, recording_sid: str) -> bool:
        """Forget a recording (REST ``DELETE``); whether it existed."""
        return self.recordings.pop(recording_sid, None) is not None

    def recording_url(self, recording_sid: str) -> str:
        """The media URL Twilio reports for a recording (``RecordingUrl``)."""
        return (f"https://api.twilio.com/{facts.API_VERSION}/Accounts/{self.account_sid}/"
                f"Recordings/{recording_sid}")

    def send_recording_callback(self, leg: Leg, verb: Verb, url: str,
                                recording: Recording) -> None:
        """The verb's ``recordingStatusCallback`` ("completed"), when it asks for one."""
        callback = verb.attr("recordingStatusCallback")
        if not callback:
            return
        self.webhooks.notify(
            leg, "recording-callback", resolve(url, callback),
            verb.method("recordingStatusCallbackMethod"),
            [("AccountSid", self.account_sid), ("CallSid", leg.sid),
             ("RecordingSid", recording.sid), ("RecordingUrl", self.recording_url(recording.sid)),
             ("RecordingStatus", "completed"), ("RecordingDuration", str(recording.duration)),
             ("RecordingChannels", str(recording.channels)),
             ("RecordingSource", recording.source)])

    def requests_adapter(self) -> RecordingsAdapter:
        """A ``requests`` adapter serving recording media from this simulator; mount it on a
        session for ``https://api.twilio.com`` (see :mod:`voice.simulator.recordings`)."""
        return RecordingsAdapter(self)

    def http_client(self) -> Any:
        """A twilio-python ``HttpClient`` that serves the REST API from this simulator."""
        from voice.simulator.rest import SimulatorHttpClient

        return SimulatorHttpClient(self)


def _callback(url: str | None, method: str, events: tuple[str, ...]) -> CallbackConfig | None:
    return CallbackConfig(url, method.upper(), frozenset(events)) if url else None
