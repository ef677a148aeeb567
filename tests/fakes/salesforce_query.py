"""SOSL and SOQL parsing for the fake Salesforce: just the shapes the documented API accepts
and the adapter sends, strict about syntax (an unescaped SOSL reserved character is an error,
as in Salesforce).

SOSL: ``FIND {t1 OR t2} IN PHONE FIELDS RETURNING Obj(f, ...), ... [LIMIT n]``.
SOQL: ``SELECT f, Rel.f FROM Obj [WHERE cond] [ORDER BY f [ASC|DESC], ...] [LIMIT n]`` where
``cond`` combines ``f op value`` and ``f IN (values)`` with AND, OR and parentheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SOSL_RESERVED = set("?&|!{}[]()^~*:\\\"'+-")


class QuerySyntaxError(ValueError):
    """Salesforce answers these with HTTP 400 MALFORMED_SEARCH / MALFORMED_QUERY."""


@dataclass
class SoslQuery:
    terms: list[str]
    returning: list[tuple[str, list[str]]]
    limit: int | None = None


def parse_sosl(text: str) -> SoslQuery:
    match = re.match(r"\s*FIND\s*\{", text, re.IGNORECASE)
    if not match:
        raise QuerySyntaxError("expected FIND {")
    body, end = _braced(text, match.end())
    terms = _sosl_terms(body)
    rest = text[end:]
    head = re.match(r"\s*IN\s+PHONE\s+FIELDS\s+RETURNING\s+", rest, re.IGNORECASE)
    if not head:
        raise QuerySyntaxError("this fake supports only IN PHONE FIELDS RETURNING ...")
    rest = rest[head.end():]
    returning, pos = [], 0
    while True:
        spec = re.match(r"\s*(\w+)\s*\(([^)]*)\)\s*", rest[pos:])
        if not spec:
            raise QuerySyntaxError("RETURNING needs Object(field, ...)")
        returning.append((spec.group(1), [f.strip() for f in spec.group(2).split(",")]))
        pos += spec.end()
        if not rest.startswith(",", pos):
            break
        pos += 1
    tail = rest[pos:]
    limit = re.fullmatch(r"\s*(?:LIMIT\s+(\d+))?\s*", tail, re.IGNORECASE)
    if not limit:
        raise QuerySyntaxError(f"unexpected text after RETURNING: {tail.strip()!r}")
    return SoslQuery(terms, returning, int(limit.group(1)) if limit.group(1) else None)


def _braced(text: str, start: int) -> tuple[str, int]:
    """The text up to the first unescaped ``}``, and the index after it."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "}":
            return text[start:i], i + 1
        i += 1
    raise QuerySyntaxError("missing closing brace")


def _sosl_terms(body: str) -> list[str]:
    words = body.split()
    if not words or len(words) % 2 == 0 or any(w.upper() != "OR" for w in words[1::2]):
        raise QuerySyntaxError("this fake supports only 'term OR term ...'")
    return [_unescape_term(w) for w in words[0::2]]


def _unescape_term(word: str) -> str:
    out, i = [], 0
    while i < len(word):
        ch = word[i]
        if ch == "\\" and i + 1 < len(word):
            out.append(word[i + 1])
            i += 2
            continue
        if ch in SOSL_RESERVED:
            raise QuerySyntaxError(f"no viable alternative at character '{ch}'")
        out.append(ch)
        i += 1
    return "".join(out)


