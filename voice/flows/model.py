"""Flows and nodes, and the checks of each node's fields.

A flow is a name, an entry node and a table of nodes by ID. Each node has a ``kind`` and the
fields that kind takes (:data:`KINDS`); fields that name another node are *links*, which
:mod:`.check` follows. Everything is parsed from plain data (what ``tomllib`` gives) into
frozen values, and every problem names the node and the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voice.flows import calendar

#: AD-6 / CF-4: the longest text-to-speech announcement accepted.
MAX_TTS_CHARS = 500
DEFAULT_TIMEZONE = "Asia/Tokyo"
DEFAULT_RETRY_TEXT = "恐れ入りますが、もう一度お選びください。"
MENU_KEYS = frozenset("0123456789*#")
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_VARIABLE = re.compile(r"[a-z][a-z0-9_]{0,29}")
#: Announcements are spoken with these voices (ecosystem.md §4.2). Mizuki and Takumi are
#: widely used with Twilio; the neural ones are UNVERIFIED for Twilio — a voice Twilio does
#: not know makes ``<Say>`` fail, so this list is the one place to correct.
JAPANESE_VOICES = ("Polly.Mizuki", "Polly.Takumi", "Polly.Takumi-Neural",
                   "Polly.Kazuha-Neural", "Polly.Tomoko-Neural")
_SSML = re.compile(r"<break\s+time=\"\d{1,4}(ms|s)\"\s*/>")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a flow: where (node and field, ``""`` for the flow) and what."""

    node: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"node {self.node!r}" if self.node else "flow"
        if self.field:
            where += f", {self.field}"
        at = f"line {self.line}: " if self.line else ""
        return f"{at}{where}: {self.message}"


class FlowError(ValueError):
    """A flow that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


# --- field types --------------------------------------------------------------------------------

Parser = Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value.strip()


def _speech(value: Any) -> str:
    text = _text(value)
    if len(text) > MAX_TTS_CHARS:
        raise ValueError(f"is {len(text)} characters; text-to-speech takes at most "
                         f"{MAX_TTS_CHARS}")
    for tag in re.findall(r"<[^>]*>", text):
        if not _SSML.fullmatch(tag):
            raise ValueError(f"{tag!r}: only SSML breaks such as <break time=\"500ms\"/> "
                             "are allowed")
    return text


def _voice(value: Any) -> str:
    text = _text(value)
    if text not in JAPANESE_VOICES:
        raise ValueError(f"{text!r} is not a Japanese voice (one of: "
                         f"{', '.join(JAPANESE_VOICES)})")
    return text


def _audio(value: Any) -> str:
    text = _text(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", text):
        raise ValueError("must be the name of an uploaded audio file (letters, digits, . _ -)")
    return text


#: Longest SMS text a flow may send (ten UCS-2 segments of 67 characters).
SMS_BODY_MAX = 670


def _sms_body(value: Any) -> str:
    text = _text(value)
    if not text.strip():
        raise ValueError("must not be empty")
    if len(text) > SMS_BODY_MAX:
        raise ValueError(f"at most {SMS_BODY_MAX} characters")
    return text


def _int_range(low: int, high: int) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value
    return parse


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _node_ref(value: Any) -> str:
    text = _text(value)
    if not _ID.fullmatch(text):
        raise ValueError(f"{text!r} is not a node ID")
    return text


def _keys(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("must be a table of keys, e.g. { \"1\" = \"sales\" }")
    keys = {}
    for key, target in value.items():
        if key not in MENU_KEYS:
            raise ValueError(f"{key!r} is not a key (1–9, 0, * or #)")
        keys[key] = _node_ref(target)
    return MappingProxyType(dict(sorted(keys.items())))


def _words(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("must be a table of words to nodes, e.g. { \"営業\" = \"sales\" }")
    return MappingProxyType({_text(word): _node_ref(target) for word, target in value.items()})


def _variables(value: Any) -> Mapping[str, str]:
    if not isinstance(value, Mapping) or not value:
        raise ValueError("must be a table of variable names to texts")
    out = {}
    for name, text in value.items():
        if not _VARIABLE.fullmatch(name):
            raise ValueError(f"{name!r} is not a variable name (a-z, digits, _)")
        out[name] = _text(text)
    return MappingProxyType(out)


def _saved_fields(value: Any) -> Mapping[str, str]:
    """``{variable = "CRM field code"}``: fields of a matched record kept for later texts."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError("must be a table of variable names to field codes")
    out = {}
    for name, code in value.items():
        if not _VARIABLE.fullmatch(name):
            raise ValueError(f"{name!r} is not a variable name (a-z, digits, _)")
        out[name] = _text(code)
    return MappingProxyType(out)


