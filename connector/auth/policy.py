"""The login policy in force (SPEC AD-3): the console's stored values over ``[auth]``.

Admins change the policy on the console's login-policy screen; what they save is stored in
``console_settings`` under :data:`STORE_KEY` as *overrides*, field by field. A field not
stored (or cleared on the screen) takes the configuration file's ``[auth]`` value, so an
install that never opens the screen behaves exactly as its file says.

Everything that applies the policy — sign-in and the lock-out window, password rules (API,
console user editor, ``cti user``), token and session lifetimes, idle logout — asks
:func:`effective_policy`. It is read on every authenticated request, so each process keeps it
for at most :data:`CACHE_SECONDS` (as the IP allowlists do): a change reaches every web
instance within that time, and at once in the process that saved it (:func:`forget`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from .. import db
from ..config import AUTH_RANGES, PASSWORD_CHARACTERS, AuthSettings
from ..schema import console_settings

STORE_KEY = "login_policy"
CACHE_SECONDS = 5.0
_CACHE = "cti.auth.policy"

#: The fields, in the order the screens show them.
FIELDS = ("max_failed_attempts", "lockout_minutes", "password_min_length",
          "password_characters", "forbid_password_reuse", "password_expiry_days",
          "access_token_minutes", "session_hours", "idle_logout_minutes")
_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")


class PolicyError(ValueError):
    """Refused values; ``problems`` maps each field name to what is wrong with it."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def validate(value: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides to store: each given field checked, empty ones (``""``/None) left out."""
    problems: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in value:
        if name not in FIELDS:
            problems[name] = f"unknown setting; one of {', '.join(FIELDS)}"
    for name in FIELDS:
        raw = value.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            out[name] = _field(name, raw)
        except ValueError as exc:
            problems[name] = str(exc)
    if problems:
        raise PolicyError(problems)
    return out


def _field(name: str, raw: Any) -> Any:
    if name in AUTH_RANGES:
        low, high = AUTH_RANGES[name]
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            raise ValueError(f"a whole number from {low} to {high}, got {raw!r}")
        try:
            number = int(str(raw).strip())
        except ValueError:
            raise ValueError(f"a whole number from {low} to {high}, got {raw!r}") from None
        if not low <= number <= high:
            raise ValueError(f"from {low} to {high}, got {number}")
        return number
    if name == "password_characters":
        if raw not in PASSWORD_CHARACTERS:
            raise ValueError(f"one of {', '.join(PASSWORD_CHARACTERS)}, got {raw!r}")
        return raw
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"true or false, got {raw!r}")


def merge(base: AuthSettings, overrides: Mapping[str, Any]) -> AuthSettings:
    """``base`` (the file's ``[auth]``) with the stored fields in its place."""
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if k in FIELDS})


def stored(conn: Connection) -> dict[str, Any]:
    """The stored overrides ({} when none); values stored by an older release that no longer
    pass :func:`validate` are dropped rather than breaking every sign-in."""
    row = conn.execute(select(console_settings.c.value).where(
        console_settings.c.key == STORE_KEY)).first()
    raw = row.value if row and isinstance(row.value, dict) else {}
    out = {}
    for name in FIELDS:
        try:
            out.update(validate({name: raw.get(name)}))
        except PolicyError:
            continue
    return out


def effective_policy(app: Flask | None = None, *, may_read: bool = True) -> AuthSettings:
    """The policy in force: the stored values over ``[auth]``, at most CACHE_SECONDS old.

    ``may_read=False``: the caller holds a pooled connection (the sign-in throttle, deciding
    on a lock inside the sign-in's transaction), so the last policy read is returned whatever
    its age — a second checkout there deadlocks a busy pool: fifteen sign-ins each holding one
    connection and waiting for another. Read it with ``may_read=True`` before connecting.
    """
    app = app or current_app
    base: AuthSettings = app.config["CTI_SETTINGS"].auth
    cache = app.extensions.setdefault(_CACHE, {})
    # One (read at, policy) pair, replaced whole: a thread never sees half of another's update
    # or of a forget().
    entry = cache.get("entry")
    if entry is not None and (not may_read or entry[0] + CACHE_SECONDS > time.monotonic()):
        return entry[1]
    try:
        with db.get_engine(app).connect() as conn:
            overrides = stored(conn)
    except SQLAlchemyError:
        # The database is down: whatever needs the policy fails on the database anyway; keep
        # the last policy read (else the file's) instead of turning it into a 500 here.
        return entry[1] if entry is not None else base
    policy = merge(base, overrides)
    cache["entry"] = (time.monotonic(), policy)
    return policy


def forget(app: Flask | None = None) -> None:
    """Drop this process's cached policy (after a save), so the next read is fresh."""
    (app or current_app).extensions.setdefault(_CACHE, {}).pop("entry", None)
