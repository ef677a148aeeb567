"""The TOML form of a flow: read with line numbers for messages, written canonically.

``dump(load(text))`` is the canonical text the database keeps and ``cti flow export``
prints: fields in the kinds' order, maps as inline tables, schedule rules as
``[[nodes.<id>.rules]]``. It is stable — export, import elsewhere, export again gives the
same bytes — which is what lets admins keep flows in git.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from typing import Any

from voice.flows.check import Known, check
from voice.flows.model import FLOW_FIELDS, KINDS, Flow, FlowError, Problem, parse_flow

_HEADER = re.compile(r"^\s*\[\[?\s*(flow|nodes)\s*(?:\.\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+))?")
_TOML_LINE = re.compile(r"at line (\d+)")


def node_lines(text: str) -> dict[str, int]:
    """The first line of ``[flow]`` (key ``""``) and of each ``[nodes.<id>…]`` table."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _HEADER.match(line)
        if not match:
            continue
        key = "" if match[1] == "flow" else (match[2] or "").strip("\"'")
        if match[1] == "nodes" and not key:
            continue
        lines.setdefault(key, number)
    return lines


def load(text: str, known: Known | None = None) -> Flow:
    """Parse and check a flow's TOML.

    Raises:
        FlowError: TOML syntax (with its line), wrong fields, or what :func:`check` finds.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        raise FlowError([Problem("", "", f"not valid TOML: {exc}",
                                 int(match[1]) if match else None)]) from None
    lines = node_lines(text)
    flow = parse_flow(data, lines)
    problems = check(flow, lines, known)
    if problems:
        raise FlowError(problems)
    return flow


def to_data(flow: Flow) -> dict[str, Any]:
    """The plain data :func:`voice.flows.model.parse_flow` reads back as ``flow``."""
    head = {name: getattr(flow, name) for name in FLOW_FIELDS}
    head = {k: v for k, v in head.items() if v or k in ("name", "entry")}
    nodes = {}
    for node in flow.nodes.values():
        table: dict[str, Any] = {"kind": node.kind}
        for name in KINDS[node.kind]:
            if name not in node.fields:
                continue
            value = node.fields[name]
            if name == "rules":
                value = [rule.to_table() for rule in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            table[name] = value
        nodes[node.id] = table
    return {"flow": head, "nodes": nodes}


def dump(flow: Flow) -> str:
    """The canonical TOML text of ``flow``."""
    data = to_data(flow)
    out = ["[flow]"]
    out += [f"{key} = {_value(value)}" for key, value in data["flow"].items()]
    for node_id, table in data["nodes"].items():
        out += ["", f"[nodes.{_key(node_id)}]"]
        rules = table.pop("rules", None)
        out += [f"{_key(key)} = {_value(value)}" for key, value in table.items()]
        for rule in rules or ():
            out += ["", f"[[nodes.{_key(node_id)}.rules]]"]
            out += [f"{key} = {_value(value)}" for key, value in rule.items()]
    return "\n".join(out) + "\n"


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string (same escapes), Japanese kept as is.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(str(k))} = {_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
