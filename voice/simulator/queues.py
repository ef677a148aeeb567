"""Call queues: ``<Enqueue>``, its ``waitUrl`` loop, ``<Leave>``, and ``<Dial><Queue>``.

Relied on (twilio.com/docs/voice/twiml/enqueue, /queue): a queue is created on demand; the
``waitUrl`` document is re-requested every time it finishes; the ``action`` gets
``QueueResult``, ``QueueSid`` and ``QueueTime`` when the caller leaves the queue — at once after
``<Leave>``, after the bridge ends when an agent dequeued the caller; ``<Dial><Queue>``
connects to the first caller, waits up to the Dial timeout for one, and runs the noun's
``url`` on the dequeued caller first (``QueueSid``, ``CallSid``, ``QueueTime``,
``DequeingCallSid``). The waitUrl parameters and the QueueResult values are UNVERIFIED (facts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voice.simulator import facts
from voice.simulator.calls import Fetch, Interrupt, Leg, PartyHangup, new_sid
from voice.simulator.dial import DialResult
from voice.simulator.executor import LEAVE, Stop
from voice.simulator.kernel import Event, ProcessGen
from voice.simulator.transcript import Answered, Dialed, ErrorEvent, Heard, QueueEvent
from voice.simulator.twiml import Verb
from voice.simulator.webhooks import resolve

if TYPE_CHECKING:
    from voice.simulator.engine import Simulator

WAIT_LOOP_MIN_SECONDS = 1.0  # simulator guard: an empty waitUrl document must not spin


class Dequeued(Interrupt):
    """An agent's ``<Dial><Queue>`` took this caller out of the queue."""

    def __init__(self, agent: Leg, url: Fetch | None, ready: Event, done: Event) -> None:
        super().__init__(agent.sid)
        self.agent, self.url, self.ready, self.done = agent, url, ready, done


@dataclass
class Member:
    leg: Leg
    enqueued_at: float


@dataclass
class Queue:
    """One named queue (a Twilio Queue resource)."""

    sid: str
    name: str
    max_size: int
    created_at: float
    members: list[Member] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    arrival: Event | None = None

    def position(self, leg: Leg) -> int:
        return next(i + 1 for i, m in enumerate(self.members) if m.leg is leg)

    def average_wait(self) -> int:
        return round(sum(self.waits) / len(self.waits)) if self.waits else 0


