"""Simulated mode: the softphone works without a Twilio account (``cti serve`` on a fresh machine).

An in-process :class:`voice.simulator.Simulator` plays Twilio, on a real-time clock, in a
background thread. It requests this app's own webhooks through a ``WSGITransport`` and serves
the REST API that call control uses. Each signed-in softphone registers a
:class:`BrowserEndpoint` for its agent's client identity: when a call rings that identity, an
``incoming`` event goes to the browser (long-polled from ``/api/sim/events``), and the
browser's accept / reject / hang-up come back as endpoint actions. ``Device.connect()`` becomes
``place_client_call`` through the TwiML App.

State lives in this process, so simulated mode needs the single-process development server
(``cti serve``), not several gunicorn workers. It is created lazily — apps that never use it
start no thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import select
from twilio.rest import Client

from voice.simulator import (
    CallerScript,
    Clock,
    RealTimeClock,
    RingingCall,
    Simulator,
    WSGITransport,
    answers,
)

from .. import db
from ..schema import phone_numbers
from ..voice import attach_simulator, get_runtime

log = logging.getLogger("cti.simulated_mode")

#: Seconds after which an outside number dialed in simulated mode answers.
OUTSIDE_ANSWER_AFTER = 2.0
#: Events kept per identity for browsers that poll late.
EVENT_BACKLOG = 200
#: How long an API request waits for the engine thread to carry out an action.
ENGINE_WAIT = 5.0

T = TypeVar("T")


class EventLog:
    """Events for one browser identity, numbered so a poller can ask for "everything after N"."""

    def __init__(self) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=EVENT_BACKLOG)
        self._next = 1
        self._changed = threading.Condition()

    def publish(self, event: dict[str, Any]) -> None:
        with self._changed:
            self._events.append({**event, "seq": self._next})
            self._next += 1
            self._changed.notify_all()

    @property
    def cursor(self) -> int:
        with self._changed:
            return self._next - 1

    def after(self, seq: int, wait: float = 0.0) -> list[dict[str, Any]]:
        with self._changed:
            self._changed.wait_for(lambda: self._next - 1 > seq, timeout=wait)
            return [e for e in self._events if e["seq"] > seq]


@dataclass
class BrowserEndpoint:
    """The agent's browser as the simulator's endpoint for ``client:<identity>``."""

    identity: str
    events: EventLog
    calls: dict[str, RingingCall] = field(default_factory=dict)

    def ring(self, call: RingingCall) -> None:
        self.calls[call.call_sid] = call
        self.events.publish({"type": "incoming", "call_sid": call.call_sid,
                             "parent_call_sid": call.parent_call_sid, "from": call.from_,
                             "to": call.to, "parameters": dict(call.parameters)})
        call.on_end(lambda status: self._ended(call.call_sid, status))

    def _ended(self, call_sid: str, status: str) -> None:
        self.calls.pop(call_sid, None)
        self.events.publish({"type": "ended", "call_sid": call_sid, "status": status})


class SimulatedTwilio:
    """The simulated Twilio account of one app (``app.extensions["cti.simulated_mode"]``).

    The account SID and the token that signs webhooks are the voice core's simulator
    credentials (``connector.voice.runtime``), and the simulator is attached to the app
    (:func:`connector.voice.attach_simulator`) so recordings come from it too.

    Args:
        app: The WSGI app whose webhooks the simulator calls.
        clock: ``RealTimeClock`` (default, a background thread runs the engine) or a virtual
            clock (tests drive ``simulator.run()`` themselves and no thread starts).
    """

    def __init__(self, app: Flask, clock: Clock | None = None) -> None:
        self._wsgi = app
        self.base_url = get_runtime(app).base_url
        self._clock = clock
        self._lock = threading.Lock()
        self._sim: Simulator | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._browsers: dict[str, BrowserEndpoint] = {}
        self._logs: dict[str, EventLog] = {}

    def __repr__(self) -> str:
        return f"SimulatedTwilio(base_url={self.base_url!r})"

    # --- the engine ------------------------------------------------------------------------
    @property
    def simulator(self) -> Simulator:
        with self._lock:
            if self._sim is None:
                self._sim = self._build()
            return self._sim

    def _build(self) -> Simulator:
        real_time = self._clock is None
        runtime = get_runtime(self._wsgi)
        sim = Simulator(runtime.account_sid, runtime.auth_token.reveal(),
                        WSGITransport(self._wsgi, self.base_url),
                        clock=self._clock or RealTimeClock())
        # As configured in Twilio (docs/voice.md): a TwiML App reports only "completed".
        sim.set_twiml_app(runtime.url("outbound"), status_callback=runtime.url("status"))
        attach_simulator(self._wsgi, sim)
        if real_time:
            self._thread = threading.Thread(target=self._run, args=(sim,), daemon=True,
                                            name="cti.simulated_mode")
            self._thread.start()
        return sim

    def _run(self, sim: Simulator) -> None:
        while not self._stop.is_set():
            try:
                sim.run(until=sim.now() + 1.0, limit=float("inf"))
            except Exception:  # one broken call must not stop the simulated account
                log.exception("simulator step failed")

    def stop(self) -> None:
        self._stop.set()
        if self._sim is not None:
            self._sim.kernel.post(lambda: None)  # wake the loop so it sees the flag
        if self._thread is not None:
            self._thread.join(timeout=5)

    def in_engine(self, action: Callable[[], T]) -> T:
        """Run ``action`` in the engine loop (the simulator is not thread-safe) and return its
        result; with a virtual clock, run it at once."""
        sim = self.simulator
        if self._thread is None or threading.current_thread() is self._thread:
            return action()
        done = threading.Event()
        outcome: dict[str, Any] = {}

        def step() -> None:
            try:
                outcome["value"] = action()
            except Exception as exc:  # handed to the waiting request
                outcome["error"] = exc
            done.set()

        sim.kernel.post(step)
        if not done.wait(ENGINE_WAIT):
            raise TimeoutError("the simulator did not respond")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def owns(self, simulator: Any) -> bool:
        """Whether ``simulator`` is this account's (tests may attach one of their own)."""
        return simulator is not None and simulator is self._sim

    def rest_client(self) -> Client:
        sim = self.simulator
        return Client(sim.account_sid, sim.signing_key(), http_client=sim.http_client())

    # --- numbers -----------------------------------------------------------------------------
    def sync_numbers(self) -> list[str]:
        """Give the simulated account the numbers configured in the database."""
        with db.get_engine(self._wsgi).connect() as conn:
            numbers = [r.e164 for r in conn.execute(select(phone_numbers.c.e164).where(
                phone_numbers.c.active.is_(True)).order_by(phone_numbers.c.id))]
        sim = self.simulator
        runtime = get_runtime(self._wsgi)

        def add() -> None:
            for e164 in numbers:
                if e164 not in sim.numbers:
                    sim.add_number(e164, runtime.url("inbound"),
                                   status_callback=runtime.url("status"))
                    sim.messaging.set_sms_url(e164, f"{self.base_url}/twilio/sms/inbound")
        self.in_engine(add)
        return numbers

    # --- browsers ------------------------------------------------------------------------------
    def events(self, identity: str) -> EventLog:
        with self._lock:
            return self._logs.setdefault(identity, EventLog())

    def register_browser(self, identity: str) -> BrowserEndpoint:
        endpoint = BrowserEndpoint(identity, self.events(identity))
        self.in_engine(lambda: self.simulator.on_client(identity, endpoint))
        with self._lock:
            self._browsers[identity] = endpoint
        return endpoint

    def unregister_browser(self, identity: str) -> None:
        with self._lock:
            self._browsers.pop(identity, None)
        # An unregistered identity never answers, as with Twilio.
        self.in_engine(lambda: self.simulator.on_client(identity, _NeverAnswers()))

    def ringing_call(self, identity: str, call_sid: str) -> RingingCall | None:
        with self._lock:
            endpoint = self._browsers.get(identity)
        return endpoint.calls.get(call_sid) if endpoint else None

    def connect(self, identity: str, params: dict[str, str]) -> str:
        """The browser's ``Device.connect({params})``: a call through the TwiML App."""
        sim = self.simulator
        log_ = self.events(identity)

        def place() -> str:
            to = params.get("To", "")
            if to.startswith("+") and sim.endpoint_for(to) is None:
                sim.on_number(to, answers(after=OUTSIDE_ANSWER_AFTER))
            transcript = sim.place_client_call(identity, params, caller=CallerScript())
            sid = transcript.call_sid
            sim.legs[sid].on_end(lambda status: log_.publish(
                {"type": "ended", "call_sid": sid, "status": status}))
            return sid
        return self.in_engine(place)

    def hang_up(self, call_sid: str) -> bool:
        """A party hangs up the leg ``call_sid`` (the browser's own, or a simulated caller)."""
        sim = self.simulator

        def act() -> bool:
            leg = sim.legs.get(call_sid)
            if leg is None or not leg.alive:
                return False
            sim.party_hangup(leg)
            return True
        return self.in_engine(act)

    def place_incoming(self, from_: str, to: str, caller_name: str | None = None) -> str:
        """A simulated customer dials one of our numbers; they stay until someone hangs up."""
        sim = self.simulator
        return self.in_engine(lambda: sim.place_inbound_call(
            from_, to, caller=CallerScript(), caller_name=caller_name).call_sid)


class _NeverAnswers:
    def ring(self, call: RingingCall) -> None:
        """Ring forever: the browser is gone."""


def get(app: Flask) -> SimulatedTwilio:
    return app.extensions["cti.simulated_mode"]


def init_app(app: Flask) -> None:
    """Simulated mode is on exactly when no Twilio account is configured (the voice core's
    ``simulator`` mode); the simulator itself starts on first use."""
    if get_runtime(app).mode == "simulator":
        app.extensions["cti.simulated_mode"] = SimulatedTwilio(app)
