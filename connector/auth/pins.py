"""Per-user PIN codes (SPEC AD-1: the free-desk / hot-desk login code of desk phones).

A PIN is 4 to 8 half-width digits, stored only as a hash (the password KDF), never returned:
screens and APIs say whether one is set. It is checked by :func:`verify_pin`: a wrong PIN
counts in the user's failed attempts as a wrong password does, and a locked or disabled user's
PIN never matches. Whatever signs users in by PIN (desk phones, SPEC XS-16) must put each
attempt through the sign-in throttle (:mod:`connector.auth.throttle`) as password sign-ins
do — 4 digits are only 10,000 guesses.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Connection, select, update

from ..messages import Text
from ..schema import agents
from . import passwords

PIN_MIN_DIGITS = 4
PIN_MAX_DIGITS = 8
_DIGITS = re.compile(r"[0-9]+")

NOT_DIGITS = Text("pin: PINコードは半角数字{low}〜{high}桁にしてください。",
                  "pin: the PIN must be {low} to {high} half-width digits.")
TOO_SIMPLE = Text("pin: 同じ数字の繰り返しや連番（1234など）はPINコードにできません。",
                  "pin: the PIN must not be one digit repeated or a run such as 1234.")


def pin_problems(pin: str) -> list[Text]:
    """What is wrong with ``pin`` (empty list: acceptable)."""
    if not (_DIGITS.fullmatch(pin) and PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS):
        return [NOT_DIGITS.format(low=PIN_MIN_DIGITS, high=PIN_MAX_DIGITS)]
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if len(steps) == 1 and steps <= {0, 1, 9}:  # 0000, 1234, 7890, 4321 …
        return [TOO_SIMPLE]
    return []


def set_pin(conn: Connection, agent_id: int, pin: str | None, now: datetime) -> None:
    """Set (validated, hashed) or, with ``None``, clear the PIN."""
    if pin is not None and (problems := pin_problems(pin)):
        raise ValueError(problems[0])
    value = passwords.hash_password(pin) if pin is not None else None
    conn.execute(update(agents).where(agents.c.id == agent_id).values(
        pin_hash=value, updated_at=now))


def has_pin(conn: Connection, agent_id: int) -> bool:
    return conn.execute(select(agents.c.pin_hash).where(
        agents.c.id == agent_id)).scalar_one_or_none() is not None


def verify_pin(conn: Connection, agent_id: int, pin: str, now: datetime) -> bool:
    """Whether ``pin`` is the user's PIN; a wrong one counts as a failed sign-in."""
    row = conn.execute(select(agents.c.pin_hash, agents.c.active, agents.c.locked_until).where(
        agents.c.id == agent_id)).first()
    usable = row is not None and row.pin_hash and row.active and not (
        row.locked_until is not None and row.locked_until > now)
    if not usable:
        passwords.burn_time(pin)
        return False
    if passwords.verify_password(row.pin_hash, pin):
        return True
    conn.execute(update(agents).where(agents.c.id == agent_id).values(
        failed_attempts=agents.c.failed_attempts + 1, updated_at=now))
    return False
