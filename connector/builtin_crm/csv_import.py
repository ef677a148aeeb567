"""CSV import of built-in CRM customers, with a column mapping and a per-row report.

A mapping names which CSV column fills which customer field, e.g.
``name=氏名 phone=電話番号 phone=携帯 company=会社名 tags=タグ``; ``phone``, ``tags`` and ``notes``
may take several columns. Without a mapping the columns are recognised by their headers
(氏名, フリガナ, 会社名, 電話番号, 携帯, タグ, 備考 …).

Rules:

* UTF-8 (with or without BOM), Shift_JIS/CP932 (Japanese Excel) or UTF-16 with BOM; commas or
  tabs; the first non-blank row is the header; blank rows are skipped.
* Every row is checked like a customer entered by hand (:func:`model.parse_customer`). A bad row
  is reported — row number as a spreadsheet shows it, column, reason — and skipped; every other
  row is still imported.
* A number that an earlier row of the file, or an existing customer, already has is reported
  (``duplicate_in_file`` / ``duplicate_existing``) and the row skipped — customers are never
  merged silently. With ``allow_duplicates`` such rows are imported and the report warns.
* A dry run checks everything, database included, and writes nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from ..messages import Text
from . import store
from .model import MAX_LABEL, CustomerInput, Invalid, parse_customer, split_tags

TARGETS = ("name", "name_kana", "company", "phone", "tags", "notes")
REPEATABLE = frozenset({"phone", "tags", "notes"})
_ALIASES = {"kana": "name_kana", "furigana": "name_kana", "phones": "phone", "tel": "phone",
            "tag": "tags", "note": "notes", "memo": "notes"}

#: Header spellings recognised without a mapping (compared after :func:`_header_key`).
AUTO_HEADERS: dict[str, frozenset[str]] = {
    "name": frozenset({"name", "fullname", "customer", "氏名", "名前", "お名前", "顧客名",
                       "担当者名"}),
    "name_kana": frozenset({"kana", "furigana", "namekana", "フリガナ", "ふりがな", "カナ",
                            "氏名カナ", "氏名(カナ)", "氏名フリガナ", "よみがな"}),
    "company": frozenset({"company", "companyname", "organization", "会社名", "会社",
                          "法人名", "企業名", "勤務先"}),
    "phone": frozenset({"phone", "tel", "telephone", "mobile", "電話番号", "電話", "携帯",
                        "携帯電話", "携帯番号", "固定電話", "自宅電話", "会社電話"}),
    "tags": frozenset({"tags", "tag", "タグ", "分類", "区分"}),
    "notes": frozenset({"notes", "note", "memo", "メモ", "備考", "コメント"}),
}

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000

_EXCEL_TEXT = re.compile(r'^="(.*)"$')  # ="0312345678": Excel's way to keep a leading 0

TOO_LARGE = Text("ファイルが大きすぎます（上限 {limit} MB）。", "The file is too large (at most "
                                                         "{limit} MB).")
UNKNOWN_ENCODING = Text("文字コードを判別できません。UTF-8 か Shift_JIS の CSV で"
                        "保存してください。",
                        "Unknown character encoding: save the CSV as UTF-8 or Shift_JIS.")
EMPTY_FILE = Text("ファイルに行がありません。", "The file has no rows.")
TOO_MANY_ROWS = Text("行が多すぎます（上限 {limit} 行）。ファイルを分けてください。",
                     "Too many rows (at most {limit}); split the file.")
SAME_AS_ROW = Text("{row}行目と同じ電話番号です。", "The same phone number as row {row}.")
SAME_AS_CUSTOMER = Text("既存の顧客 {customers} と同じ電話番号です。",
                        "The same phone number as the existing customer {customers}.")
UNCLOSED_QUOTE = Text("引用符（\"）が閉じられていないため、この行から最後までを"
                      "読み込めませんでした。",
                      "A quote (\") is not closed, so this row and all after it could not be read.")
BAD_CSV_ROW = Text("この行の CSV の形式が正しくありません（引用符の位置など）。"
                   "この行は読み込みません。",
                   "This row is not valid CSV (a misplaced quote?); it is not read.")
MAP_SYNTAX = Text("{spec}: 項目=列名 の形で書いてください（例: name=氏名）",
                  "{spec}: write field=column, e.g. name=氏名")
MAP_UNKNOWN_FIELD = Text("{spec}: 項目 {field} はありません（項目: {fields}）",
                         "{spec}: unknown field {field} (fields: {fields})")
MAP_ONE_COLUMN = Text("{spec}: {field} には列を1つだけ指定できます",
                      "{spec}: {field} can take only one column")
MAP_NO_COLUMN = Text("{target}={name}: 見出し行に「{name}」という列がありません（列: {headers}）",
                     "{target}={name}: the header row has no column \"{name}\" (columns: "
                     "{headers})")
MAP_NO_NAME = Text("氏名の列を name=列名 で指定してください",
                   "Say which column holds the name: name=column")
NO_NAME_COLUMN = Text("氏名の列が見つかりません。name=列名 の形で対応を指定してください"
                      "（列: {headers}）",
                      "No column holds the name; map one with name=column (columns: {headers})")


@dataclass(frozen=True)
class Problem:
    """One problem of an import: ``row`` as a spreadsheet shows it (the header is row 1; 0 for
    the whole file), the CSV ``column`` it concerns, a stable ``code`` and the ``message``."""

    row: int
    column: str
    code: str
    message: Text
    value: str = ""

    def describe(self, language: str = "ja") -> str:
        """The problem in one line, e.g. ``4行目「電話番号」: … (値: 3-1234)``."""
        if language == "en":
            where = f"Row {self.row}" if self.row else "File"
            column = f', column "{self.column}"' if self.column else ""
            value = f" (value: {self.value})" if self.value else ""
        else:
            where = f"{self.row}行目" if self.row else "ファイル"
            column = f"「{self.column}」" if self.column else ""
            value = f" (値: {self.value})" if self.value else ""
        return f"{where}{column}: {self.message.get(language)}{value}"

    def to_dict(self, language: str = "ja") -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "code": self.code,
                "message": self.message.get(language), **self.message.both(),
                "value": self.value, "text": self.describe(language)}


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    dry_run: bool
    encoding: str = ""
    headers: tuple[str, ...] = ()
    mapping: dict[str, list[str]] = field(default_factory=dict)
    rows: int = 0
    imported: int = 0
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    customer_ids: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self, language: str = "ja") -> dict[str, Any]:
        """The report as JSON; messages in ``language`` (and both in ``message_ja/_en``)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["headers"], data["customer_ids"] = list(self.headers), list(self.customer_ids)
        data["skipped"] = self.rows - self.imported
        for key in ("errors", "warnings"):
            data[key] = [p.to_dict(language) for p in getattr(self, key)]
        return data


