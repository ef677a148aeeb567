"""Typed settings from TOML tables, with errors that name the key.

Every section of the connector's configuration, and every CRM adapter's ``Settings``, is a frozen
stdlib dataclass. :func:`parse_settings` checks a plain mapping (a TOML table) against such a class:
unknown keys, wrong types and missing secrets are all reported, each with the dotted key that is
wrong. It lives here rather than in ``connector`` because third-party adapters declare their
settings with it and must not need Flask to do so.

Supported field types: ``str``, ``int``, ``float``, ``bool``, :class:`Secret`, ``Literal[...]``,
``list[X]``, ``dict[str, X]``, nested dataclasses, and ``X | None`` of any of these.

Secrets may be written inline, or as a reference that keeps them out of the file::

    auth_token = { env = "TWILIO_AUTH_TOKEN" }
    private_key = { file = "/run/secrets/sf_key.pem" }
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

T = TypeVar("T")

MASK = "********"


class Secret:
    """A secret value that never shows itself in ``repr``, ``str``, logs or config dumps."""

    __slots__ = ("_value", "source")

    def __init__(self, value: str, source: str = "inline") -> None:
        self._value = value
        self.source = source

    def reveal(self) -> str:
        """Return the secret itself; call this only where the value is sent to its recipient."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r}, source={self.source!r})"

    def __str__(self) -> str:
        return MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class EnvText(str):
    """A string that came from an environment variable.

    Environment variables are always text, so for these (and only these) values the parser
    accepts ``"8080"`` for an ``int``, ``"true"`` for a ``bool`` and ``"a,b"`` or ``'["a","b"]'``
    for a list.
    """


