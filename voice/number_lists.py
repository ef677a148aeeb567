"""Block list for incoming numbers (着信拒否) and restriction list for outgoing numbers (発信規制).

SPEC CF-9. Pure logic: a rule, a list that finds the most specific rule for a number, and the CSV
import admins upload. Storage, the admin API and the CLI live in ``connector``.

A rule's pattern is one of:

* an exact number in any form :func:`voice.numbering.normalize` accepts, stored as E.164;
* an exact short code (``117``, ``#9999``), stored as typed (half-width);
* a prefix ending in ``*``: ``0120*`` → ``+81120*``, ``090-1234*`` → ``+81901234*``,
  ``+1*``, ``010-1*`` (Japanese international prefix) → ``+1*``;
* ``anonymous`` (also written ``非通知``): callers who withhold their number.

Withheld caller IDs. Twilio's help centre ("Why am I getting calls from these strange numbers?")
lists the digits it used for withheld caller IDs — ``+266696687`` (ANONYMOUS on a keypad),
``+7378742833`` (RESTRICTED), ``+2562533`` (BLOCKED), ``+8656696`` (UNKNOWN) and
``+86282452253`` (UNAVAILABLE) — and its changelog of 2022-11-16 announced that the alpha
strings (``anonymous``, ``restricted`` …) are passed through instead. We accept both, in any
case, plus an empty or missing ``From``. UNVERIFIED: what a Japanese carrier's 非通知, 公衆電話
and 表示圏外 reasons become on Twilio; they are expected to arrive as one of these values.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from voice.numbering import NumberError, compact, is_short_code, normalize

__all__ = [
    "ANONYMOUS",
    "ANONYMOUS_FROM_VALUES",
    "ImportResult",
    "NumberList",
    "NumberRule",
    "RowError",
    "RuleKind",
    "is_anonymous",
    "normalize_pattern",
    "parse_number_list_csv",
]

ANONYMOUS = "anonymous"

#: ``From`` values (compared case-insensitively) of a caller who withheld their number.
ANONYMOUS_FROM_VALUES = frozenset(
    {
        "",
        "anonymous",
        "restricted",
        "unavailable",
        "unknown",
        "private",
        "blocked",
        "withheld",
        "+266696687",
        "+7378742833",
        "+2562533",
        "+8656696",
        "+86282452253",
    }
)

_ANONYMOUS_PATTERNS = frozenset({ANONYMOUS, "非通知"})
_E164_LIKE = re.compile(r"\+\d{1,15}")
_PREFIX_BODY = re.compile(r"\+?\d+")


def is_anonymous(from_value: str | None) -> bool:
    """Whether a webhook's ``From`` means the caller withheld their number (非通知)."""
    return from_value is None or from_value.strip().lower() in ANONYMOUS_FROM_VALUES


class RuleKind(StrEnum):
    """How a :class:`NumberRule` matches."""

    EXACT = "exact"
    SHORT_CODE = "short_code"
    PREFIX = "prefix"
    ANONYMOUS = "anonymous"


def normalize_pattern(text: str) -> str:
    """Canonical form of a rule pattern (see the module docstring).

    Raises:
        NumberError: The pattern is neither a valid number, a short code, a prefix nor
            ``anonymous``; ``invalid_prefix`` for prefixes that are not ``0…*`` or ``+…*``.
    """
    if text.strip().lower() in _ANONYMOUS_PATTERNS:
        return ANONYMOUS
    compacted = compact(text)
    if compacted.endswith("*"):
        return _normalize_prefix(compacted[:-1]) + "*"
    if is_short_code(compacted):
        return compacted
    return normalize(text)


def _normalize_prefix(body: str) -> str:
    if not _PREFIX_BODY.fullmatch(body):
        has_other = any(not (ch.isdigit() or ch in "+*") for ch in body)
        raise NumberError("invalid_characters" if has_other else "invalid_prefix")
    if body.startswith("+"):
        digits = body[1:]
    elif body.startswith("010"):  # Japanese international prefix
        digits = body[3:]
    elif body.startswith("0"):
        digits = "81" + body[1:]
    else:
        raise NumberError("invalid_prefix")
    if digits.startswith("810"):  # +81 (0)3… written without brackets
        digits = "81" + digits[3:]
    if not digits:
        raise NumberError("invalid_prefix")
    if len(digits) > 15:
        raise NumberError("too_long")
    return "+" + digits


