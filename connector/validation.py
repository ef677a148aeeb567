"""Request-body checks that name the offending field (in the reader's language:
:mod:`connector.messages`)."""

from __future__ import annotations

from typing import Any

from flask import request

from . import json_limits
from .errors import APIError
from .messages import Text, localized

NOT_AN_OBJECT = Text("リクエストの本文は JSON オブジェクトにしてください"
                     "（Content-Type: application/json）。",
                     "The request body must be a JSON object (Content-Type: application/json).")
FIELDS_INVALID = Text("入力内容を確認してください: {fields}", "Some fields are missing or invalid: "
                                                         "{fields}")
UNKNOWN_FIELD = Text("この項目はありません", "unknown field")
REQUIRED = Text("必須です", "required")
EMPTY = Text("空にはできません", "must not be empty")
BODY_TOO_DEEP = Text("リクエストの本文の入れ子が深すぎます（{limit} 段まで）。",
                     "The request body is nested too deeply (at most {limit} levels).")
TOO_DEEP = Text("入れ子が深すぎます（{limit} 段まで）",
                "nested too deeply (at most {limit} levels)")
TOO_LARGE = Text("大きすぎます（{limit:,} バイトまで）", "too large (at most {limit:,} bytes)")
_TYPES = {str: Text("文字列で指定してください", "must be a string"),
          int: Text("整数で指定してください", "must be an integer"),
          bool: Text("true か false で指定してください", "must be true or false"),
          list: Text("リストで指定してください", "must be a list"),
          dict: Text("オブジェクトで指定してください", "must be an object")}


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it.

    The nesting is measured before parsing (:mod:`connector.json_limits`): a deeply nested
    body would otherwise end in a ``RecursionError`` inside the parser.
    """
    if request.is_json and json_limits.text_depth(
            request.get_data(cache=True)) > json_limits.MAX_BODY_DEPTH:
        raise APIError(400, "invalid_body", BODY_TOO_DEEP.format(
            limit=json_limits.MAX_BODY_DEPTH))
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise APIError(400, "invalid_body", NOT_AN_OBJECT)
    return data


def fields(data: dict[str, Any], required: dict[str, type],
           optional: dict[str, type] | None = None) -> dict[str, Any]:
    """Pick typed fields from ``data``; unknown, missing or mistyped fields give one 422."""
    optional = optional or {}
    problems: dict[str, Text] = {}
    codes: dict[str, str] = {}

    def problem(name: str, code: str, text: Text) -> None:
        problems[name], codes[name] = text, code

    for name in data:
        if name not in required and name not in optional:
            problem(name, "unknown_field", UNKNOWN_FIELD)
    out: dict[str, Any] = {}
    for name, kind in {**required, **optional}.items():
        if name not in data or data[name] is None:
            if name in required:
                problem(name, "required", REQUIRED)
            continue
        value = data[name]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            problem(name, "wrong_type", _TYPES.get(kind, Text(kind.__name__, kind.__name__)))
            continue
        if kind is str and name in required and not value.strip():
            problem(name, "empty", EMPTY)
            continue
        if kind in (dict, list):
            try:
                json_limits.check_value(value)
            except json_limits.JSONTooComplex as exc:
                problem(name, exc.reason, (TOO_DEEP if exc.reason == "too_deep"
                                           else TOO_LARGE).format(limit=exc.limit))
                continue
        out[name] = value
    if problems:
        raise invalid_fields(problems, codes)
    return out


def invalid_fields(problems: dict[str, Text], codes: dict[str, str] | None = None, *,
                   code: str = "invalid_fields") -> APIError:
    """422 ``code``: the message lists every field with its problem; ``details`` has ``fields``
    (field → problem in the reader's language) and, if given, ``codes`` (field → stable code)."""
    listed = Text.join((Text(f"{name}: {text.ja}", f"{name}: {text.en}")
                        for name, text in problems.items()), "、", "; ")
    details: dict[str, Any] = {"fields": {name: localized(text)
                                          for name, text in problems.items()}}
    if codes:
        details["codes"] = codes
    return APIError(422, code, FIELDS_INVALID.format(fields=listed), details)
