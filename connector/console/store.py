"""Settings admins edit on the console (``console_settings``): IP allowlists, retention and
the login policy's overrides of ``[auth]`` (:mod:`connector.auth.policy`).

Each value is validated here, with errors naming the field, before it is stored; reading
returns the defaults for keys never saved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from ..auth import policy as login_policy
from ..schema import console_settings
from .ipallow import parse_networks

DEFAULTS: dict[str, dict[str, Any]] = {
    "ip_allowlist": {"admin": [], "agent": []},
    # 0 days = keep for ever. Recordings are deleted only with their call records.
    "retention": {"log_days": 0, "call_days": 0, "recordings": False},
    # Only the fields set on the screen; the others are the configuration file's [auth].
    login_policy.STORE_KEY: {},
}


class SettingError(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def get(conn: Connection, key: str) -> dict[str, Any]:
    row = conn.execute(select(console_settings.c.value).where(
        console_settings.c.key == key)).first()
    return {**DEFAULTS[key], **(row.value if row else {})}


def validate(key: str, value: dict[str, Any]) -> dict[str, Any]:
    if key == "ip_allowlist":
        return _allowlist(value)
    if key == "retention":
        return _retention(value)
    if key == login_policy.STORE_KEY:
        try:
            return login_policy.validate(value)
        except login_policy.PolicyError as exc:
            raise SettingError(exc.problems) from None
    raise SettingError({"key": f"unknown setting {key!r}"})


def _allowlist(value: dict[str, Any]) -> dict[str, Any]:
    problems, out = {}, {}
    for kind in ("admin", "agent"):
        entries = value.get(kind, [])
        if isinstance(entries, str):
            entries = [e for e in entries.replace(",", "\n").splitlines() if e.strip()]
        try:
            out[kind] = [str(n) for n in parse_networks(entries, kind)]
        except ValueError as exc:
            problems[kind] = str(exc).partition(": ")[2]
    if problems:
        raise SettingError(problems)
    return out


def _retention(value: dict[str, Any]) -> dict[str, Any]:
    problems, out = {}, {}
    for name in ("log_days", "call_days"):
        raw = value.get(name, 0)
        try:
            days = int(raw or 0)
        except (TypeError, ValueError):
            problems[name] = f"a whole number of days, got {raw!r}"
            continue
        if not 0 <= days <= 36500:
            problems[name] = f"0 (keep for ever) to 36500 days, got {days}"
        out[name] = days
    out["recordings"] = value.get("recordings") in (True, "1", "on", "true")
    if problems:
        raise SettingError(problems)
    return out


def put(conn: Connection, key: str, value: dict[str, Any], *, by: int | None,
        now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate and store; returns ``(before, after)`` for the audit log."""
    before = get(conn, key)
    after = validate(key, value)
    conn.execute(delete(console_settings).where(console_settings.c.key == key))
    conn.execute(insert(console_settings).values(key=key, value=after, updated_at=now,
                                                 updated_by=by))
    return before, after