@dataclass(frozen=True)
class NumberRule:
    """One entry of a block or restriction list.

    Construction normalises ``pattern`` (so equal rules compare equal) and raises
    :class:`~voice.numbering.NumberError` for an unusable pattern.
    """

    pattern: str
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", normalize_pattern(self.pattern))
        object.__setattr__(self, "note", self.note.strip())

    @property
    def kind(self) -> RuleKind:
        if self.pattern == ANONYMOUS:
            return RuleKind.ANONYMOUS
        if self.pattern.endswith("*"):
            return RuleKind.PREFIX
        if self.pattern.startswith("+"):
            return RuleKind.EXACT
        return RuleKind.SHORT_CODE


class NumberList:
    """A set of rules that answers "which rule matches this number?" quickly.

    When two rules have the same pattern, the first one wins; :func:`parse_number_list_csv`
    reports such duplicates so they do not reach a list unnoticed.
    """

    def __init__(self, rules: Iterable[NumberRule]) -> None:
        self._rules = tuple(rules)
        self._exact: dict[str, NumberRule] = {}
        self._prefixes: dict[str, NumberRule] = {}
        self._anonymous: NumberRule | None = None
        for rule in self._rules:
            if rule.kind is RuleKind.ANONYMOUS:
                self._anonymous = self._anonymous or rule
            elif rule.kind is RuleKind.PREFIX:
                self._prefixes.setdefault(rule.pattern[:-1], rule)
            else:
                self._exact.setdefault(rule.pattern, rule)
        self._prefix_lengths = sorted({len(p) for p in self._prefixes}, reverse=True)

    def __len__(self) -> int:
        return len(self._rules)

    def __iter__(self) -> Iterator[NumberRule]:
        return iter(self._rules)

    def match(self, number: str | None) -> NumberRule | None:
        """The most specific rule for ``number``: exact, then the longest prefix.

        Args:
            number: A webhook's ``From``/``To``, a :class:`~voice.numbering.Destination`'s
                ``dial_string`` or any form ``normalize`` accepts. Withheld caller IDs match
                only the ``anonymous`` rule. A number that ``normalize`` refuses but that is
                written as ``+`` and digits (a spoofed ``+811045000``) is matched as written.
        """
        if is_anonymous(number):
            return self._anonymous
        key = _lookup_key(number or "")
        if key is None:
            return None
        return self._match_key(key)

    def match_e164(self, e164: str) -> NumberRule | None:
        """Like :meth:`match` for a number already normalised by ``normalize`` (no re-parse:
        the inbound webhook has parsed the caller's number once already)."""
        return self._match_key(e164) if e164 else None

    def _match_key(self, key: str) -> NumberRule | None:
        if key in self._exact:
            return self._exact[key]
        for length in self._prefix_lengths:
            if length <= len(key) and key[:length] in self._prefixes:
                return self._prefixes[key[:length]]
        return None


def _lookup_key(number: str) -> str | None:
    try:
        compacted = compact(number)
        if is_short_code(compacted):
            return compacted
        return normalize(compacted)
    except NumberError:
        return compacted if _E164_LIKE.fullmatch(compacted) else None


