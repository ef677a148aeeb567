"""Call lists from CSV, as Japanese users export them from Excel.

* Encodings: UTF-8 with or without BOM, Shift_JIS/CP932 (Excel's 「CSV」), UTF-16 (Excel's
  「Unicode テキスト」); tried in that order.
* Comma or tab separated (the first non-empty line decides), a header row or none.
* Column mapping: each field (``phone`` is required; ``name``, ``company``, ``crm_id``,
  ``note`` and any other name, kept as extra fields) names a header cell or a 1-based column
  number. Without a mapping, headers such as 電話番号 / 氏名 / 会社名 are recognised, and a
  file without header has the phone number in column 1 and the name in column 2.
* Each row is checked: the number parses (:mod:`voice.numbering`), the injected ``check``
  (the CF-12 rules, the restriction and block lists, do-not-call marks) lets it be dialed, and
  its normalised number is not already in the file or the campaign. Every rejected row is
  reported with its line (1-based, header included) and reason.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from voice import numbering
from voice.numbering import Destination, NumberError

#: Fields with a meaning of their own; any other mapped name is kept in ``extra``.
KNOWN_FIELDS = ("phone", "name", "company", "crm_id", "note")
HEADER_NAMES = {
    "phone": ("電話番号", "電話", "tel", "phone", "phonenumber", "number", "携帯", "携帯番号"),
    "name": ("氏名", "名前", "顧客名", "お名前", "name", "customer"),
    "company": ("会社名", "会社", "企業名", "法人名", "company"),
    "crm_id": ("顧客id", "crmid", "id", "顧客番号"),
    "note": ("備考", "メモ", "note", "notes", "memo"),
}
MAX_ROWS = 200_000
MAX_CELL = 500

#: A refusal from the injected check: (code, message_ja, message_en).
Refusal = tuple[str, str, str]
Check = Callable[[Destination], Refusal | None]


@dataclass(frozen=True)
class Row:
    line: int
    e164: str
    display: str
    name: str = ""
    company: str = ""
    crm_id: str = ""
    note: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejected:
    line: int
    code: str
    message_ja: str
    message_en: str
    value: str = ""
    record: str = ""  # a CRM list's record id ("" for a file's row)

    def public(self) -> dict[str, Any]:
        found = {"line": self.line, "code": self.code, "value": self.value,
                 "message_ja": self.message_ja, "message_en": self.message_en}
        return {**found, "record": self.record} if self.record else found


@dataclass(frozen=True)
class ParsedList:
    rows: tuple[Row, ...]
    rejected: tuple[Rejected, ...]
    header: tuple[str, ...] | None
    encoding: str
    delimiter: str


class ListError(ValueError):
    """The file as a whole cannot be read (encoding, mapping); ``field`` names what to fix."""

    def __init__(self, code: str, message_ja: str, message_en: str, field: str = "file"
                 ) -> None:
        super().__init__(message_en)
        self.code, self.message_ja, self.message_en, self.field = (code, message_ja,
                                                                    message_en, field)


def parse_call_list(data: bytes, *, mapping: Mapping[str, str | int] | None = None,
                    has_header: bool | None = None, check: Check | None = None,
                    existing: Collection[str] = ()) -> ParsedList:
    """Read and check a call list; see the module docstring.

    Args:
        data: The file's bytes.
        mapping: field → header text or 1-based column; None: recognised headers, or
            column 1 = phone, 2 = name.
        has_header: None: decide from the first row (a header has no number where the
            phone column is).
        check: Whether a number may be dialed; None: every valid number may.
        existing: E.164 numbers already in the campaign (duplicates of them are rejected).

    Raises:
        ListError: Undecodable, empty, too long, or a mapping that names a missing column.
    """
    text, encoding = _decode(data)
    delimiter = _delimiter(text)
    rows = _split(text, delimiter)
    if not any(_cells(r) for r in rows):
        raise ListError("empty_file", "ファイルにデータがありません。", "The file has no rows.")
    if len(rows) > MAX_ROWS:
        raise ListError("too_many_rows", f"行数が多すぎます（{MAX_ROWS:,} 行まで）。",
                        f"Too many rows (at most {MAX_ROWS:,}).")
    first = next(i for i, r in enumerate(rows) if _cells(r))
    header_row = rows[first]
    if has_header is None:
        has_header = _looks_like_header(header_row, mapping)
    columns = _columns(mapping, header_row if has_header else None)
    body_start = first + 1 if has_header else first
    accepted, rejected = _check_rows(rows, body_start, columns, check, set(existing))
    return ParsedList(tuple(accepted), tuple(rejected),
                      tuple(c.strip() for c in header_row) if has_header else None,
                      encoding, "tab" if delimiter == "\t" else "comma")


def check_records(records: Sequence[Mapping[str, str]], *, check: Check | None = None,
                  existing: Collection[str] = ()) -> tuple[list[Row], list[Rejected]]:
    """Check a call list read from a CRM as a file's rows are checked.

    Args:
        records: One mapping per record, in the CRM's order: ``phone``, ``name``,
            ``company``, ``crm_id`` (the record id, named in every rejection).

    Returns:
        The accepted rows and the rejected ones; ``line`` is the record's position from 1.
    """
    names = list(KNOWN_FIELDS)
    rows = [[str(record.get(name) or "") for name in names] for record in records]
    accepted, rejected = _check_rows(rows, 0, {n: i for i, n in enumerate(names)}, check,
                                     set(existing), keep_empty=True)
    ids = {i + 1: row[names.index("crm_id")] for i, row in enumerate(rows)}
    return accepted, [replace(r, record=ids.get(r.line, "")) for r in rejected]


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = ("utf-8-sig", "cp932")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        name = {"utf-8-sig": "utf-8-bom" if data.startswith(b"\xef\xbb\xbf") else "utf-8"}
        return text, name.get(encoding, encoding)
    raise ListError("undecodable", "文字コードを判別できません（UTF-8 または Shift_JIS で保存して"
                    "ください）。", "The file is neither UTF-8 nor Shift_JIS (CP932); save it "
                    "as one of them.")


def _delimiter(text: str) -> str:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return "\t" if first_line.count("\t") > first_line.count(",") else ","


def _split(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
    except csv.Error:
        line = len(rows) + 1
        raise ListError("csv_syntax", f"{line}行目以降の CSV の形式が正しくありません（引用符の"
                        "閉じ忘れなど）。", f"The CSV is malformed from line {line} on (an "
                        "unclosed quote?).") from None
    return rows


def _cells(row: list[str]) -> list[str]:
    return [c for c in row if c.strip()]


def _header_key(cell: str) -> str:
    return re.sub(r"[\s_\-・]+", "", cell).lower()


def _looks_like_header(row: list[str], mapping: Mapping[str, str | int] | None) -> bool:
    if mapping and any(isinstance(v, str) for v in mapping.values()):
        return True
    phone_column = 0
    if mapping and isinstance(mapping.get("phone"), int):
        phone_column = int(mapping["phone"]) - 1
    cell = row[phone_column] if phone_column < len(row) else ""
    try:
        numbering.parse_destination(cell)
    except NumberError:
        return True
    return False


def _columns(mapping: Mapping[str, str | int] | None, header: list[str] | None
             ) -> dict[str, int]:
    keys = [_header_key(c) for c in header] if header is not None else []
    if not mapping:
        found = {name: keys.index(_header_key(alias))
                 for name, aliases in HEADER_NAMES.items()
                 for alias in reversed(aliases) if _header_key(alias) in keys}
        if header is not None and "phone" not in found:
            raise ListError("no_phone_column", "電話番号の列が見つかりません。mapping.phone で列を"
                            "指定してください。", "No phone number column; name it in "
                            "mapping.phone.", "mapping.phone")
        return found or {"phone": 0, "name": 1}
    columns: dict[str, int] = {}
    for name, where in mapping.items():
        place = f"mapping.{name}"
        if isinstance(where, bool) or not isinstance(where, int | str):
            raise ListError("invalid_mapping", "見出しの文字か列番号（1〜）で指定してください。",
                            "a header text or a column number (from 1)", place)
        if isinstance(where, int):
            if where < 1:
                raise ListError("invalid_mapping", "列番号は 1 以上です。",
                                "column numbers start at 1", place)
            columns[name] = where - 1
        elif _header_key(where) in keys:
            columns[name] = keys.index(_header_key(where))
        else:
            raise ListError("unknown_column", f"見出し「{where}」の列がありません。",
                            f"no column headed {where!r}", place)
    if "phone" not in columns:
        raise ListError("required", "電話番号の列（mapping.phone）は必須です。",
                        "mapping.phone is required", "mapping.phone")
    return columns


def _check_rows(rows: list[list[str]], start: int, columns: Mapping[str, int],
                check: Check | None, seen_before: set[str], keep_empty: bool = False
                ) -> tuple[list[Row], list[Rejected]]:
    accepted: list[Row] = []
    rejected: list[Rejected] = []
    first_line: dict[str, int] = {}
    for index in range(start, len(rows)):
        row, line = rows[index], index + 1
        if not _cells(row) and not keep_empty:  # a blank line of a file; a record is reported
            continue
        values = {name: row[col].strip()[:MAX_CELL] if col < len(row) else ""
                  for name, col in columns.items()}
        refusal = _refusal(values["phone"], check)
        if isinstance(refusal, Rejected):
            rejected.append(replace(refusal, line=line))
            continue
        destination = refusal
        e164 = destination.e164 or destination.dial_string
        if e164 in seen_before:
            rejected.append(Rejected(line, "duplicate", "このキャンペーンに登録済みの番号です。",
                                     "already in this campaign", values["phone"]))
            continue
        if e164 in first_line:
            earlier = first_line[e164]
            rejected.append(Rejected(line, "duplicate", f"{earlier}行目と同じ番号です。",
                                     f"same number as line {earlier}", values["phone"]))
            continue
        first_line[e164] = line
        accepted.append(Row(line, e164, destination.display, values.get("name", ""),
                            values.get("company", ""), values.get("crm_id", ""),
                            values.get("note", ""),
                            {k: v for k, v in values.items() if k not in KNOWN_FIELDS}))
    return accepted, rejected


def _refusal(value: str, check: Check | None) -> Destination | Rejected:
    try:
        destination = numbering.parse_destination(value)
    except NumberError as exc:
        return Rejected(0, exc.code, exc.message_ja, exc.message_en, value)
    if destination.e164 is None:
        return Rejected(0, "short_code", "短縮番号には発信できません。",
                        "short codes cannot be called by a campaign", value)
    found = check(destination) if check else None
    if found is not None:
        return Rejected(0, *found, value)
    return destination
