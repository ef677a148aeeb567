"""A small discrete-event kernel: clocks, events and generator processes.

Every call leg's behaviour is a generator *process* that yields :class:`Event` objects
(a :meth:`Kernel.timeout`, another leg's answer, a queue slot…) and is resumed when the event
fires. The kernel keeps a time-ordered agenda and asks a :class:`Clock` to reach each instant:

* :class:`VirtualClock` jumps straight there, so a ten-minute call simulates in microseconds
  and every run of a test is identical;
* :class:`RealTimeClock` sleeps until then, and wakes early when another thread
  :meth:`Kernel.post`\\ s work — how a browser-driven endpoint (the softphone's simulated mode)
  answers a ringing leg while the engine runs.

Processes are stopped or redirected with :meth:`Process.interrupt`, which raises an exception
inside the generator at the point where it waits, so ``try/finally`` blocks clean up
(a hang-up during ``<Dial>`` cancels the ringing legs, and so on).
"""

from __future__ import annotations

import heapq
import inspect
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Protocol

ProcessGen = Generator["Event", Any, Any]


class SimulationLimitError(RuntimeError):
    """Raised when a simulation runs past its time limit (a TwiML loop that never ends)."""


class Clock(Protocol):
    """Where simulated time comes from."""

    def now(self) -> float:
        """Seconds since the simulation started."""

    def wait_until(self, when: float, wake: threading.Event) -> bool:
        """Advance to ``when``; return ``False`` if ``wake`` was set first (new posted work)."""


class VirtualClock:
    """Simulated time that jumps from event to event (the default; tests run instantly)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def wait_until(self, when: float, wake: threading.Event) -> bool:
        self._now = max(self._now, when)
        return True


class RealTimeClock:
    """Wall-clock time: the kernel sleeps until each event is due (live simulated mode)."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._origin

    def wait_until(self, when: float, wake: threading.Event) -> bool:
        delay = when - self.now()
        if delay > 0 and wake.wait(delay):
            wake.clear()
            return False
        return True


class Event:
    """Something that happens once; processes yield it to wait for it."""

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.triggered = False
        self.value: Any = None
        self._callbacks: list[Callable[[Event], None]] = []

    def succeed(self, value: Any = None) -> Event:
        """Fire the event (a second call is ignored) and wake whoever waits for it."""
        if self.triggered:
            return self
        self.triggered, self.value = True, value
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            self.kernel.call_soon(lambda cb=callback: cb(self))
        return self

    def add_callback(self, callback: Callable[[Event], None]) -> None:
        if self.triggered:
            self.kernel.call_soon(lambda: callback(self))
        else:
            self._callbacks.append(callback)

    def cancel(self) -> None:
        """Stop a pending event from firing (only timeouts and their unions really cancel)."""


class Timeout(Event):
    """Fires after a delay; cancelled when nobody waits for it any more."""

    def __init__(self, kernel: Kernel, delay: float) -> None:
        super().__init__(kernel)
        self.delay = max(0.0, delay)
        self._entry = kernel.schedule(self.delay, self.succeed)

    def cancel(self) -> None:
        self._entry.cancelled = True


class AnyOf(Event):
    """Fires with ``(event, value)`` of the first of several events.

    Members are not cancelled when the first fires (a Dial's deadline outlives one wait);
    cancelling the union (an interrupted process does) cancels its pending members.
    """

    def __init__(self, kernel: Kernel, events: list[Event]) -> None:
        super().__init__(kernel)
        self.events = events
        for event in events:
            event.add_callback(self._first)

    def _first(self, event: Event) -> None:
        if not self.triggered:
            self.succeed((event, event.value))

    def cancel(self) -> None:
        for event in self.events:
            if not event.triggered:
                event.cancel()


