"""Parse and validate TwiML the way Twilio does, before any of it runs.

A document that is not XML fails with 12100; a root other than ``<Response>`` with 12102;
an unknown verb, a misplaced noun, an unknown attribute or a bad value with 12200 or the
verb-specific 13xxx code (see :mod:`voice.simulator.facts`). Twilio only *warns* about some of
these and guesses; the simulator refuses them all, because in our own TwiML each is a bug.

The attribute lists follow twilio-python 9.x ``twiml/voice_response.py`` (every attribute the
library can emit is accepted, even the ones the simulator does not act on).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

from voice.simulator import facts

Check = Callable[[str], bool]


class TwimlError(Exception):
    """A document Twilio would not run; ``code`` is Twilio's error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Verb:
    """One validated TwiML element."""

    name: str
    attrs: dict[str, str] = field(default_factory=dict)
    text: str = ""
    children: list[Verb] = field(default_factory=list)

    def attr(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default)

    def int_attr(self, name: str, default: int) -> int:
        return int(self.attrs[name]) if name in self.attrs else default

    def bool_attr(self, name: str, default: bool) -> bool:
        return self.attrs[name].lower() == "true" if name in self.attrs else default

    def method(self, name: str = "method") -> str:
        return self.attrs.get(name, "POST").upper()


def _any(value: str) -> bool:
    return True


def _bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def _method(value: str) -> bool:
    return value.upper() in ("GET", "POST")


def _int(minimum: int, maximum: int | None = None) -> Check:
    def check(value: str) -> bool:
        return value.strip().isdigit() and minimum <= int(value) <= (maximum or int(value))
    return check


def _enum(*values: str) -> Check:
    return lambda value: value in values


def _words(*values: str) -> Check:
    return lambda value: all(word in values for word in value.split())


def _keys(pattern: str) -> Check:
    return lambda value: re.fullmatch(pattern, value) is not None


_EVENTS = _words(*facts.CALLBACK_EVENTS)
_URL_ATTRS = {"url": _any, "method": _method}
_CALLBACK_ATTRS = {"statusCallback": _any, "statusCallbackMethod": _method,
                   "statusCallbackEvent": _EVENTS}
_RECORDING_CALLBACK_ATTRS = {"recordingStatusCallback": _any,
                             "recordingStatusCallbackMethod": _method,
                             "recordingStatusCallbackEvent": _words("in-progress", "completed",
                                                                    "absent"),
                             "recordingConfigurationId": _any, "trim": _any}


@dataclass(frozen=True)
class Spec:
    """What one element may carry."""

    attrs: dict[str, Check]
    children: frozenset[str] = frozenset()
    text: bool = False
    codes: dict[str, int] = field(default_factory=dict)


SSML = frozenset({"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub",
                  "w", "amazon:domain", "amazon:effect"})
PROMPTS = frozenset({"Say", "Play", "Pause"})
VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Dial", "Enqueue", "Leave", "Record",
                   "Redirect", "Reject", "Hangup"})
# Valid TwiML the simulator does not emulate: parsed, then reported when executed.
NOT_EMULATED = frozenset({"Connect", "Start", "Stop", "Pay", "Refer", "Echo", "Sms", "Prompt"})

