"""What a built-in CRM customer is made of, and the checks every way in shares.

The API, the web forms (through the API), the CSV import and the demo data all turn their input
into a :class:`CustomerInput` with :func:`parse_customer`, so the same rules and the same
field-naming error messages apply everywhere. Problems are keyed by a field path such as
``name`` or ``phones[1].number``; messages are :class:`~connector.messages.Text` (Japanese and
English), for the people who fix them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from voice.numbering import NumberError, normalize

from ..messages import Text

#: Field limits (the column sizes of ``connector/schema.py``, and sensible counts).
MAX_NAME = 200
MAX_NOTES = 20_000
MAX_TAG = 50
MAX_TAGS = 30
MAX_LABEL = 50
MAX_NUMBER = 64
MAX_PHONES = 20

#: Fields a customer has; ``phones`` and ``tags`` replace the whole list when given.
TEXT_FIELDS = ("name", "name_kana", "company", "notes")
FIELDS = (*TEXT_FIELDS, "tags", "phones")

# Separators between tags in one text cell or input box: commas, Japanese commas, semicolons.
_TAG_SEPARATORS = re.compile(r"[,、，;；|｜\n]+")
_SPACES = re.compile(r"\s+")
_HIRAGANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}

UNKNOWN_FIELD = Text("この項目はありません。", "There is no such field.")
NAME_REQUIRED = Text("氏名を入力してください。", "Enter the name.")
NOT_TEXT = Text("文字列で指定してください。", "Give a string.")
TEXT_TOO_LONG = Text("{limit}文字以内で入力してください。", "At most {limit} characters.")
TAGS_NOT_A_LIST = Text("タグは文字列のリストで指定してください。",
                       "Tags must be a list of strings.")
TAG_TOO_LONG = Text("タグは{limit}文字以内です。", "A tag has at most {limit} characters.")
TOO_MANY_TAGS = Text("タグは{limit}個までです。", "At most {limit} tags.")
PHONES_NOT_A_LIST = Text("電話番号はリストで指定してください。", "Phone numbers must be a list.")
TOO_MANY_PHONES = Text("電話番号は{limit}件までです。", "At most {limit} phone numbers.")
PHONE_NOT_AN_OBJECT = Text('電話番号は文字列か {"number", "label"} で指定してください。',
                           'A phone number is a string or {"number", "label"}.')
LABEL_TOO_LONG = Text("ラベルは{limit}文字以内の文字列です。",
                      "A label is a string of at most {limit} characters.")
NUMBER_REQUIRED = Text("電話番号を入力してください。", "Enter the phone number.")


@dataclass(frozen=True)
class Phone:
    """One number of a customer: as typed, its E.164 form and a label (会社, 携帯 …).

    ``source`` is the number's index in the input list, so problems found later (a number
    another customer already has) can name the field the person typed it in.
    """

    number: str
    e164: str
    label: str = ""
    source: int = 0


@dataclass(frozen=True)
class CustomerInput:
    """Validated values for a new customer, or the changed fields of an existing one
    (``present`` lists which fields were given)."""

    name: str = ""
    name_kana: str = ""
    company: str = ""
    notes: str = ""
    tags: tuple[str, ...] = ()
    phones: tuple[Phone, ...] = ()
    present: frozenset[str] = field(default_factory=frozenset)

    def values(self) -> dict[str, Any]:
        """The given text fields, ready for the ``customers`` table."""
        return {name: getattr(self, name) for name in TEXT_FIELDS if name in self.present}


class Invalid(Exception):
    """Input that cannot be stored. ``problems`` maps field paths to messages and ``codes``
    the same paths to stable machine codes."""

    def __init__(self, problems: dict[str, Text], codes: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v.en}" for k, v in problems.items()))
        self.problems = problems
        self.codes = codes


class _Problems:
    def __init__(self) -> None:
        self.messages: dict[str, Text] = {}
        self.codes: dict[str, str] = {}

    def add(self, path: str, code: str, message: Text) -> None:
        self.messages.setdefault(path, message)
        self.codes.setdefault(path, code)


def parse_customer(data: Mapping[str, Any], *, partial: bool = False) -> CustomerInput:
    """Check and normalise a customer given as plain data (a JSON object, a CSV row).

    Args:
        data: ``name``, ``name_kana``, ``company``, ``notes`` (strings), ``tags`` (a list of
            strings, or one string with commas) and ``phones`` (a list of ``{"number", "label"}``
            objects or of strings).
        partial: only the keys present are checked and returned (an update).

    Raises:
        Invalid: naming every bad field.
    """
    problems = _Problems()
    for key in data:
        if key not in FIELDS:
            problems.add(key, "unknown_field", UNKNOWN_FIELD)
    values: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        if key in data:
            values[key] = _text(problems, key, data[key])
    if not partial or "name" in data:
        if not values.get("name"):
            problems.add("name", "required", NAME_REQUIRED)
    if "name_kana" in values:
        values["name_kana"] = kana(values["name_kana"])
    if "tags" in data:
        values["tags"] = _tags(problems, data["tags"])
    if "phones" in data:
        values["phones"] = _phones(problems, data["phones"])
    if problems.messages:
        raise Invalid(problems.messages, problems.codes)
    present = frozenset(values) if partial else frozenset(FIELDS)
    return CustomerInput(**values, present=present)


def kana(text: str) -> str:
    """A reading as stored and searched: NFKC (half-width ｶﾅ → カナ) and hiragana → katakana."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).translate(_HIRAGANA)).strip()


