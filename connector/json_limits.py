"""Bounds on the JSON we accept: how large and how deeply nested a document or a field may be.

Python's ``json`` parser recurses once per nesting level, so a few kilobytes of ``[[[[…`` raise
``RecursionError`` — not ``ValueError`` — and ended as a 500 with a traceback (issue 17). The
depth is therefore measured by a linear scan *before* parsing, and parsed values (API fields
that are objects or lists) are measured again, so every refusal names its field. Flask-free.
"""

from __future__ import annotations

import json
from typing import Any

#: Deepest nesting of a request body (the body object itself is level 1).
MAX_BODY_DEPTH = 12
#: Deepest nesting of one object/list field inside a body.
MAX_FIELD_DEPTH = 8
#: Largest object/list field, as compact JSON.
MAX_FIELD_BYTES = 64 * 1024


class JSONTooComplex(ValueError):
    """The text or value is too large or too deeply nested; ``reason`` is ``"too_deep"`` or
    ``"too_large"``."""

    def __init__(self, reason: str, limit: int) -> None:
        super().__init__(f"{reason} (limit {limit})")
        self.reason = reason
        self.limit = limit


def text_depth(text: str | bytes) -> int:
    """The deepest ``[``/``{`` nesting of a JSON text, brackets inside strings ignored."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def value_depth(value: Any, limit: int) -> int:
    """The nesting of a parsed value; stops counting (and returns ``limit + 1``) past ``limit``,
    so a hostile value cannot make this recurse deeply either."""
    def walk(item: Any, level: int) -> int:
        if level > limit:
            return level
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            return level - 1
        return max((walk(child, level + 1) for child in children), default=level)
    return walk(value, 1)


def loads_bounded(text: str | bytes, *, max_bytes: int, max_depth: int) -> Any:
    """``json.loads`` for untrusted text: :class:`JSONTooComplex` instead of a deep recursion.

    Raises:
        JSONTooComplex: longer than ``max_bytes`` or nested deeper than ``max_depth``.
        ValueError: not JSON.
    """
    size = len(text.encode("utf-8")) if isinstance(text, str) else len(text)
    if size > max_bytes:
        raise JSONTooComplex("too_large", max_bytes)
    if text_depth(text) > max_depth:
        raise JSONTooComplex("too_deep", max_depth)
    return json.loads(text)


def check_value(value: Any, *, max_bytes: int = MAX_FIELD_BYTES,
                max_depth: int = MAX_FIELD_DEPTH) -> None:
    """Refuse a parsed object/list field that is too deep or too large."""
    if value_depth(value, max_depth) > max_depth:
        raise JSONTooComplex("too_deep", max_depth)
    if len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()) > max_bytes:
        raise JSONTooComplex("too_large", max_bytes)
