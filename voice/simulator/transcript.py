"""What happened on a simulated call: typed events, a summary, a readable rendering.

A :class:`Transcript` belongs to one call placed on the simulator (inbound, browser or REST
call) and also records what happened on the legs that call dialed. Tests read the events or
the shortcuts (``t.heard``, ``t.digits``, ``t.answered_by``, ``t.final_status``,
``t.requests_to(path)``); ``cti simulate`` prints :meth:`Transcript.render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit


@dataclass(frozen=True)
class TranscriptEvent:
    """Base of every event: when (simulated seconds) and on which leg."""

    t: float
    call_sid: str

    def describe(self) -> str:
        return type(self).__name__


@dataclass(frozen=True)
class Heard(TranscriptEvent):
    """The party heard speech (``kind="say"``), an audio file, DTMF tones or hold music."""

    kind: str
    content: str
    voice: str = ""
    language: str = ""
    interrupted: bool = False

    def describe(self) -> str:
        what = f"「{self.content}」" if self.kind == "say" else self.content
        extra = f" ({self.voice}, {self.language})" if self.kind == "say" else ""
        cut = " [barged in]" if self.interrupted else ""
        return f"hears {self.kind} {what}{extra}{cut}"


@dataclass(frozen=True)
class HeardVoice(TranscriptEvent):
    """The party heard another party speak (:meth:`Simulator.speak`): who, and what."""

    speaker: str
    text: str

    def describe(self) -> str:
        return f"hears {self.speaker[-6:]} say 「{self.text}」"


@dataclass(frozen=True)
class Pressed(TranscriptEvent):
    digits: str

    def describe(self) -> str:
        return f"presses {self.digits}"


@dataclass(frozen=True)
class Spoke(TranscriptEvent):
    text: str

    def describe(self) -> str:
        return f"says 「{self.text}」"


@dataclass(frozen=True)
class WebhookRequest(TranscriptEvent):
    """A request to the application: TwiML fetch or status/recording callback."""

    purpose: str
    method: str
    url: str
    params: tuple[tuple[str, str], ...]
    status: int | None
    body: str
    elapsed: float
    error_code: int | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def param_dict(self) -> dict[str, str]:
        return dict(self.params)

    def describe(self) -> str:
        status = self.status if self.status is not None else "no response"
        head = f"{self.purpose}: {self.method} {self.url} -> {status}"
        if self.purpose in ("twiml", "fallback") and self.body:
            return f"{head}\n      {' '.join(self.body.split())}"
        return head


@dataclass(frozen=True)
class Dialed(TranscriptEvent):
    targets: tuple[str, ...]

    def describe(self) -> str:
        return "dials " + ", ".join(self.targets)


@dataclass(frozen=True)
class LegStatus(TranscriptEvent):
    """A dialed (child) leg or the call itself changed status."""

    target: str
    status: str

    def describe(self) -> str:
        return f"leg {self.target}: {self.status}"


@dataclass(frozen=True)
class Answered(TranscriptEvent):
    by: str

    def describe(self) -> str:
        return f"answered by {self.by}"


@dataclass(frozen=True)
class Bridged(TranscriptEvent):
    peer: str
    ended: bool = False
    duration: float = 0.0

    def describe(self) -> str:
        if self.ended:
            return f"bridge with {self.peer} ended after {self.duration:.0f} s"
        return f"talking with {self.peer}"


@dataclass(frozen=True)
class QueueEvent(TranscriptEvent):
    """Enqueued, dequeued or left a queue (``result`` is Twilio's QueueResult)."""

    queue: str
    action: str
    position: int = 0
    result: str = ""

    def describe(self) -> str:
        if self.action == "enqueued":
            return f"enqueued in {self.queue} at position {self.position}"
        return f"{self.action} {self.queue}" + (f" ({self.result})" if self.result else "")


@dataclass(frozen=True)
class ConferenceEvent(TranscriptEvent):
    conference: str
    action: str

    def describe(self) -> str:
        return f"conference {self.conference}: {self.action}"


@dataclass(frozen=True)
class Recorded(TranscriptEvent):
    recording_sid: str
    url: str
    duration: int

    def describe(self) -> str:
        return f"recorded {self.duration} s ({self.recording_sid})"


@dataclass(frozen=True)
class Redirected(TranscriptEvent):
    url: str
    source: str

    def describe(self) -> str:
        return f"redirected to {self.url} (by {self.source})"


@dataclass(frozen=True)
class ErrorEvent(TranscriptEvent):
    code: int | None
    message: str
    url: str = ""

    def describe(self) -> str:
        code = self.code if self.code is not None else "simulator"
        return f"ERROR {code}: {self.message}" + (f" [{self.url}]" if self.url else "")


@dataclass(frozen=True)
class Ended(TranscriptEvent):
    status: str
    reason: str
    duration: int

    def describe(self) -> str:
        return f"call ended: {self.status} ({self.reason}), {self.duration} s"


E = TypeVar("E", bound=TranscriptEvent)


@dataclass
class Transcript:
    """The events of one placed call and of the legs it dialed, in order."""

    call_sid: str
    description: str = ""
    events: list[TranscriptEvent] = field(default_factory=list)

    def add(self, event: TranscriptEvent) -> None:
        self.events.append(event)

    def of(self, kind: type[E], call_sid: str | None = None) -> list[E]:
        """Events of one type, optionally only those of one leg."""
        return [e for e in self.events
                if isinstance(e, kind) and (call_sid is None or e.call_sid == call_sid)]

    @property
    def heard(self) -> list[str]:
        """What the caller heard: Say texts, Play URLs, tones and hold music, in order."""
        return [e.content for e in self.of(Heard, self.call_sid)]

    @property
    def digits(self) -> list[str]:
        return [e.digits for e in self.of(Pressed, self.call_sid)]

    @property
    def requests(self) -> list[WebhookRequest]:
        return self.of(WebhookRequest)

    def requests_to(self, path: str) -> list[WebhookRequest]:
        """Webhook requests whose URL path is ``path`` (query string ignored)."""
        return [r for r in self.requests if r.path == path]

    @property
    def status_callbacks(self) -> list[WebhookRequest]:
        return [r for r in self.requests if r.purpose == "status-callback"]

    @property
    def errors(self) -> list[ErrorEvent]:
        return self.of(ErrorEvent)

    @property
    def error_codes(self) -> list[int | None]:
        return [e.code for e in self.errors]

    @property
    def answered_by(self) -> str | None:
        """Who answered the last dialed leg (identity ``client:x`` or number), if anyone."""
        answers = self.of(Answered)
        return answers[-1].by if answers else None

    @property
    def ended(self) -> Ended | None:
        finals = self.of(Ended, self.call_sid)
        return finals[-1] if finals else None

    @property
    def final_status(self) -> str | None:
        return self.ended.status if self.ended else None

    @property
    def end_reason(self) -> str | None:
        return self.ended.reason if self.ended else None

    @property
    def duration(self) -> int | None:
        return self.ended.duration if self.ended else None

    def render(self) -> str:
        """A human-readable account of the call, one event a line."""
        lines = [f"Call {self.call_sid}" + (f" — {self.description}" if self.description else "")]
        for event in self.events:
            leg = "" if event.call_sid == self.call_sid else f" [{event.call_sid[-6:]}]"
            lines.append(f"{event.t:8.1f}s{leg}  {event.describe()}")
        if self.ended:
            lines.append(f"Summary: {self.final_status}, {self.duration} s, "
                         f"answered by {self.answered_by or 'nobody'}, ended by {self.end_reason}")
        return "\n".join(lines)
