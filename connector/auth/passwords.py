"""Password hashing (scrypt, a standard memory-hard KDF) and the login password policy."""

from __future__ import annotations

import functools
import string

from werkzeug.security import check_password_hash, generate_password_hash

from ..config import AuthSettings
from ..messages import Text

#: scrypt with N=2^15, r=8, p=1 (werkzeug's default; about 50 ms and 32 MiB per hash).
HASH_METHOD = "scrypt:32768:8:1"

_SYMBOLS = set(string.punctuation + " ")

TOO_SHORT = Text("パスワードは{length}文字以上にしてください。",
                 "The password must be at least {length} characters.")
TOO_LONG = Text("パスワードは256文字以内にしてください。",
                "The password must be at most 256 characters.")
NEEDS_LETTERS_AND_DIGITS = Text("パスワードには英字と数字の両方を含めてください。",
                                "The password must contain both letters and digits.")
NEEDS_SYMBOL = Text("パスワードには記号を含めてください。", "The password must contain a symbol.")
CONTAINS_USERNAME = Text("パスワードにユーザーIDを含めることはできません。",
                         "The password must not contain the user ID.")
REUSED = Text("以前のパスワードとは違うパスワードにしてください。",
              "The password must differ from the previous password.")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


@functools.cache
def _dummy_hash() -> str:
    # Compared against when the account does not exist, so the answer takes as long either way.
    return hash_password("not-a-real-password-0")


def burn_time(password: str) -> None:
    """Spend the time a real verification would take (for unknown or locked accounts)."""
    verify_password(_dummy_hash(), password)


def policy_problems(password: str, policy: AuthSettings, *, username: str = "",
                    previous_hash: str | None = None,
                    current_hash: str | None = None) -> list[Text]:
    """Every rule ``password`` breaks, as messages fit for the user (empty list: acceptable)."""
    problems = []
    if len(password) < policy.password_min_length:
        problems.append(TOO_SHORT.format(length=policy.password_min_length))
    if len(password) > 256:
        problems.append(TOO_LONG)
    has_letter = any(c.isascii() and c.isalpha() for c in password)
    has_digit = any(c.isdigit() for c in password)
    has_symbol = any(c in _SYMBOLS for c in password)
    if policy.password_characters in ("letters_digits", "letters_digits_symbols") and not (
            has_letter and has_digit):
        problems.append(NEEDS_LETTERS_AND_DIGITS)
    if policy.password_characters == "letters_digits_symbols" and not has_symbol:
        problems.append(NEEDS_SYMBOL)
    if username and username.lower() in password.lower():
        problems.append(CONTAINS_USERNAME)
    if policy.forbid_password_reuse:
        for old in (current_hash, previous_hash):
            if old and verify_password(old, password):
                problems.append(REUSED)
                break
    return problems