# -- SOQL ------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>'(?:\\.|[^'\\])*')
    | (?P<datetime>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d))
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""", re.VERBOSE)

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


@dataclass
class SoqlQuery:
    fields: list[str]
    sobject: str
    where: Any = None  # nested tuples: ("and"|"or", left, right) or ("cmp", field, op, value)
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int | None = None


def parse_soql(text: str) -> SoqlQuery:
    parser = _SoqlParser(_tokens(text))
    return parser.query()


def _tokens(text: str) -> list[tuple[str, Any]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QuerySyntaxError(f"unexpected token at {text[pos:pos + 20]!r}")
        kind = match.lastgroup
        raw = match.group(kind)
        tokens.append((kind, _literal(kind, raw)))
        pos = match.end()
    return tokens


def _literal(kind: str, raw: str) -> Any:
    if kind == "string":
        return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw[1:-1])
    if kind == "datetime":
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if kind == "number":
        return float(raw) if "." in raw else int(raw)
    return raw


class _SoqlParser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, Any]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", None)

    def take(self) -> tuple[str, Any]:
        token = self.peek()
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        kind, value = self.peek()
        if kind == "word" and str(value).upper() == word:
            self.pos += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            raise QuerySyntaxError(f"expected {word}, got {self.peek()[1]!r}")

    def query(self) -> SoqlQuery:
        self.expect("SELECT")
        fields = [self.word()]
        while self.peek() == ("punct", ","):
            self.take()
            fields.append(self.word())
        self.expect("FROM")
        query = SoqlQuery(fields=fields, sobject=self.word())
        if self.keyword("WHERE"):
            query.where = self.disjunction()
        if self.keyword("ORDER"):
            self.expect("BY")
            query.order_by.append(self.order_item())
            while self.peek() == ("punct", ","):
                self.take()
                query.order_by.append(self.order_item())
        if self.keyword("LIMIT"):
            query.limit = int(self.take()[1])
        if self.peek()[0] != "end":
            raise QuerySyntaxError(f"unexpected {self.peek()[1]!r}")
        return query

    def word(self) -> str:
        kind, value = self.take()
        if kind != "word":
            raise QuerySyntaxError(f"expected a name, got {value!r}")
        return value

    def order_item(self) -> tuple[str, bool]:
        name = self.word()
        descending = self.keyword("DESC")
        if not descending:
            self.keyword("ASC")
        return name, descending

    def disjunction(self) -> Any:
        node = self.conjunction()
        while self.keyword("OR"):
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Any:
        node = self.condition()
        while self.keyword("AND"):
            node = ("and", node, self.condition())
        return node

    def condition(self) -> Any:
        if self.peek() == ("punct", "("):
            self.take()
            node = self.disjunction()
            if self.take() != ("punct", ")"):
                raise QuerySyntaxError("missing )")
            return node
        name = self.word()
        if self.keyword("IN"):
            if self.take() != ("punct", "("):
                raise QuerySyntaxError("IN needs (")
            values = [self.value()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.value())
            if self.take() != ("punct", ")"):
                raise QuerySyntaxError("missing ) after IN list")
            return ("in", name, values)
        kind, op = self.take()
        if kind != "op":
            raise QuerySyntaxError(f"expected an operator after {name}")
        return ("cmp", name, op, self.value())

    def value(self) -> Any:
        kind, value = self.take()
        if kind == "word":
            lowered = str(value).lower()
            if lowered in ("null", "true", "false"):
                return {"null": None, "true": True, "false": False}[lowered]
            raise QuerySyntaxError(f"unexpected {value!r} where a value belongs")
        if kind in ("string", "number", "datetime"):
            return value
        raise QuerySyntaxError(f"unexpected {value!r} where a value belongs")


def evaluate(node: Any, get) -> bool:
    """Evaluate a parsed WHERE tree; ``get(field)`` reads the record."""
    if node is None:
        return True
    kind = node[0]
    if kind == "and":
        return evaluate(node[1], get) and evaluate(node[2], get)
    if kind == "or":
        return evaluate(node[1], get) or evaluate(node[2], get)
    if kind == "in":
        value = get(node[1])
        return any(_equal(value, v) for v in node[2])
    _, name, op, expected = node
    value = get(name)
    if op == "=":
        return _equal(value, expected)
    if op == "!=":
        return not _equal(value, expected)
    if value is None or expected is None:
        return False
    return {"<": value < expected, ">": value > expected,
            "<=": value <= expected, ">=": value >= expected}[op]


def _equal(value: Any, expected: Any) -> bool:
    # SOQL compares strings case-insensitively.
    if isinstance(value, str) and isinstance(expected, str):
        return value.lower() == expected.lower()
    return value == expected