class MappingError(ValueError):
    """``--map`` specifications that cannot be used; ``problems`` lists each."""

    def __init__(self, problems: list[Text]) -> None:
        super().__init__("; ".join(p.en for p in problems))
        self.problems = problems


def parse_mapping(specs: Iterable[str]) -> dict[str, list[str]]:
    """``["name=氏名", "phone=電話番号", "phone=携帯"]`` → ``{"name": ["氏名"], "phone": [...]}``.

    Raises:
        MappingError: a spec without ``=``, an unknown field, or a single-column field twice.
    """
    mapping: dict[str, list[str]] = {}
    problems = []
    for spec in specs:
        target, sep, column = (part.strip() for part in spec.partition("="))
        target = _ALIASES.get(target.lower(), target.lower())
        if not sep or not column:
            problems.append(MAP_SYNTAX.format(spec=repr(spec)))
        elif target not in TARGETS:
            problems.append(MAP_UNKNOWN_FIELD.format(spec=repr(spec), field=repr(target),
                                                     fields=", ".join(TARGETS)))
        elif target in mapping and target not in REPEATABLE:
            problems.append(MAP_ONE_COLUMN.format(spec=repr(spec), field=target))
        else:
            mapping.setdefault(target, []).append(column)
    if problems:
        raise MappingError(problems)
    return mapping


