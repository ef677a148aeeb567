"""Placeholders of URL and body templates (SPEC HT-1, HT-2), and how each is encoded.

The names are those of BIZTEL's カスタム連携 (``{TEL} {TELNAME} {CALLED} {CALLEDNAME} {COMPANY}
{NAME} {ID} {EXT} {AID} {DATE-YYYY} … {DATE-SS}``) plus ours (``{CALLSID} {DIRECTION}
{DURATION} {RESULT} {NOTE} {RECORDING_URL}``), ``{SID}`` (the session an auth template
returned) and ``{SECRET:<key>}`` (a value of the adapter's ``secrets`` table, never logged).

A value is encoded for the place it lands in: percent-encoded in a URL (UTF-8, or Shift_JIS for
CRMs that want it), JSON-escaped in a JSON body, left as it is in a form field (``requests``
encodes forms). Pure functions; no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from urllib.parse import quote

#: The placeholders a template may use (``{SECRET:<key>}`` comes on top).
NAMES = ("TEL", "TELNAME", "CALLED", "CALLEDNAME", "COMPANY", "NAME", "ID", "EXT", "AID",
         "DATE-YYYY", "DATE-MM", "DATE-DD", "DATE-HH", "DATE-II", "DATE-SS",
         "CALLSID", "DIRECTION", "DURATION", "RESULT", "NOTE", "RECORDING_URL", "SID")

#: HT-2 (CloudCallCenter's pop-up URLs): ``@@@@`` stands for the caller's number.
CALLER_MARK = "@@@@"

Where = Literal["url", "json", "form", "raw"]

_TOKEN = re.compile(r"\{(SECRET:[A-Za-z0-9_\-]+|[A-Z][A-Z_\-]*)\}")


class TemplateError(ValueError):
    """A template uses an unknown placeholder or cannot be rendered."""


def unknown_placeholders(template: str, secrets: Mapping[str, object] = ()) -> list[str]:
    """Placeholders in ``template`` that are neither known names nor configured secrets."""
    unknown = []
    for match in _TOKEN.finditer(template):
        token = match.group(1)
        if token.startswith("SECRET:"):
            if token[7:] not in secrets:
                unknown.append(match.group(0))
        elif token not in NAMES:
            unknown.append(match.group(0))
    return unknown


def date_values(moment: datetime) -> dict[str, str]:
    """``{DATE-*}`` of ``moment`` (already in the deployment's time zone)."""
    return {"DATE-YYYY": f"{moment.year:04d}", "DATE-MM": f"{moment.month:02d}",
            "DATE-DD": f"{moment.day:02d}", "DATE-HH": f"{moment.hour:02d}",
            "DATE-II": f"{moment.minute:02d}", "DATE-SS": f"{moment.second:02d}"}


def encode(value: str, where: Where, charset: str = "utf-8") -> str:
    """``value`` as it must appear in a template rendered for ``where``."""
    if where == "url":
        # safe="": "&", "=", "/", "?" and "#" inside a value must not change the URL's shape.
        return quote(value, safe="", encoding=charset, errors="strict")
    if where == "json":
        return json.dumps(value, ensure_ascii=False)[1:-1]
    return value


def render(template: str, values: Mapping[str, str], where: Where, *,
           secrets: Mapping[str, str] | None = None, charset: str = "utf-8") -> str:
    """Replace every placeholder of ``template``; unknown ones raise :class:`TemplateError`.

    Placeholders without a value (no customer name yet, no recording) become empty text.
    """
    secrets = secrets or {}

    def replace(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("SECRET:"):
            if token[7:] not in secrets:
                raise TemplateError(f"{match.group(0)}: no such key in the secrets table")
            value = secrets[token[7:]]
        elif token in NAMES:
            value = values.get(token, "")
        else:
            raise TemplateError(f"{match.group(0)}: unknown placeholder")
        try:
            return encode(str(value), where, charset)
        except UnicodeEncodeError as exc:
            raise TemplateError(f"{match.group(0)}: cannot be encoded in {charset}") from exc

    return _TOKEN.sub(replace, template)


def render_url(template: str, values: Mapping[str, str], *,
               secrets: Mapping[str, str] | None = None, charset: str = "utf-8") -> str:
    """A URL template rendered with each value percent-encoded, ``@@@@`` included."""
    caller = encode(values.get("TEL", ""), "url", charset)
    return render(template, values, "url", secrets=secrets,
                  charset=charset).replace(CALLER_MARK, caller)


def render_json(template: str, values: Mapping[str, str], *,
                secrets: Mapping[str, str] | None = None) -> object:
    """A JSON body template rendered with JSON-escaped values, parsed (so it is valid JSON)."""
    text = render(template, values, "json", secrets=secrets)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"the JSON body is not valid JSON once rendered: {exc}") from exc


def render_form(template: str, values: Mapping[str, str], *,
                secrets: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """A form body template (``tel={TEL}&name={NAME}``) as fields, each value rendered raw.

    The template is split on ``&`` and ``=`` *before* rendering, so a ``&`` in a note stays
    inside its field.
    """
    fields = []
    for part in template.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        fields.append((key, render(value, values, "form", secrets=secrets)))
    return fields