class Process(Event):
    """Runs a generator; fires with its return value when it finishes."""

    def __init__(self, kernel: Kernel, generator: ProcessGen, name: str = "") -> None:
        super().__init__(kernel)
        self.name = name
        self._gen = generator
        self._target: Event | None = None
        self._waits = itertools.count()
        self._wait_id = 0
        kernel.call_soon(lambda: self._resume(None, None))

    @property
    def alive(self) -> bool:
        return not self.triggered

    def interrupt(self, exc: BaseException, now: bool = False) -> None:
        """Raise ``exc`` inside the process where it waits, soon (or at once with ``now``,
        when the caller must know the process has reacted before it carries on)."""
        if now:
            self._interrupt_now(exc)
        else:
            self.kernel.call_soon(lambda: self._interrupt_now(exc))

    def _interrupt_now(self, exc: BaseException) -> None:
        if self.triggered:
            return
        if inspect.getgeneratorstate(self._gen) == inspect.GEN_CREATED:
            self._gen.close()
            self.succeed(None)
            return
        if self._target is not None:
            self._target.cancel()
        self._resume(None, exc)

    def _resume(self, value: Any, exc: BaseException | None) -> None:
        if self.triggered:
            return
        self._target = None
        try:
            event = self._gen.throw(exc) if exc is not None else self._gen.send(value)
        except StopIteration as stop:
            self.succeed(stop.value)
            return
        self._target = event
        self._wait_id = wait_id = next(self._waits)
        event.add_callback(lambda fired: self._wake(fired, wait_id))

    def _wake(self, event: Event, wait_id: int) -> None:
        # A callback from a wait that an interrupt abandoned must not resume the process.
        if wait_id == self._wait_id and event is self._target:
            self._resume(event.value, None)


class _Entry:
    __slots__ = ("when", "seq", "action", "cancelled")

    def __init__(self, when: float, seq: int, action: Callable[[], Any]) -> None:
        self.when, self.seq, self.action, self.cancelled = when, seq, action, False

    def __lt__(self, other: _Entry) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class Kernel:
    """The agenda of timed actions and the loop that runs it against a clock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or VirtualClock()
        self._agenda: list[_Entry] = []
        self._seq = itertools.count()
        self._posted: deque[Callable[[], Any]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def now(self) -> float:
        return self.clock.now()

    def schedule(self, delay: float, action: Callable[[], Any]) -> _Entry:
        entry = _Entry(self.now() + max(0.0, delay), next(self._seq), action)
        heapq.heappush(self._agenda, entry)
        return entry

    def call_soon(self, action: Callable[[], Any]) -> _Entry:
        return self.schedule(0.0, action)

    def post(self, action: Callable[[], Any]) -> None:
        """Queue ``action`` from any thread; it runs in the engine loop at the current time."""
        with self._lock:
            self._posted.append(action)
        self._wake.set()

    def timeout(self, delay: float) -> Timeout:
        return Timeout(self, delay)

    def event(self) -> Event:
        return Event(self)

    def any_of(self, *events: Event) -> AnyOf:
        return AnyOf(self, list(events))

    def process(self, generator: ProcessGen, name: str = "") -> Process:
        return Process(self, generator, name)

    def run(self, until: float | None = None, limit: float = 86400.0) -> None:
        """Run due actions until the agenda is empty or the clock reaches ``until``.

        Raises:
            SimulationLimitError: if simulated time passes ``limit`` with work still pending.
        """
        while True:
            self._take_posted()
            entry = self._next_entry()
            if entry is None:
                if until is not None and self.clock.wait_until(until, self._wake) is False:
                    continue  # woken by posted work before ``until``
                return
            if until is not None and entry.when > until:
                self.clock.wait_until(until, self._wake)
                return
            if entry.when > limit:
                raise SimulationLimitError(f"simulation still busy after {limit:.0f} s")
            if not self.clock.wait_until(entry.when, self._wake):
                continue
            heapq.heappop(self._agenda)
            entry.action()

    def _next_entry(self) -> _Entry | None:
        while self._agenda and self._agenda[0].cancelled:
            heapq.heappop(self._agenda)
        return self._agenda[0] if self._agenda else None

    def _take_posted(self) -> None:
        with self._lock:
            posted, self._posted = list(self._posted), deque()
        for action in posted:
            self.call_soon(action)