class SettingsError(ValueError):
    """One or more settings are wrong; ``problems`` lists each, starting with the dotted key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def parse_settings(cls: type[T], data: Mapping[str, Any] | None, *, where: str,
                   environ: Mapping[str, str] | None = None) -> T:
    """Build ``cls`` (a dataclass) from ``data``, or raise :class:`SettingsError`.

    ``where`` is the dotted name of the table (``"twilio"``, ``"crm.kintone"``) used in messages.
    ``environ`` resolves ``{ env = "NAME" }`` secret references (default: ``os.environ``).
    """
    parser = _Parser(os.environ if environ is None else environ)
    value = parser.dataclass(cls, data if data is not None else {}, where)
    if parser.problems:
        raise SettingsError(parser.problems)
    return value


def settings_to_dict(obj: Any, *, reveal: bool = False) -> Any:
    """Turn parsed settings back into plain data; secrets are masked unless ``reveal``."""
    if isinstance(obj, Secret):
        return obj.reveal() if reveal else MASK
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: settings_to_dict(getattr(obj, f.name), reveal=reveal)
                for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {k: settings_to_dict(v, reveal=reveal) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [settings_to_dict(v, reveal=reveal) for v in obj]
    return obj


def secret_values(obj: Any) -> list[str]:
    """Every non-empty secret inside parsed settings (used to scrub logs)."""
    found: list[str] = []
    if isinstance(obj, Secret):
        if obj.reveal():
            found.append(obj.reveal())
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            found.extend(secret_values(getattr(obj, f.name)))
    elif isinstance(obj, Mapping):
        for v in obj.values():
            found.extend(secret_values(v))
    elif isinstance(obj, list | tuple):
        for v in obj:
            found.extend(secret_values(v))
    return found


_MISSING = object()


class _Parser:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> object:
        self.problems.append(f"{where}: {message}")
        return _MISSING

    def dataclass(self, cls: type[T], data: Any, where: str) -> T:
        if not isinstance(data, Mapping):
            return self.fail(where, f"expected a table, got {_describe(data)}")  # type: ignore[return-value]
        before = len(self.problems)
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
        for key in data:
            if key not in fields:
                known = ", ".join(sorted(fields)) or "none"
                self.fail(_join(where, key), f"unknown key (known keys: {known})")
        kwargs = {}
        for name, f in fields.items():
            key_where = _join(where, name)
            if name in data:
                value = self.value(hints[name], data[name], key_where)
                if value is not _MISSING:
                    kwargs[name] = value
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                self.fail(key_where, "required key is missing")
        if len(self.problems) > before:
            return _MISSING  # type: ignore[return-value]
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            # Validators in __post_init__ start their message with the key they object to.
            return self.fail(where, str(exc))  # type: ignore[return-value]

    def value(self, tp: Any, raw: Any, where: str) -> Any:
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):
            options = [a for a in get_args(tp) if a is not type(None)]
            if raw is None or (isinstance(raw, EnvText) and raw == ""):
                return None
            if len(options) == 1:
                return self.value(options[0], raw, where)
            return self.fail(where, "unsupported union type in settings class")
        if origin is Literal:
            allowed = get_args(tp)
            if raw not in allowed:
                choices = ", ".join(repr(a) for a in allowed)
                return self.fail(where, f"must be one of {choices}, got {raw!r}")
            return raw
        if origin in (list, tuple):
            return self.sequence(tp, raw, where)
        if origin is dict:
            return self.mapping(tp, raw, where)
        if tp is Secret:
            return self.secret(raw, where)
        if dataclasses.is_dataclass(tp):
            return self.dataclass(tp, raw, where)
        if tp is bool:
            return self.boolean(raw, where)
        if tp is int:
            return self.integer(raw, where)
        if tp is float:
            return self.number(raw, where)
        if tp is str:
            if isinstance(raw, str):
                return str(raw)
            return self.fail(where, f"expected a string, got {_describe(raw)}")
        if tp is Any:
            return raw
        return self.fail(where, f"unsupported type {tp!r} in settings class")

    def sequence(self, tp: Any, raw: Any, where: str) -> Any:
        (item_type, *_rest) = get_args(tp) or (Any,)
        if isinstance(raw, EnvText):
            raw = _env_list(raw)
        if not isinstance(raw, list | tuple):
            return self.fail(where, f"expected a list, got {_describe(raw)}")
        items = [self.value(item_type, v, f"{where}[{i}]") for i, v in enumerate(raw)]
        if any(v is _MISSING for v in items):
            return _MISSING
        return tuple(items) if get_origin(tp) is tuple else items

    def mapping(self, tp: Any, raw: Any, where: str) -> Any:
        _key_type, value_type = get_args(tp) or (str, Any)
        if not isinstance(raw, Mapping):
            return self.fail(where, f"expected a table, got {_describe(raw)}")
        out = {str(k): self.value(value_type, v, _join(where, str(k))) for k, v in raw.items()}
        if any(v is _MISSING for v in out.values()):
            return _MISSING
        return out

    def secret(self, raw: Any, where: str) -> Any:
        if isinstance(raw, str):
            return Secret(str(raw), "environment" if isinstance(raw, EnvText) else "inline")
        if isinstance(raw, Mapping) and set(raw) == {"env"}:
            name = raw["env"]
            if name not in self.environ:
                return self.fail(where, f"secret: environment variable {name} is not set")
            return Secret(self.environ[name], f"env:{name}")
        if isinstance(raw, Mapping) and set(raw) == {"file"}:
            path = Path(str(raw["file"]))
            try:
                return Secret(path.read_text(encoding="utf-8").strip(), f"file:{path}")
            except OSError as exc:
                return self.fail(where, f"secret: cannot read file {path}: {exc.strerror}")
        return self.fail(
            where, 'expected a secret: a string, { env = "NAME" } or { file = "path" }')

    def boolean(self, raw: Any, where: str) -> Any:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, EnvText) and raw.strip().lower() in _TRUTHY | _FALSY:
            return raw.strip().lower() in _TRUTHY
        return self.fail(where, f"expected true or false, got {_describe(raw)}")

    def integer(self, raw: Any, where: str) -> Any:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, EnvText):
            try:
                return int(raw.strip())
            except ValueError:
                pass
        return self.fail(where, f"expected an integer, got {_describe(raw)}")

    def number(self, raw: Any, where: str) -> Any:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        if isinstance(raw, EnvText):
            try:
                return float(raw.strip())
            except ValueError:
                pass
        return self.fail(where, f"expected a number, got {_describe(raw)}")


_TRUTHY = {"1", "true", "yes", "on"}
_FALSY = {"0", "false", "no", "off"}


def _env_list(text: str) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return [EnvText(v) if isinstance(v, str) else v for v in parsed]
    return [EnvText(part.strip()) for part in stripped.split(",") if part.strip()]


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _describe(value: Any) -> str:
    if isinstance(value, EnvText):
        return f"{str(value)!r} (from the environment)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, int | float):
        return f"number {value!r}"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__
