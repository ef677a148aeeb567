"""The subset of kintone's query language the fake kintone understands.

Conditions ``field op value`` with ``= != > < >= <=``, ``in (...)``, ``not in (...)``, ``like``,
joined by ``and`` / ``or`` (``and`` binds tighter) with parentheses, then ``order by f asc|desc,
...``, ``limit N`` and ``offset N`` (https://cybozu.dev/ja/kintone/docs/overview/query).
Semantics follow the field type: numbers and record ids compare numerically, date-times as
instants, text exactly (``like`` is a plain substring test here; kintone's is a word search).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:\\.|[^"\\])*")|(?P<op>>=|<=|!=|=|>|<)|(?P<punct>[(),])'
                    r'|(?P<word>[^\s"(),=<>!]+))')
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
NUMERIC_TYPES = {"NUMBER", "RECORD_NUMBER", "__ID__", "__REVISION__", "CALC"}
TIME_TYPES = {"DATETIME", "UPDATED_TIME", "CREATED_TIME"}
KEYWORDS = {"and", "or", "in", "not", "like", "order", "by", "asc", "desc", "limit", "offset",
            "is", "empty"}


class QueryError(ValueError):
    """The query is not valid; ``field`` is set when it names an unknown field."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Token:
    kind: str  # str, num, op, punct, word
    text: str

    @property
    def value(self) -> str:
        if self.kind == "str":
            return re.sub(r"\\(.)", r"\1", self.text[1:-1])
        return self.text


@dataclass
class Query:
    condition: Any = None  # nested tuples; None = every record
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, ascending)
    limit: int | None = None
    offset: int | None = None

    def fields(self) -> set[str]:
        names = {name for name, _ in self.order}
        _collect_fields(self.condition, names)
        return names


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError(f"cannot read the query at {text[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "word" and _NUMBER.match(value):
            kind = "num"
        tokens.append(Token(kind, value))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> Token | None:
        i = self.pos + offset
        return self.tokens[i] if i < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        return bool(token and token.kind == "word" and token.text.lower() in words)

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise QueryError("unexpected end of query")
        self.pos += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text.lower() != text:
            raise QueryError(f"expected {text!r}, got {token.text!r}")

    def parse(self) -> Query:
        query = Query()
        if self.peek() and not self.keyword("order", "limit", "offset"):
            query.condition = self.parse_or()
        if self.keyword("order"):
            self.take()
            self.expect("by")
            query.order.append(self.order_key())
            while self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                query.order.append(self.order_key())
        if self.keyword("limit"):
            self.take()
            query.limit = int(self.take().text)
        if self.keyword("offset"):
            self.take()
            query.offset = int(self.take().text)
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek().text!r}")  # type: ignore[union-attr]
        return query

    def order_key(self) -> tuple[str, bool]:
        name = self.field_name()
        ascending = False  # kintone's default direction is descending
        if self.keyword("asc", "desc"):
            ascending = self.take().text.lower() == "asc"
        return name, ascending

    def field_name(self) -> str:
        token = self.take()
        if token.kind != "word" or token.text.lower() in KEYWORDS:
            raise QueryError(f"expected a field code, got {token.text!r}")
        return token.text

    def parse_or(self) -> Any:
        node = self.parse_and()
        while self.keyword("or"):
            self.take()
            node = ("or", node, self.parse_and())
        return node

    def parse_and(self) -> Any:
        node = self.parse_atom()
        while self.keyword("and"):
            self.take()
            node = ("and", node, self.parse_atom())
        return node

    def parse_atom(self) -> Any:
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            node = self.parse_or()
            self.expect(")")
            return node
        name = self.field_name()
        negate = False
        if self.keyword("not"):
            self.take()
            negate = True
        if self.keyword("in"):
            self.take()
            return ("in", name, self.value_list(), negate)
        if self.keyword("like"):
            self.take()
            return ("like", name, self.literal(), negate)
        if negate:
            raise QueryError("'not' must be followed by 'in' or 'like'")
        op = self.take()
        if op.kind != "op":
            raise QueryError(f"expected an operator after {name}, got {op.text!r}")
        return ("cmp", name, op.text, self.literal())

    def literal(self) -> str:
        token = self.take()
        if token.kind not in ("str", "num"):
            raise QueryError(f"expected a value, got {token.text!r}")
        return token.value

    def value_list(self) -> list[str]:
        self.expect("(")
        values = [self.literal()]
        while self.peek() and self.peek().text == ",":  # type: ignore[union-attr]
            self.take()
            values.append(self.literal())
        self.expect(")")
        return values


def parse(text: str) -> Query:
    return _Parser(text or "").parse()


def _collect_fields(node: Any, names: set[str]) -> None:
    if node is None:
        return
    if node[0] in ("and", "or"):
        _collect_fields(node[1], names)
        _collect_fields(node[2], names)
    else:
        names.add(node[1])


def matcher(node: Any, types: dict[str, str]) -> Callable[[dict[str, Any]], bool]:
    """A predicate over plain records (``{code: value}``) for a parsed condition."""
    if node is None:
        return lambda record: True
    kind = node[0]
    if kind in ("and", "or"):
        left, right = matcher(node[1], types), matcher(node[2], types)
        if kind == "and":
            return lambda record: left(record) and right(record)
        return lambda record: left(record) or right(record)
    name = node[1]
    key = _sort_key_for(types.get(name, "SINGLE_LINE_TEXT"))
    if kind == "in":
        wanted = {key(v) for v in node[2]}
        negate = node[3]
        return lambda record: (key(record.get(name)) in wanted) != negate
    if kind == "like":
        needle, negate = node[2].lower(), node[3]
        return lambda record: (needle in str(record.get(name) or "").lower()) != negate
    op, target = node[2], key(node[3])
    compare = _COMPARE[op]
    return lambda record: _safe(compare, key(record.get(name)), target)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


def _safe(compare: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    if a is None or b is None:
        return compare is _COMPARE["!="] and a != b
    try:
        return compare(a, b)
    except TypeError:
        return False


def _sort_key_for(field_type: str) -> Callable[[Any], Any]:
    if field_type in NUMERIC_TYPES:
        return _decimal
    if field_type in TIME_TYPES:
        return _instant
    return lambda value: "" if value is None else str(value)


def sort_key(field_type: str) -> Callable[[Any], Any]:
    """A key for ``order by`` that puts empty values first."""
    key = _sort_key_for(field_type)

    def wrapped(value: Any) -> tuple[int, Any]:
        converted = key(value)
        return (0, "") if converted is None else (1, converted)
    return wrapped


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None