def _field_texts(value: Any) -> Mapping[str, str]:
    """``{"field code" = "text with {variables}"}``: what an update writes."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError("must be a table of field codes to texts")
    return MappingProxyType({_text(code): _text(text) for code, text in value.items()})


def _days_list(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of dates such as \"2026-12-31\", \"12-29..01-03\"")
    for text in value:
        calendar.parse_day_spec(text)
    return tuple(v.strip() for v in value)


def _emails(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of e-mail addresses")
    for address in value:
        if not re.fullmatch(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+", address.strip()):
            raise ValueError(f"{address!r} is not an e-mail address")
    return tuple(v.strip() for v in value)


def _timezone(value: Any) -> str:
    text = _text(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not a time zone such as \"Asia/Tokyo\"") from None
    return text


def _rules(value: Any) -> tuple[calendar.Rule, ...]:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ValueError("must be a list of tables ([[nodes.<id>.rules]])")
    rules = []
    for index, table in enumerate(value, 1):
        try:
            rules.append(calendar.Rule.parse(table))
        except ValueError as exc:
            raise ValueError(f"rule {index}: {exc}") from None
    return tuple(rules)


def _test(value: Any) -> str:
    text = _text(value)
    if text not in ("known", "field"):
        raise ValueError("must be \"known\" (the caller is in the CRM) or \"field\"")
    return text


def _customer_field(value: Any) -> str:
    text = _text(value)
    if text not in CUSTOMER_FIELDS:
        raise ValueError(f"must be one of: {', '.join(CUSTOMER_FIELDS)}")
    return text


#: What a CRM branch can test of the caller's best match (the lookup the screen pop uses).
CUSTOMER_FIELDS = ("name", "company", "type", "adapter", "id")


@dataclass(frozen=True)
class FieldSpec:
    parse: Parser
    required: bool = False
    link: bool = False  # names a node (or, for maps, every value does)


def _spec(**fields: FieldSpec) -> Mapping[str, FieldSpec]:
    common = {"label": FieldSpec(_text), "max_visits": FieldSpec(_int_range(1, 20)),
              "on_limit": FieldSpec(_node_ref, link=True)}
    return MappingProxyType({**common, **fields})


_SAY = {"say": FieldSpec(_speech), "audio": FieldSpec(_audio), "voice": FieldSpec(_voice)}

#: Every node kind and its fields.
KINDS: Mapping[str, Mapping[str, FieldSpec]] = MappingProxyType({
    "schedule": _spec(rules=FieldSpec(_rules), default=FieldSpec(_node_ref, True, True),
                      timezone=FieldSpec(_timezone), holidays=FieldSpec(_bool),
                      company_days=FieldSpec(_days_list)),
    "menu": _spec(**_SAY, keys=FieldSpec(_keys, True, True),
                  default=FieldSpec(_node_ref, link=True), timeout=FieldSpec(_int_range(1, 30)),
                  retries=FieldSpec(_int_range(0, 5)), retry_say=FieldSpec(_speech),
                  speech=FieldSpec(_words, link=True)),
    "announcement": _spec(**_SAY, next=FieldSpec(_node_ref, link=True),
                          loop=FieldSpec(_int_range(1, 10))),
    "group": _spec(group=FieldSpec(_text, True), next=FieldSpec(_node_ref, link=True),
                   priority=FieldSpec(_int_range(0, 9))),
    "agent": _spec(agent=FieldSpec(_text, True), next=FieldSpec(_node_ref, link=True)),
    "voicemail": _spec(**_SAY, max_seconds=FieldSpec(_int_range(5, 3600)),
                       box=FieldSpec(_text), notify=FieldSpec(_emails)),
    "transfer": _spec(number=FieldSpec(_text, True), caller_id=FieldSpec(_text),
                      next=FieldSpec(_node_ref, link=True)),
    "crm": _spec(test=FieldSpec(_test, True), crm=FieldSpec(_text),
                 field=FieldSpec(_customer_field), equals=FieldSpec(_text),
                 contains=FieldSpec(_text), then=FieldSpec(_node_ref, True, True),
                 **{"else": FieldSpec(_node_ref, True, True)}),
    "lookup": _spec(crm=FieldSpec(_text, True), app=FieldSpec(_text, True),
                    field=FieldSpec(_text, True), value=FieldSpec(_text),
                    save=FieldSpec(_saved_fields), then=FieldSpec(_node_ref, True, True),
                    **{"else": FieldSpec(_node_ref, True, True)}),
    "update": _spec(crm=FieldSpec(_text, True), app=FieldSpec(_text, True),
                    key_field=FieldSpec(_text, True), key=FieldSpec(_text),
                    values=FieldSpec(_field_texts, True), next=FieldSpec(_node_ref, True, True)),
    "set": _spec(values=FieldSpec(_variables, True), next=FieldSpec(_node_ref, True, True)),
    "sms": _spec(template=FieldSpec(_text), body=FieldSpec(_sms_body), to=FieldSpec(_text),
                 next=FieldSpec(_node_ref, True, True)),
    "hangup": _spec(**_SAY),
})
#: Links followed without the caller pressing anything.
KEY_LINKS = frozenset({("menu", "keys"), ("menu", "speech")})


@dataclass(frozen=True)
class Node:
    id: str
    kind: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def links(self) -> Iterator[tuple[str, str, bool]]:
        """``(field, target, by_key)`` for every node this one can lead to."""
        spec = KINDS[self.kind]
        for name, value in self.fields.items():
            if not spec[name].link:
                continue
            by_key = (self.kind, name) in KEY_LINKS
            if isinstance(value, Mapping):
                for key, target in value.items():
                    yield f"{name}.{key}", target, by_key
            else:
                yield name, value, by_key
        if self.kind == "schedule":
            for index, rule in enumerate(self.get("rules", ()), 1):
                yield f"rules[{index}].goto", rule.goto, False


@dataclass(frozen=True)
class Flow:
    name: str
    entry: str
    nodes: Mapping[str, Node]
    timezone: str = DEFAULT_TIMEZONE
    voice: str = ""  # "" = the deployment's [voice] tts_voice
    description: str = ""

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]


FLOW_FIELDS = ("name", "entry", "timezone", "voice", "description")


def parse_flow(data: Mapping[str, Any], lines: Mapping[str, int] | None = None) -> Flow:
    """A flow from plain data (``{"flow": {...}, "nodes": {id: {...}}}``).

    Args:
        data: What ``tomllib`` read.
        lines: The line of each node's table (and ``""`` for ``[flow]``), for messages.

    Raises:
        FlowError: Every problem found, each naming its node and field.
    """
    lines = lines or {}
    problems: list[Problem] = []
    for key in data:
        if key not in ("flow", "nodes"):
            problems.append(Problem("", key, "unknown table (only [flow] and [nodes.<id>])",
                                    lines.get(key)))
    head = data.get("flow")
    head = head if isinstance(head, Mapping) else {}
    if not head:
        problems.append(Problem("", "flow", "a [flow] table with name and entry is needed"))
    header = _parse_header(head, problems, lines.get(""))
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, Mapping) or not raw_nodes:
        problems.append(Problem("", "nodes", "no nodes: add [nodes.<id>] tables"))
        raw_nodes = {}
    nodes = {}
    for node_id, raw in raw_nodes.items():
        node = _parse_node(node_id, raw, problems, lines.get(node_id))
        if node is not None:
            nodes[node_id] = node
    if problems:
        raise FlowError(problems)
    return Flow(nodes=MappingProxyType(nodes), **header)


def _parse_header(head: Mapping[str, Any], problems: list[Problem],
                  line: int | None) -> dict[str, str]:
    out = {"name": "", "entry": "", "timezone": DEFAULT_TIMEZONE, "voice": "",
           "description": ""}
    parsers: dict[str, Parser] = {"name": _text, "entry": _node_ref, "timezone": _timezone,
                                  "voice": _voice, "description": _text}
    for key, value in head.items():
        if key not in parsers:
            problems.append(Problem("", f"flow.{key}", "unknown field", line))
            continue
        try:
            out[key] = parsers[key](value)
        except ValueError as exc:
            problems.append(Problem("", f"flow.{key}", str(exc), line))
    if head and not _NAME.fullmatch(out["name"]):
        problems.append(Problem("", "flow.name", "needed: lower-case letters, digits, - and _",
                                line))
    if head and not out["entry"]:
        problems.append(Problem("", "flow.entry", "needed: the ID of the first node", line))
    return out


def _parse_node(node_id: str, raw: Any, problems: list[Problem],
                line: int | None) -> Node | None:
    if not _ID.fullmatch(node_id):
        problems.append(Problem(node_id, "", "node IDs are a letter, then letters, digits, "
                                "- or _ (at most 40)", line))
        return None
    if not isinstance(raw, Mapping):
        problems.append(Problem(node_id, "", "must be a table", line))
        return None
    kind = raw.get("kind")
    if kind not in KINDS:
        problems.append(Problem(node_id, "kind", f"{kind!r} is not a node kind (one of: "
                                f"{', '.join(KINDS)})", line))
        return None
    spec, fields, before = KINDS[kind], {}, len(problems)
    for name, value in raw.items():
        if name == "kind":
            continue
        if name not in spec:
            problems.append(Problem(node_id, name, f"unknown field for a {kind} node", line))
            continue
        try:
            fields[name] = spec[name].parse(value)
        except ValueError as exc:
            problems.append(Problem(node_id, name, str(exc), line))
    for name, field_spec in spec.items():
        if field_spec.required and name not in raw:
            problems.append(Problem(node_id, name, f"needed by a {kind} node", line))
    problems.extend(Problem(node_id, f, m, line) for f, m in _kind_problems(kind, fields))
    if len(problems) > before:
        return None
    return Node(node_id, kind, MappingProxyType(fields))


def _kind_problems(kind: str, fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rules between fields of one node."""
    found = []
    if "say" in fields and "audio" in fields:
        found.append(("audio", "give say or audio, not both"))
    if kind in ("announcement", "menu") and not ("say" in fields or "audio" in fields):
        found.append(("say", f"a {kind} needs say (text-to-speech) or audio (a file)"))
    if kind == "crm" and fields.get("test") == "field":
        if "field" not in fields:
            found.append(("field", "needed when test = \"field\""))
        if ("equals" in fields) == ("contains" in fields):
            found.append(("equals", "give equals or contains (one of them)"))
    if kind == "crm" and fields.get("test") == "known" and (
            {"field", "equals", "contains"} & fields.keys()):
        found.append(("field", "field, equals and contains belong to test = \"field\""))
    if kind == "sms" and ("template" in fields) == ("body" in fields):
        found.append(("template", "give template (an SMS template's name) or body, one of them"))
    if "on_limit" in fields and "max_visits" not in fields:
        found.append(("on_limit", "only with max_visits"))
    return found