def split_tags(text: str) -> list[str]:
    """Tags written in one cell or box: ``"VIP, 新規"``, ``"VIP、新規"``."""
    return [part for part in (p.strip() for p in _TAG_SEPARATORS.split(text)) if part]


def _text(problems: _Problems, key: str, value: Any) -> str:
    if not isinstance(value, str):
        problems.add(key, "not_text", NOT_TEXT)
        return ""
    limit = MAX_NOTES if key == "notes" else MAX_NAME
    text = value.strip() if key == "notes" else _SPACES.sub(" ", value).strip()
    if len(text) > limit:
        problems.add(key, "too_long", TEXT_TOO_LONG.format(limit=limit))
    return text


def _tags(problems: _Problems, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = split_tags(value)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        problems.add("tags", "not_a_list", TAGS_NOT_A_LIST)
        return ()
    tags = list(dict.fromkeys(_SPACES.sub(" ", v).strip() for v in value if v.strip()))
    for index, tag in enumerate(tags):
        if len(tag) > MAX_TAG:
            problems.add(f"tags[{index}]", "too_long", TAG_TOO_LONG.format(limit=MAX_TAG))
    if len(tags) > MAX_TAGS:
        problems.add("tags", "too_many", TOO_MANY_TAGS.format(limit=MAX_TAGS))
    return tuple(tags)


def _phones(problems: _Problems, value: Any) -> tuple[Phone, ...]:
    if not isinstance(value, list | tuple):
        problems.add("phones", "not_a_list", PHONES_NOT_A_LIST)
        return ()
    if len(value) > MAX_PHONES:
        problems.add("phones", "too_many", TOO_MANY_PHONES.format(limit=MAX_PHONES))
        return ()
    phones: list[Phone] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        phone = _phone(problems, index, item)
        if phone is not None and phone.e164 not in seen:  # the same number twice: keep one
            seen.add(phone.e164)
            phones.append(phone)
    return tuple(phones)


def _phone(problems: _Problems, index: int, item: Any) -> Phone | None:
    path = f"phones[{index}]"
    if isinstance(item, str):
        item = {"number": item}
    if not isinstance(item, Mapping):
        problems.add(path, "not_an_object", PHONE_NOT_AN_OBJECT)
        return None
    unknown = [key for key in item if key not in ("number", "label", "e164", "display")]
    if unknown:
        problems.add(f"{path}.{unknown[0]}", "unknown_field", UNKNOWN_FIELD)
    number, label = item.get("number"), item.get("label", "")
    if not isinstance(label, str) or len(label.strip()) > MAX_LABEL:
        problems.add(f"{path}.label", "too_long", LABEL_TOO_LONG.format(limit=MAX_LABEL))
        label = ""
    if not isinstance(number, str) or not number.strip():
        problems.add(f"{path}.number", "required", NUMBER_REQUIRED)
        return None
    try:
        e164 = normalize(number)
    except NumberError as error:
        problems.add(f"{path}.number", error.code, Text.of(error))
        return None
    return Phone(number=number.strip(), e164=e164, label=label.strip(), source=index)
