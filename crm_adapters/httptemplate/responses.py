"""Reading what a CRM answered to a search or auth template (SPEC HT-1).

Two formats:

- **text** (BIZTEL's レスポンスフォーマット): a template such as ``{NAME}{CRLF}{COMPANY}`` or
  ``{ID},{NAME},{COMPANY}{LF}``. ``{CRLF}``, ``{CR}`` and ``{LF}`` stand for line breaks; any
  other text is matched literally. The template is matched repeatedly, so a response with one
  line per customer yields several customers. Two fields with nothing between them (``{NAME}
  {COMPANY}`` written without a separator, as in BIZTEL's own example) are taken to be on
  separate lines — UNVERIFIED: BIZTEL does not document it; change ``_ADJACENT`` if a CRM
  proves otherwise.
- **json**: ``items_path`` (dotted, e.g. ``data.customers``; empty: the top level, a list or one
  object) and a dotted path per field.

Bodies are decoded by their declared charset, else UTF-8, else Shift_JIS (cp932, the Windows
superset Japanese CRMs actually send).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

#: The fields a response template may hold.
FIELDS = ("NAME", "COMPANY", "SID", "ID", "URL")
_BREAKS = {"CRLF": "\r\n", "CR": "\r", "LF": "\n"}
_TOKEN = re.compile(r"\{([A-Z]+)\}")
#: What separates two fields written next to each other (see the module docstring).
_ADJACENT = r"(?:\r\n|\r|\n)"


class ResponseFormatError(ValueError):
    """A response template or JSON path is malformed, or a body does not fit it."""


def check_text_format(template: str) -> None:
    """Raise :class:`ResponseFormatError` naming the first unknown placeholder."""
    for match in _TOKEN.finditer(template):
        if match.group(1) not in FIELDS and match.group(1) not in _BREAKS:
            known = ", ".join("{" + f + "}" for f in (*FIELDS, *_BREAKS))
            raise ResponseFormatError(f"{match.group(0)}: unknown placeholder (known: {known})")
    if not any(m.group(1) in FIELDS for m in _TOKEN.finditer(template)):
        raise ResponseFormatError("holds no field ({NAME}, {COMPANY}, {SID}, {ID} or {URL})")


def text_pattern(template: str) -> re.Pattern[str]:
    """The regular expression a text response template stands for."""
    check_text_format(template)
    # A trailing line break ends a record; the last record of a body may lack it.
    template = re.sub(r"(\{(CRLF|CR|LF)\})+$", "", template)
    parts: list[str] = []
    previous_field = False
    position = 0
    seen: set[str] = set()
    for match in _TOKEN.finditer(template):
        literal = template[position:match.start()]
        position = match.end()
        name = match.group(1)
        if literal:
            parts.append(re.escape(literal))
            previous_field = False
        if name in _BREAKS:
            parts.append(re.escape(_BREAKS[name]))
            previous_field = False
            continue
        if previous_field:
            parts.append(_ADJACENT)
        group = name if name not in seen else f"{name}_{len(seen)}"
        seen.add(name)
        parts.append(f"(?P<{group}>[^\r\n]*?)")
        previous_field = True
    tail = template[position:]
    if tail:
        parts.append(re.escape(tail))
    # Every match ends at a line end or at the end of the body, so a lazy field takes the line.
    return re.compile("".join(parts) + r"(?=\r\n|\r|\n|$)")


def parse_text(body: str, template: str) -> list[dict[str, str]]:
    """Every record the body holds, as ``{"NAME": …, "COMPANY": …}`` (stripped)."""
    pattern = text_pattern(template)
    records = []
    position = 0
    while position <= len(body):
        match = pattern.match(body, position)
        if match is None:
            # Skip to the next line and try again (blank lines, a header line).
            nxt = re.compile(r"\r\n|\r|\n").search(body, position)
            if nxt is None:
                break
            position = nxt.end()
            continue
        record = {k.split("_")[0]: v.strip() for k, v in match.groupdict().items()
                  if v is not None}
        if any(record.values()):
            records.append(record)
        position = match.end()
        if position < len(body) and body.startswith("\r\n", position):
            position += 2
        elif position < len(body) and body[position] in "\r\n":
            position += 1
        elif match.end() == match.start():
            position += 1
        if position >= len(body):
            break
    return records


def dotted(data: Any, path: str) -> Any:
    """``data["a"]["b"][0]`` for ``"a.b.0"``; ``None`` where the path does not exist."""
    node = data
    for part in [p for p in path.split(".") if p]:
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def parse_json(body: str, items_path: str, fields: Mapping[str, str]) -> list[dict[str, str]]:
    """Records from a JSON body: the items at ``items_path``, each field at its dotted path."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ResponseFormatError(f"the response is not JSON: {exc.msg}") from exc
    items = dotted(data, items_path) if items_path else data
    if items is None:
        return []
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        raise ResponseFormatError(f"{items_path or 'the response'} is not a list or an object")
    records = []
    for item in items:
        record = {}
        for name, path in fields.items():
            value = dotted(item, path)
            record[name.upper()] = "" if value is None else str(value)
        records.append(record)
    return records


def decode(content: bytes, declared: str | None) -> str:
    """Text of a response body: the declared charset, else UTF-8, else Shift_JIS (cp932)."""
    if declared:
        charset = declared.lower().replace("_", "-")
        if charset in ("shift-jis", "sjis", "x-sjis", "windows-31j", "ms932"):
            charset = "cp932"
        try:
            return content.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp932", errors="replace")
