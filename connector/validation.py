"""Request-body checks that name the offending field."""

from __future__ import annotations

from typing import Any

from flask import request

from .errors import APIError


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise APIError(400, "invalid_body", "the request body must be a JSON object "
                                            "(Content-Type: application/json)")
    return data


def fields(data: dict[str, Any], required: dict[str, type],
           optional: dict[str, type] | None = None) -> dict[str, Any]:
    """Pick typed fields from ``data``; unknown, missing or mistyped fields give one 422."""
    optional = optional or {}
    problems: dict[str, str] = {}
    for name in data:
        if name not in required and name not in optional:
            problems[name] = "unknown field"
    out: dict[str, Any] = {}
    for name, kind in {**required, **optional}.items():
        if name not in data or data[name] is None:
            if name in required:
                problems[name] = "required"
            continue
        value = data[name]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            problems[name] = f"must be {_type_name(kind)}"
            continue
        if kind is str and name in required and not value.strip():
            problems[name] = "must not be empty"
            continue
        out[name] = value
    if problems:
        raise APIError(422, "invalid_fields", "some fields are missing or invalid",
                       {"fields": problems})
    return out


def _type_name(kind: type) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", list: "a list",
            dict: "an object"}.get(kind, kind.__name__)