# --- CSV import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem of an uploaded CSV file.

    Attributes:
        row: 1-based row of the file as a spreadsheet shows it (the header is row 1);
            0 for a problem with the whole file.
        code: A :class:`~voice.numbering.NumberError` code, ``duplicate``, ``encoding``,
            ``missing_number_column`` or ``csv_syntax``.
        message_ja: Japanese message naming the row.
        message_en: English message naming the row.
        value: The cell as uploaded.
    """

    row: int
    code: str
    message_ja: str
    message_en: str
    value: str = ""


@dataclass(frozen=True)
class ImportResult:
    """The usable rules of an upload, in file order, and every problem found."""

    rules: tuple[NumberRule, ...]
    errors: tuple[RowError, ...]


_NUMBER_HEADERS = frozenset(
    {"number", "phone", "phonenumber", "tel", "telephone", "pattern"}
    | {"電話番号", "番号", "着信拒否電話番号", "発信規制電話番号", "着信拒否番号", "発信規制番号"}
)
_NOTE_HEADERS = frozenset(
    {"note", "notes", "memo", "comment", "remarks", "description"}
    | {"メモ", "備考", "理由", "コメント", "説明"}
)


def parse_number_list_csv(data: bytes) -> ImportResult:
    """Read an uploaded block/restriction list: one number (or pattern) and a note per row.

    Accepts UTF-8 with or without BOM, Shift_JIS/CP932 (Japanese Excel) and UTF-16 with BOM
    (Excel's "Unicode text"); commas or tabs; an optional header row naming the columns
    (``number,note``, ``電話番号,備考`` …; other columns are ignored). Blank rows are skipped.
    A bad row is reported with its row number and never stops the other rows from loading;
    a repeated pattern is reported as ``duplicate`` and only its first row is kept.
    """
    text = _decode(data)
    if text is None:
        return ImportResult((), (_file_error("encoding"),))
    rows, syntax_error = _split_rows(text)
    number_col, note_col, first_data_row = 0, 1, 1
    header = next(((i, r) for i, r in enumerate(rows, 1) if _cells(r)), None)
    if header is not None and _is_header(header[1]):
        found = _columns(header[1])
        if found is None:
            return ImportResult((), (_missing_number_column(header[0]),))
        (number_col, note_col), first_data_row = found, header[0] + 1
    result = _read_rows(rows, number_col, note_col, first_data_row)
    if syntax_error is None:
        return result
    return ImportResult(result.rules, (*result.errors, syntax_error))


def _split_rows(text: str) -> tuple[list[list[str]], RowError | None]:
    """The file's rows; on broken CSV, the rows before the break and an error naming it."""
    rows: list[list[str]] = []
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    try:
        for row in reader:
            rows.append(row)
    except csv.Error:
        return rows, _row_error(
            len(rows) + 1,
            "csv_syntax",
            "CSVの形式が正しくないため、この行以降を読み込めませんでした（引用符の閉じ忘れなど）。",
            "the CSV is malformed from this row on (an unclosed quote?); it was not read.",
            "",
        )
    return rows, None


def _read_rows(
    rows: list[list[str]], number_col: int, note_col: int | None, first_row: int
) -> ImportResult:
    rules: list[NumberRule] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for row_number, row in enumerate(rows[first_row - 1 :], first_row):
        if not _cells(row):
            continue
        value = _cell(row, number_col)
        try:
            rule = NumberRule(value, _cell(row, note_col))
        except NumberError as error:
            errors.append(_row_error(row_number, error.code, error.message_ja,
                                     error.message_en, value))  # fmt: skip
            continue
        if rule.pattern in seen:
            first = seen[rule.pattern]
            errors.append(_row_error(row_number, "duplicate", f"{first}行目と同じ番号です。",
                                     f"same number as row {first}.", value))  # fmt: skip
            continue
        seen[rule.pattern] = row_number
        rules.append(rule)
    return ImportResult(tuple(rules), tuple(errors))


def _decode(data: bytes) -> str | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp932")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _dialect(text: str) -> type[csv.Dialect]:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return csv.excel_tab if "\t" in first_line and "," not in first_line else csv.excel


def _cells(row: list[str]) -> list[str]:
    return [cell for cell in row if cell.strip()]


def _cell(row: list[str], column: int | None) -> str:
    return row[column].strip() if column is not None and column < len(row) else ""


def _header_name(cell: str) -> str:
    return re.sub(r"[\s_\-]+", "", cell).lower()


def _is_header(row: list[str]) -> bool:
    """A row naming known columns and holding no number (a note may well say 「メモ」)."""
    names = {_header_name(cell) for cell in row}
    return bool(names & (_NUMBER_HEADERS | _NOTE_HEADERS)) and not any(map(_is_pattern, row))


def _is_pattern(cell: str) -> bool:
    try:
        normalize_pattern(cell)
    except NumberError:
        return False
    return True


def _columns(row: list[str]) -> tuple[int, int | None] | None:
    names = [_header_name(cell) for cell in row]
    number = next((i for i, name in enumerate(names) if name in _NUMBER_HEADERS), None)
    note = next((i for i, name in enumerate(names) if name in _NOTE_HEADERS), None)
    return None if number is None else (number, note)


def _row_error(row: int, code: str, message_ja: str, message_en: str, value: str) -> RowError:
    return RowError(row, code, f"{row}行目: {message_ja}", f"Row {row}: {message_en}", value)


def _file_error(code: str) -> RowError:
    return RowError(
        0,
        code,
        "ファイルの文字コードを判別できません。UTF-8かShift_JIS（CSV形式）で保存してください。",
        "Cannot tell the file's encoding; save it as CSV in UTF-8 or Shift_JIS.",
    )


def _missing_number_column(row: int) -> RowError:
    return _row_error(
        row,
        "missing_number_column",
        "見出し行に電話番号の列（「電話番号」または「number」）がありません。",
        "the header row has no number column ('number' or '電話番号').",
        "",
    )