class Queues:
    """All queues of the simulated account."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.kernel = sim.kernel
        self.by_name: dict[str, Queue] = {}

    def get_or_create(self, name: str) -> Queue:
        if name not in self.by_name:
            self.by_name[name] = Queue(new_sid("QU"), name, facts.ENQUEUE_DEFAULT_MAX_SIZE,
                                       self.kernel.now())
        return self.by_name[name]

    def by_sid(self, sid: str) -> Queue | None:
        return next((q for q in self.by_name.values() if q.sid == sid), None)

    # --- the caller's side -------------------------------------------------------------
    def enqueue(self, leg: Leg, verb: Verb, url: str) -> ProcessGen:
        leg.answer()
        queue = self.get_or_create(verb.text)
        if "maxQueueSize" in verb.attrs:
            queue.max_size = verb.int_attr("maxQueueSize", queue.max_size)
        if len(queue.members) >= queue.max_size:
            leg.transcript.add(ErrorEvent(self.kernel.now(), leg.sid, facts.ERR_QUEUE_FULL,
                                          f"queue {queue.name} is full", url))
            return self._result(leg, verb, url, queue, "queue-full", 0)
        member = Member(leg, self.kernel.now())
        queue.members.append(member)
        leg.queue_name = queue.name
        leg.transcript.add(QueueEvent(self.kernel.now(), leg.sid, queue.name, "enqueued",
                                      queue.position(leg)))
        if queue.arrival is not None:
            queue.arrival.succeed()
        try:
            outcome = yield from self._wait(leg, queue, verb, url)
        except Dequeued as taken:
            outcome = yield from self._bridged(leg, queue, member, taken)
        except PartyHangup:
            self._remove(queue, member, "hangup")
            self.sim.executor.hang_up(leg, "caller-hangup")
            self._notify_action(leg, verb, url, queue, "hangup", member)
            raise
        except BaseException:
            self._remove(queue, member, "redirected")
            raise
        finally:
            leg.queue_name = None
        if isinstance(outcome, Stop):
            self._remove(queue, member, "hangup")
            leg.end(outcome.status, outcome.reason)
            self._notify_action(leg, verb, url, queue, "hangup", member)
            return outcome
        if outcome != "bridged":
            self._remove(queue, member, outcome)
        return self._result(leg, verb, url, queue, outcome, self._waited(member))

    def _wait(self, leg: Leg, queue: Queue, verb: Verb, url: str) -> ProcessGen:
        """Run the waitUrl loop until <Leave> (returns "leave") or a Stop."""
        if not verb.attr("waitUrl"):
            leg.transcript.add(Heard(self.kernel.now(), leg.sid, "music",
                                     facts.DEFAULT_HOLD_MUSIC))
            yield self.kernel.event()  # hold music until dequeued or gone
        wait = Fetch(resolve(url, verb.attr("waitUrl")), verb.method("waitUrlMethod"),
                     purpose="wait-url")
        current = wait
        while True:
            started = self.kernel.now()
            # A <Gather> action keeps its own parameters (Digits …) besides the queue's.
            got = yield from self.sim.webhooks.fetch(leg, Fetch(
                current.url, current.method, self._wait_params(leg, queue) + current.params,
                purpose="wait-url"))
            if got is None:
                return (yield from self.sim.executor.fail(leg))
            document, doc_url = got
            outcome = yield from self.sim.executor.run_verbs(leg, document.children, doc_url,
                                                             allowed=facts.WAIT_URL_VERBS)
            if outcome is LEAVE:
                return "leave"
            if isinstance(outcome, Stop):
                return outcome
            current = outcome if isinstance(outcome, Fetch) else wait
            if self.kernel.now() - started < WAIT_LOOP_MIN_SECONDS:
                yield self.kernel.timeout(WAIT_LOOP_MIN_SECONDS)

    def _wait_params(self, leg: Leg, queue: Queue) -> tuple[tuple[str, str], ...]:
        member = next(m for m in queue.members if m.leg is leg)
        return (("QueuePosition", str(queue.position(leg))), ("QueueSid", queue.sid),
                ("QueueTime", str(self._waited(member))),
                ("AvgQueueTime", str(queue.average_wait())),
                ("CurrentQueueSize", str(len(queue.members))),
                ("MaxQueueSize", str(queue.max_size)))

    def _bridged(self, leg: Leg, queue: Queue, member: Member, taken: Dequeued) -> ProcessGen:
        """Dequeued: hear the agent's ``url`` document, then talk until the bridge ends."""
        leg.transcript.add(QueueEvent(self.kernel.now(), leg.sid, queue.name, "dequeued",
                                      result="bridged"))
        leg.transcript.add(Answered(self.kernel.now(), leg.sid, taken.agent.from_))
        try:
            if taken.url is not None:
                got = yield from self.sim.webhooks.fetch(leg, taken.url)
                if got is not None:
                    yield from self.sim.executor.run_verbs(leg, got[0].children, got[1],
                                                           allowed=facts.QUEUE_URL_VERBS)
            taken.ready.succeed()
            yield taken.done
        except PartyHangup:
            taken.ready.succeed()
            raise
        except BaseException:
            leg.detached.succeed()
            taken.ready.succeed()
            raise
        return "bridged"

    def _remove(self, queue: Queue, member: Member, result: str) -> None:
        if member in queue.members:
            queue.members.remove(member)
            queue.waits.append(self.kernel.now() - member.enqueued_at)
            member.leg.transcript.add(QueueEvent(self.kernel.now(), member.leg.sid,
                                                 queue.name, "left", result=result))

    def _waited(self, member: Member) -> int:
        return math.floor(self.kernel.now() - member.enqueued_at)

    def _result(self, leg: Leg, verb: Verb, url: str, queue: Queue, result: str,
                waited: int) -> Fetch | None:
        if not verb.attr("action"):
            return None
        return Fetch(resolve(url, verb.attr("action")), verb.method(),
                     (("QueueResult", result), ("QueueSid", queue.sid),
                      ("QueueTime", str(waited))))

    def _notify_action(self, leg: Leg, verb: Verb, url: str, queue: Queue, result: str,
                       member: Member) -> None:
        fetch = self._result(leg, verb, url, queue, result, self._waited(member))
        if fetch is not None:
            self.sim.webhooks.notify(leg, "action", fetch.url, fetch.method,
                                     leg.params() + list(fetch.params))

    # --- the agent's side --------------------------------------------------------------
    def dial_queue(self, leg: Leg, verb: Verb, noun: Verb, url: str) -> ProcessGen:
        queue = self.by_name.get(noun.text)
        leg.transcript.add(Dialed(self.kernel.now(), leg.sid, (f"queue:{noun.text}",)))
        if queue is None:
            return DialResult("failed")
        deadline = self.kernel.timeout(verb.int_attr("timeout", facts.DIAL_DEFAULT_TIMEOUT))
        try:
            while not queue.members and not deadline.triggered:
                queue.arrival = self.kernel.event()
                yield self.kernel.any_of(deadline, queue.arrival)
        except PartyHangup:
            return DialResult(facts.DIAL_STATUS_CALLER_GAVE_UP, caller_hung_up=True)
        finally:
            deadline.cancel()
        if not queue.members:
            return DialResult("no-answer")
        member = queue.members[0]
        self._remove(queue, member, "bridged")
        caller = member.leg
        ready, done = self.kernel.event(), self.kernel.event()
        url_fetch = None
        if noun.attr("url"):
            url_fetch = Fetch(resolve(url, noun.attr("url")), noun.method(), (
                ("QueueSid", queue.sid), ("QueueTime", str(self._waited(member))),
                ("DequeingCallSid", leg.sid)), purpose="queue-url")
        assert caller.process is not None
        caller.process.interrupt(Dequeued(leg, url_fetch, ready, done), now=True)
        started = self.kernel.now()
        try:
            yield self.kernel.any_of(ready, caller.ended)
            if not caller.alive:
                return DialResult("no-answer", caller.sid)
            leg.transcript.add(Answered(self.kernel.now(), leg.sid, caller.from_))
            result = yield from self.sim.dialer.bridge(leg, caller, verb, url, started,
                                                       end_child=False)
        except PartyHangup:
            return DialResult("completed", caller.sid, caller_hung_up=True)
        finally:
            done.succeed()
        result.extra = (("QueueSid", queue.sid),)
        return result