SPECS: dict[str, Spec] = {
    "Response": Spec({}, VERBS | NOT_EMULATED),
    "Say": Spec({"voice": _any, "language": _any, "loop": _int(0)}, SSML, text=True),
    "Play": Spec({"loop": _int(0), "digits": _keys(r"[0-9*#wW]+")}, text=True),
    "Pause": Spec({"length": _int(0)}),
    "Gather": Spec({
        "input": _words("dtmf", "speech"), "action": _any, "method": _method,
        "timeout": _int(0), "speechTimeout": _any, "maxSpeechTime": _int(1),
        "profanityFilter": _bool, "finishOnKey": _keys(r"[0-9#*]?"), "numDigits": _int(1),
        "partialResultCallback": _any, "partialResultCallbackMethod": _method,
        "language": _any, "hints": _any, "bargeIn": _bool, "debug": _bool,
        "actionOnEmptyResult": _bool, "speechModel": _any, "enhanced": _bool,
    }, PROMPTS, codes={"numDigits": facts.ERR_GATHER_NUM_DIGITS,
                       "finishOnKey": facts.ERR_GATHER_FINISH_ON_KEY,
                       "actionOnEmptyResult": facts.ERR_GATHER_ACTION_ON_EMPTY}),
    "Dial": Spec({
        "action": _any, "method": _method, "timeout": _int(1, facts.DIAL_MAX_TIMEOUT),
        "hangupOnStar": _bool, "timeLimit": _int(1), "callerId": _any,
        "record": _enum(*facts.DIAL_RECORD_VALUES), "answerOnBridge": _bool, "ringTone": _any,
        "recordingTrack": _enum("both", "inbound", "outbound"), "sequential": _bool,
        "referUrl": _any, "referMethod": _method, "events": _any, "passports": _any,
        **_RECORDING_CALLBACK_ATTRS,
    }, frozenset({"Number", "Client", "Queue", "Conference", "Sip", "Application"}), text=True,
        codes={"timeout": facts.ERR_DIAL_TIMEOUT_VALUE,
               "timeLimit": facts.ERR_DIAL_TIME_LIMIT_VALUE}),
    "Number": Spec({"sendDigits": _keys(r"[0-9*#wW]+"), "byoc": _any, "machineDetection": _any,
                    "amdStatusCallback": _any, "amdStatusCallbackMethod": _method,
                    "machineDetectionTimeout": _int(0), "machineDetectionSpeechThreshold": _any,
                    "machineDetectionSpeechEndThreshold": _any,
                    "machineDetectionSilenceTimeout": _any,
                    **_URL_ATTRS, **_CALLBACK_ATTRS}, text=True),
    "Client": Spec({**_URL_ATTRS, **_CALLBACK_ATTRS}, frozenset({"Identity", "Parameter"}),
                   text=True),
    "Identity": Spec({}, text=True),
    "Parameter": Spec({"name": _any, "value": _any}),
    "Queue": Spec({**_URL_ATTRS, "reservationSid": _any, "postWorkActivitySid": _any},
                  text=True),
    "Conference": Spec({
        "muted": _bool, "beep": _enum("true", "false", "onEnter", "onExit"),
        "startConferenceOnEnter": _bool, "endConferenceOnExit": _bool, "waitUrl": _any,
        "waitMethod": _method, "maxParticipants": _int(2, 250), "record": _any, "region": _any,
        "coach": _any, "jitterBufferSize": _any, "participantLabel": _any,
        "eventCallbackUrl": _any, **_CALLBACK_ATTRS,
        "statusCallbackEvent": _words("start", "end", "join", "leave", "mute", "hold", "modify",
                                      "speaker", "announcement"),
        **_RECORDING_CALLBACK_ATTRS,
    }, text=True),
    "Sip": Spec({}, frozenset(), text=True),
    "Application": Spec({}, frozenset({"ApplicationSid", "Parameter"}), text=True),
    "ApplicationSid": Spec({}, text=True),
    "Enqueue": Spec({"action": _any, "method": _method, "waitUrl": _any,
                     "waitUrlMethod": _method, "workflowSid": _any, "maxQueueSize": _int(1)},
                    frozenset({"Task"}), text=True),
    "Task": Spec({"priority": _int(0), "timeout": _int(0)}, text=True),
    "Leave": Spec({}),
    "Hangup": Spec({}),
    "Record": Spec({"action": _any, "method": _method, "timeout": _int(0),
                    "finishOnKey": _keys(r"[0-9#*]*"), "maxLength": _int(1),
                    "playBeep": _bool, "transcribe": _bool, "transcribeCallback": _any,
                    **_RECORDING_CALLBACK_ATTRS}),
    "Redirect": Spec({"method": _method}, text=True),
    "Reject": Spec({"reason": _enum("rejected", "busy")}),
}
# Verbs Twilio has but the simulator only parses: accept any attribute and child.
_LENIENT = NOT_EMULATED | {"Sip", "Application", "Task"} | SSML


