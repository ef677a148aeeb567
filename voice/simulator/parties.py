"""The people (and browsers) on the simulated calls.

Two roles:

* A **party** is whoever hears a leg's TwiML and answers its prompts: the PSTN caller of an
  inbound call, the agent's browser for a ``Device.connect()`` call, the callee of a REST
  call. :class:`CallerScript` is the deterministic party used in tests and by ``cti simulate``.
* An **endpoint** is a destination that ``<Dial>`` (or ``Calls.create``) rings: a browser
  client identity or a phone number. It receives a :class:`RingingCall` and decides,
  now or later, to answer, decline or ignore it. :class:`ScriptedEndpoint` decides on a timer;
  the softphone's simulated mode plugs in an endpoint that asks a real browser, calling the
  same methods from another thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Press:
    """Keys the party presses at a ``<Gather>``.

    Args:
        digits: The keys, e.g. ``"1"`` or ``"1234#"``.
        delay: Seconds after the prompt ends (or after the Gather starts, when
            ``during_prompt``) before the first key. Longer than the Gather's timeout means
            the Gather times out first.
        during_prompt: Press while the nested Say/Play still plays (barge-in).
    """

    digits: str
    delay: float = 1.0
    during_prompt: bool = False


@dataclass(frozen=True)
class Speech:
    """Words the party says at a speech ``<Gather>``."""

    text: str
    confidence: float = 0.9
    delay: float = 1.0


@dataclass(frozen=True)
class GatherPrompt:
    """What a party's callable sees when a ``<Gather>`` starts."""

    index: int
    prompts: tuple[str, ...]
    input: frozenset[str]
    num_digits: int | None
    finish_on_key: str


@dataclass(frozen=True)
class RecordInput:
    """How the party behaves at a ``<Record>``: talk for ``seconds``, then ``end`` with
    ``"silence"``, a key such as ``"#"``, or ``"hangup"``."""

    seconds: float = 5.0
    end: str = "silence"


Answer = Press | Speech | str | None
DigitsScript = Sequence[Answer] | Callable[[GatherPrompt], Answer]


class Party(Protocol):
    """Answers a leg's prompts."""

    hangup_after: float | None
    star_after: float | None

    def respond(self, prompt: GatherPrompt) -> Press | Speech | None:
        """The input for one ``<Gather>``, or ``None`` to stay silent."""

    def record_input(self) -> RecordInput:
        """Behaviour at one ``<Record>``."""


@dataclass
class CallerScript:
    """A deterministic party.

    Args:
        digits: One entry per DTMF ``<Gather>`` in order (``"1"``, :class:`Press`, or ``None``
            for silence), or a callable ``fn(GatherPrompt) -> answer``.
        speech: One entry per speech ``<Gather>`` (``str`` or :class:`Speech`).
        hangup_after: Seconds after the call starts (after answering, for a dialed
            endpoint's script) at which the party hangs up; ``None`` = never.
        message: Behaviour at ``<Record>`` (one for all, or one per Record in order).
        star_after: Seconds into a bridged ``<Dial>`` at which the party presses ``*``
            (ends the bridge when the Dial has ``hangupOnStar``).
    """

    digits: DigitsScript = ()
    speech: Sequence[str | Speech] = ()
    hangup_after: float | None = None
    message: RecordInput | Sequence[RecordInput] = field(default_factory=RecordInput)
    star_after: float | None = None
    _digit_index: int = 0
    _speech_index: int = 0
    _record_index: int = 0

    def respond(self, prompt: GatherPrompt) -> Press | Speech | None:
        answer: Answer = None
        if "dtmf" in prompt.input:
            answer = self._next_digits(prompt)
        if answer is None and "speech" in prompt.input and self._speech_index < len(self.speech):
            answer = self.speech[self._speech_index]
            self._speech_index += 1
        if isinstance(answer, str):
            return Speech(answer) if "dtmf" not in prompt.input else Press(answer)
        return answer

    def _next_digits(self, prompt: GatherPrompt) -> Answer:
        if callable(self.digits):
            return self.digits(prompt)
        if self._digit_index >= len(self.digits):
            return None
        answer = self.digits[self._digit_index]
        self._digit_index += 1
        return answer

    def record_input(self) -> RecordInput:
        if isinstance(self.message, RecordInput):
            return self.message
        index = min(self._record_index, len(self.message) - 1)
        self._record_index += 1
        return self.message[index]



class RingingCall(Protocol):
    """What an endpoint gets when it is rung (like the Voice SDK's incoming ``Call``).

    The action methods may be called from any thread; they take effect in the engine loop.
    """

    call_sid: str
    parent_call_sid: str | None
    from_: str
    to: str
    parameters: dict[str, str]

    def answer(self, script: Party | None = None) -> None:
        """Pick up; ``script`` answers prompts if the leg later runs TwiML of its own."""

    def decline(self) -> None:
        """Refuse the call (a browser's ``call.reject()``, a declined mobile)."""

    def busy(self) -> None:
        """Report busy."""

    def hangup(self) -> None:
        """Hang up after answering (or give up ringing)."""

    def later(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``delay`` seconds of simulated time (for scripted endpoints)."""

    def on_end(self, callback: Callable[[str], None]) -> None:
        """Be told the final status when the leg ends (caller gave up, bridge ended…)."""


class Endpoint(Protocol):
    """A destination that can be rung."""

    def ring(self, call: RingingCall) -> None:
        """Called once when the leg starts ringing; decide now or later."""


@dataclass
class ScriptedEndpoint:
    """Answers, declines or ignores on a timer.

    Args:
        answer_after: Seconds of ringing before answering; ``None`` never answers.
        hangup_after: Seconds after answering before hanging up; ``None`` = stays.
        outcome: ``"answer"``, ``"busy"``, ``"decline"`` or ``"no-answer"``.
        script: The party that answers prompts if this leg runs TwiML (REST calls,
            or a REST redirect of this leg).
    """

    answer_after: float | None = 1.0
    hangup_after: float | None = None
    outcome: str = "answer"
    script: CallerScript | None = None
    rung: list[RingingCall] = field(default_factory=list)

    def ring(self, call: RingingCall) -> None:
        self.rung.append(call)
        if self.outcome == "busy":
            call.later(0.0, call.busy)
        elif self.outcome == "decline":
            call.later(self.answer_after or 0.0, call.decline)
        elif self.outcome == "answer" and self.answer_after is not None:
            call.later(self.answer_after, lambda: self._answer(call))

    def _answer(self, call: RingingCall) -> None:
        script = self.script or CallerScript(hangup_after=self.hangup_after)
        if self.script is not None and script.hangup_after is None:
            script.hangup_after = self.hangup_after
        call.answer(script)


def answers(after: float = 1.0, hangup_after: float | None = None,
            script: CallerScript | None = None) -> ScriptedEndpoint:
    """An endpoint that answers after ``after`` seconds."""
    return ScriptedEndpoint(after, hangup_after, "answer", script)


def busy() -> ScriptedEndpoint:
    """An endpoint that is busy at once."""
    return ScriptedEndpoint(None, None, "busy")


def no_answer() -> ScriptedEndpoint:
    """An endpoint that rings until the caller gives up."""
    return ScriptedEndpoint(None, None, "no-answer")


def reject(after: float = 1.0) -> ScriptedEndpoint:
    """An endpoint that declines after ``after`` seconds of ringing."""
    return ScriptedEndpoint(after, None, "decline")