def import_customers(conn: Connection, data: bytes, mapping: Sequence[str] = (), *,
                     now: datetime, dry_run: bool = False,
                     allow_duplicates: bool = False) -> ImportReport:
    """Import the customers of a CSV file inside the caller's transaction.

    Args:
        conn: an open connection; nothing is written in a dry run.
        data: the file's bytes.
        mapping: ``field=column`` specs (see :func:`parse_mapping`); empty to recognise the
            columns by their headers.
        now: the app's clock.
        dry_run: check everything, write nothing.
        allow_duplicates: import rows whose numbers exist already (and warn) instead of
            skipping them.
    """
    report = ImportReport(dry_run=dry_run)
    if len(data) > MAX_BYTES:
        return _failed(report, "too_large", TOO_LARGE.format(limit=MAX_BYTES // 2**20))
    decoded = _decode(data)
    if decoded is None:
        return _failed(report, "encoding", UNKNOWN_ENCODING)
    text, encoding = decoded
    rows, syntax = _split_rows(text)
    header_index = next((i for i, row in enumerate(rows) if _filled(row)), None)
    if header_index is None:
        return _failed(report, "empty", EMPTY_FILE, encoding=encoding)
    headers = tuple(cell.strip() for cell in rows[header_index])
    report = ImportReport(dry_run=dry_run, encoding=encoding, headers=headers)
    try:
        columns = _resolve(mapping, headers)
    except MappingError as error:
        return _failed(report, "mapping", *error.problems)
    body = [(number, row) for number, row in enumerate(rows[header_index + 1:], header_index + 2)
            if _filled(row)]
    if len(body) > MAX_ROWS:
        return _failed(report, "too_many_rows", TOO_MANY_ROWS.format(limit=MAX_ROWS))
    job = _Job(columns, headers, allow_duplicates)
    for number, row in body:
        job.read_row(number, row)
    job.check_existing(conn)
    ids = () if dry_run else tuple(store.create_customer(conn, customer, now)
                                   for _number, customer, _columns in job.accepted)
    errors = sorted(job.errors + syntax, key=lambda problem: problem.row)
    return ImportReport(
        dry_run=dry_run, encoding=encoding, headers=headers,
        mapping={target: [headers[i] for i in idx] for target, idx in columns.items()},
        rows=len(body), imported=len(job.accepted), errors=tuple(errors),
        warnings=tuple(job.warnings), customer_ids=ids)


class _Job:
    """The rows of one import, checked one by one and then against the database."""

    def __init__(self, columns: dict[str, list[int]], headers: tuple[str, ...],
                 allow_duplicates: bool) -> None:
        self.columns = columns
        self.headers = headers
        self.allow_duplicates = allow_duplicates
        # (row number, customer, the CSV column of each of its phone entries)
        self.accepted: list[tuple[int, CustomerInput, list[str]]] = []
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.first_row: dict[str, int] = {}  # E.164 → the accepted row that has it

    def read_row(self, number: int, row: list[str]) -> None:
        raw, phone_columns = self._raw(row)
        try:
            customer = parse_customer(raw)
        except Invalid as invalid:
            for path, message in invalid.problems.items():
                column = self._column_of(path, phone_columns)
                self.errors.append(Problem(number, column, invalid.codes[path], message,
                                           self._value_of(row, column)))
            return
        duplicates = [Problem(number, phone_columns[p.source], "duplicate_in_file",
                              SAME_AS_ROW.format(row=self.first_row[p.e164]), p.number)
                      for p in customer.phones if p.e164 in self.first_row]
        if not self._admit(duplicates):
            return
        for phone in customer.phones:
            self.first_row.setdefault(phone.e164, number)
        self.accepted.append((number, customer, phone_columns))

    def check_existing(self, conn: Connection) -> None:
        """Skip (or warn about) rows with a number an existing customer already has."""
        in_use = store.numbers_in_use(
            conn, (phone.e164 for _n, customer, _c in self.accepted for phone in customer.phones))
        kept = []
        for number, customer, phone_columns in self.accepted:
            duplicates = [
                Problem(number, phone_columns[phone.source], "duplicate_existing",
                        SAME_AS_CUSTOMER.format(customers="、".join(
                            f"「{c['name']}」(ID {c['id']})" for c in in_use[phone.e164])),
                        phone.number)
                for phone in customer.phones if phone.e164 in in_use]
            if self._admit(duplicates):
                kept.append((number, customer, phone_columns))
        self.accepted = kept

    def _admit(self, duplicates: list[Problem]) -> bool:
        if duplicates and not self.allow_duplicates:
            self.errors.extend(duplicates)
            return False
        self.warnings.extend(duplicates)
        return True

    def _raw(self, row: list[str]) -> tuple[dict[str, Any], list[str]]:
        """The row as :func:`parse_customer` input, and the column of each phone entry."""
        raw: dict[str, Any] = {}
        for target in ("name", "name_kana", "company"):
            if target in self.columns:
                raw[target] = _cell(row, self.columns[target][0])
        phones, phone_columns = [], []
        for index in self.columns.get("phone", []):
            value = _cell(row, index)
            if value:
                phones.append({"number": value, "label": self.headers[index][:MAX_LABEL]})
                phone_columns.append(self.headers[index])
        raw["phones"] = phones
        raw["tags"] = [tag for i in self.columns.get("tags", []) for tag in
                       split_tags(_cell(row, i))]
        raw["notes"] = "\n".join(v for i in self.columns.get("notes", [])
                                 if (v := _cell(row, i)))
        return raw, phone_columns

    def _column_of(self, path: str, phone_columns: list[str]) -> str:
        target = re.split(r"[\[.]", path)[0]
        if target == "phones" and path.startswith("phones["):
            return phone_columns[int(path[7:].split("]")[0])]
        target = {"phones": "phone"}.get(target, target)
        indexes = self.columns.get(target)
        return self.headers[indexes[0]] if indexes else ""

    def _value_of(self, row: list[str], column: str) -> str:
        if column in self.headers:
            return _cell(row, self.headers.index(column))[:100]
        return ""


def _resolve(specs: Sequence[str], headers: tuple[str, ...]) -> dict[str, list[int]]:
    """Column indexes per target, from ``specs`` or, without any, from the headers."""
    if not specs:
        return _auto_columns(headers)
    mapping = parse_mapping(specs)
    keys = [_header_key(h) for h in headers]
    columns: dict[str, list[int]] = {}
    problems = []
    for target, names in mapping.items():
        for name in names:
            if name in headers:
                columns.setdefault(target, []).append(headers.index(name))
            elif _header_key(name) in keys:
                columns.setdefault(target, []).append(keys.index(_header_key(name)))
            else:
                problems.append(MAP_NO_COLUMN.format(target=target, name=name,
                                                     headers=", ".join(h for h in headers if h)))
    if "name" not in mapping:
        problems.append(MAP_NO_NAME)
    if problems:
        raise MappingError(problems)
    return columns


def _auto_columns(headers: tuple[str, ...]) -> dict[str, list[int]]:
    columns: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        key = _header_key(header)
        for target, names in AUTO_HEADERS.items():
            if key in names and (target in REPEATABLE or target not in columns):
                columns.setdefault(target, []).append(index)
    if "name" not in columns:
        raise MappingError([NO_NAME_COLUMN.format(headers=", ".join(h for h in headers if h))])
    return columns


def _header_key(text: str) -> str:
    """Headers compared loosely: NFKC (full-width → half-width), no spaces, lower case."""
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s_\-・]+", "", folded).lower().replace("（", "(").replace("）", ")")


def _decode(data: bytes) -> tuple[str, str] | None:
    """The text and the encoding it was in: UTF-16 (BOM), UTF-8 (BOM or not), else CP932."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: tuple[tuple[str, str], ...] = (("utf-16", "utf-16"),)
    elif data.startswith(codecs.BOM_UTF8):
        candidates = (("utf-8-sig", "utf-8 (BOM)"),)
    else:
        candidates = (("utf-8", "utf-8"), ("cp932", "cp932"))
    for codec, name in candidates:
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            continue
    return None


def _split_rows(text: str) -> tuple[list[list[str]], list[Problem]]:
    """The file's records, and a problem for each malformed one (left as an empty row, so the
    numbering of the others stays as a spreadsheet shows it). Reading goes on after a bad row;
    only an unclosed quote swallows the rest of the file."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    dialect = csv.excel_tab if "\t" in first_line and "," not in first_line else csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect=dialect, strict=True)
    rows: list[list[str]] = []
    problems: list[Problem] = []
    while True:
        try:
            rows.append(next(reader))
        except StopIteration:
            return rows, problems
        except csv.Error as error:
            rows.append([])
            problems.append(Problem(len(rows), "", "csv_syntax", _syntax_message(str(error))))


def _syntax_message(error: str) -> Text:
    return UNCLOSED_QUOTE if "unexpected end of data" in error else BAD_CSV_ROW


def _filled(row: list[str]) -> bool:
    return any(cell.strip() for cell in row)


def _cell(row: list[str], index: int) -> str:
    value = row[index].strip() if index < len(row) else ""
    match = _EXCEL_TEXT.match(value)
    return match.group(1).strip() if match else value


def _failed(report: ImportReport, code: str, *messages: Text,
            encoding: str = "") -> ImportReport:
    return ImportReport(dry_run=report.dry_run, encoding=encoding or report.encoding,
                        headers=report.headers,
                        errors=tuple(Problem(0, "", code, message) for message in messages))