def parse(body: str) -> Verb:
    """Parse and validate a TwiML document.

    Raises:
        TwimlError: with Twilio's code (12100, 12102, 12200 or a 13xxx code).
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise TwimlError(facts.ERR_DOCUMENT_PARSE, f"document parse failure: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(facts.ERR_ROOT_NOT_RESPONSE,
                         f"the root element must be Response, not <{root.tag}>")
    return _convert(root, parent=None)


def _convert(element: ET.Element, parent: str | None) -> Verb:
    name = element.tag
    spec = SPECS.get(name)
    if spec is None and name not in _LENIENT:
        raise TwimlError(facts.ERR_SCHEMA, f"unknown element <{name}>"
                         + (f" in <{parent}>" if parent else ""))
    if name in _LENIENT:
        text = "".join(element.itertext()).strip()
        return Verb(name, dict(element.attrib), text,
                    [_convert_lenient(child) for child in element])
    assert spec is not None
    _check_attributes(name, spec, element.attrib)
    children = []
    for child in element:
        if child.tag not in spec.children:
            raise TwimlError(facts.ERR_SCHEMA, f"<{child.tag}> is not allowed in <{name}>")
        children.append(_convert(child, name))
    own_text = (element.text or "").strip() + "".join((c.tail or "").strip() for c in element)
    if own_text and not spec.text:
        raise TwimlError(facts.ERR_SCHEMA, f"<{name}> takes no text (got {own_text!r})")
    if name == "Say":
        own_text = " ".join("".join(element.itertext()).split())
    verb = Verb(name, dict(element.attrib), own_text, children)
    _check_content(verb)
    return verb


def _convert_lenient(element: ET.Element) -> Verb:
    return Verb(element.tag, dict(element.attrib), "".join(element.itertext()).strip(),
                [_convert_lenient(child) for child in element])


def _check_attributes(name: str, spec: Spec, attrs: dict[str, str]) -> None:
    for attr, value in attrs.items():
        check = spec.attrs.get(attr)
        if check is None:
            raise TwimlError(facts.ERR_SCHEMA, f"attribute '{attr}' is not allowed in <{name}>")
        if not check(value):
            code = spec.codes.get(attr, facts.ERR_SCHEMA)
            raise TwimlError(code, f"<{name}> has an invalid {attr} value {value!r}")


def _check_content(verb: Verb) -> None:
    """Rules the attribute table cannot express: required content, noun counts."""
    needs_text = {"Redirect": "a URL", "Number": "a phone number", "Queue": "a queue name",
                  "Conference": "a conference name", "Identity": "an identity"}
    if verb.name in needs_text and not verb.text:
        raise TwimlError(facts.ERR_SCHEMA, f"<{verb.name}> needs {needs_text[verb.name]}")
    if verb.name == "Play" and not verb.text and "digits" not in verb.attrs:
        raise TwimlError(facts.ERR_SCHEMA, "<Play> needs a URL or a digits attribute")
    if verb.name == "Parameter" and not verb.attr("name"):
        raise TwimlError(facts.ERR_SCHEMA, "<Parameter> needs a name")
    if verb.name == "Enqueue":
        if not verb.text and "workflowSid" not in verb.attrs:
            raise TwimlError(facts.ERR_SCHEMA, "<Enqueue> needs a queue name")
        if len(verb.text) > facts.QUEUE_NAME_MAX_LENGTH:
            raise TwimlError(facts.ERR_SCHEMA, "queue names are at most 64 characters")
    if verb.name == "Client":
        identities = [c for c in verb.children if c.name == "Identity"]
        if bool(verb.text) == bool(identities) or len(identities) > 1:
            raise TwimlError(facts.ERR_SCHEMA, "<Client> needs exactly one identity")
    if verb.name == "Dial":
        _check_dial(verb)


def _check_dial(verb: Verb) -> None:
    nouns = verb.children
    if verb.text and nouns:
        raise TwimlError(facts.ERR_SCHEMA, "<Dial> takes a number or nouns, not both")
    if not verb.text and not nouns:
        raise TwimlError(facts.ERR_SCHEMA, "<Dial> needs something to dial")
    exclusive = [n for n in nouns if n.name in ("Queue", "Conference")]
    if exclusive and len(nouns) > 1:
        raise TwimlError(facts.ERR_SCHEMA,
                         f"<{exclusive[0].name}> must be the only noun in <Dial>")
    if len(nouns) > facts.DIAL_MAX_SIMULTANEOUS:
        raise TwimlError(facts.ERR_SCHEMA,
                         f"<Dial> rings at most {facts.DIAL_MAX_SIMULTANEOUS} parties at once")


def client_identity(noun: Verb) -> str:
    """The identity of a ``<Client>`` noun, plain text or nested ``<Identity>``."""
    nested = [c.text for c in noun.children if c.name == "Identity"]
    return nested[0] if nested else noun.text


def client_parameters(noun: Verb) -> dict[str, str]:
    """The ``<Parameter>`` name/value pairs of a ``<Client>`` (what the browser receives)."""
    return {c.attr("name"): c.attr("value") for c in noun.children if c.name == "Parameter"}
