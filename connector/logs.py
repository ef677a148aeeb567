"""Structured logging with secrets masked and phone numbers shortened.

``[logging] format``: ``"auto"`` (the default) writes readable, coloured text when standard
error is a terminal (``cti serve`` in development) and one JSON object per line otherwise (log
collectors, production); ``"json"`` and ``"text"`` force one. Colours follow the terminal and
are off when ``NO_COLOR`` is set (https://no-color.org). Every record passes through
:class:`Scrubber` before it is written, in both formats: configured secret values, bearer/JWT
tokens and ``Authorization`` values become ``***``, phone numbers are masked (``+813******78``),
terminal escape sequences are removed and line breaks in text are escaped, so a caller-supplied
value can neither forge log lines nor drive the terminal.

Logging is configured once per process by the entry points (``cti serve``, ``cti worker``,
``connector.wsgi``), never by ``create_app`` — tests build many apps in one process.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from voice.numbering import mask_text

# JWTs (Twilio access tokens, our bearer tokens), and "Bearer x" / "token=x" style values.
_TOKEN_PATTERNS = (
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:access_token|refresh_token|password|api[_-]?key|secret|token)"
               r"[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,}]{4,}"),
)

#: A word every one of _TOKEN_PATTERNS but the JWT one needs (the JWT one needs "eyJ").
_TOKEN_HINT = re.compile(r"(?i)bearer|token|password|api[_-]?key|secret")

#: ANSI/VT100 escape sequences (colours, cursor movement) and other C0 controls but tab/newline.
_TERMINAL_CONTROLS = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])|[\x00-\x08\x0b-\x1f\x7f]")

#: Colours of level names in coloured text.
_LEVEL_COLOURS = {"DEBUG": "\x1b[2m", "INFO": "\x1b[32m", "WARNING": "\x1b[33m",
                  "ERROR": "\x1b[31;1m", "CRITICAL": "\x1b[41;97m"}
_DIM, _RESET = "\x1b[2m", "\x1b[0m"

#: LogRecord attributes that are not "extra" fields.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}


class Scrubber:
    """Removes secrets, tokens and phone numbers from text bound for a log."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret containing another secret is removed whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        # The webhooks log a line per call: the cheap tests below spare most values the
        # regular expressions (a CallSid, a route name), without changing what is removed.
        if not text.isprintable():  # False for every control character the pattern removes
            text = _TERMINAL_CONTROLS.sub("", text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        if "eyJ" in text or _TOKEN_HINT.search(text) is not None:
            for pattern in _TOKEN_PATTERNS:
                text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
        return mask_text(text)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


class JSONFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, extra fields, exception."""

    def __init__(self, scrubber: Scrubber) -> None:
        super().__init__()
        self.scrub = scrubber

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": self.scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = self.scrub.value(_jsonable(value))
        if record.exc_info:
            entry["exc"] = self.scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Readable single-line records for development; extras appended as key=value.

    ``colour`` paints the level (and dims the logger name) for a terminal.
    """

    def __init__(self, scrubber: Scrubber, *, colour: bool = False) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        self.scrub = scrubber
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        message = self.scrub(record.getMessage().replace("\r", "\\r").replace("\n", "\\n"))
        extras = " ".join(f"{k}={self.scrub.value(_jsonable(v))}"
                          for k, v in vars(record).items()
                          if k not in _STANDARD_ATTRS and not k.startswith("_"))
        level, name = f"{record.levelname:<7}", record.name
        if self.colour:
            level = f"{_LEVEL_COLOURS.get(record.levelname, '')}{level}{_RESET}"
            name = f"{_DIM}{name}{_RESET}"
        line = f"{self.formatTime(record)} {level} {name}: {message}"
        if extras:
            line += f" [{extras}]"
        if record.exc_info:
            line += "\n" + self.scrub(self.formatException(record.exc_info))
        return line


def choose_format(fmt: str, stream: TextIO, environ: Mapping[str, str]) -> tuple[str, bool]:
    """The format ``"auto"`` stands for on ``stream``, and whether text gets colours."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        terminal = False
    if fmt == "auto":
        fmt = "text" if terminal else "json"
    return fmt, fmt == "text" and terminal and not environ.get("NO_COLOR")


def configure_logging(level: str = "INFO", fmt: str = "auto", secrets: Iterable[str] = (),
                      stream: TextIO | None = None,
                      environ: Mapping[str, str] | None = None) -> logging.Handler:
    """Send every log record through one scrubbing handler; returns the handler.

    Args:
        fmt: ``"auto"``, ``"json"`` or ``"text"`` (see the module docstring).
        environ: where ``NO_COLOR`` is looked up (default: the process environment).
    """
    scrubber = Scrubber(secrets)
    stream = stream or sys.stderr
    fmt, colour = choose_format(fmt, stream, os.environ if environ is None else environ)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter(scrubber) if fmt == "json"
                         else TextFormatter(scrubber, colour=colour))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_cti", False)]:
        root.removeHandler(old)
    handler._cti = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # werkzeug logs full request lines (query strings can hold tokens); keep it, scrubbed.
    logging.getLogger("werkzeug").propagate = True
    return handler


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return str(value)
