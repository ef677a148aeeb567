"""kintone's error JSON and what each error code means for the connector.

kintone answers errors as ``{"code": "CB_VA01", "id": "<request id>", "message": "...",
"errors": {"records[0].CallSid.value": {"messages": ["必須です。"]}}}``. The *code* decides the
typed error, not the HTTP status alone: an invalid API token has been seen answered with HTTP 520,
which a status-only mapping would retry forever.

Sources: kintone/js-sdk ``KintoneRestAPIError``; kintone/cli-kintone end-to-end tests (GAIA_IA02,
GAIA_NO01, CB_NO02, GAIA_DA03); trocco-io/embulk-output-kintone (retryable GAIA_TM12, GAIA_RE18,
GAIA_DA02). Codes marked UNVERIFIED below come from third-party code only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import requests

from ..errors import (
    AdapterAuthError,
    AdapterConfigError,
    AdapterPermanentError,
    AdapterRateLimited,
    AdapterTemporaryError,
)
from ..http import retry_after

#: Worth retrying: cursor cap reached, database lock failures.
RETRYABLE_CODES = frozenset({"GAIA_TM12", "GAIA_RE18", "GAIA_DA02"})

#: The credentials themselves are wrong.
AUTH_CODES = {
    "CB_AU01": "kintone refused the request as unauthenticated",
    "GAIA_IA02": "the API token is not valid for this app: copy it again from the app's "
                 "settings (設定 > APIトークン) and check that 'アプリを更新' was pressed "
                 "after creating it",
}

#: The token works but may not do this: an admin has to change kintone or our settings.
CONFIG_CODES = {
    "GAIA_NO01": "the API token lacks the permission this request needs "
                 "(APIトークン > アクセス権)",
    "CB_NO02": "no privilege for this operation",
    "GAIA_AP01": "the app does not exist (check app_id and guest_space_id)",
    "GAIA_AP15": "the API token and the app id do not match (UNVERIFIED code)",
    "GAIA_DA03": "the same app was given two API tokens",
    "GAIA_IQ11": "the query names a field the app does not have (check the field codes)",
    "GAIA_IL23": "the app is in a guest space: set guest_space_id (UNVERIFIED code)",
}

VALIDATION_CODE = "CB_VA01"

# "records[3].CallSid.value" (POST) or "records[3].record.CallSid.value" (PUT), and
# "records[3].updateKey.value" for the upsert key itself.
_RECORD_ERROR_KEY = re.compile(r"^records\[(\d+)\]\.(?:record\.)?([^.]+)(?:\.value)?$")


@dataclass(frozen=True)
class KintoneError:
    """The parts of a kintone error response the connector uses."""

    status: int
    code: str = ""
    message: str = ""
    request_id: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_response(cls, response: requests.Response) -> KintoneError:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return cls(status=response.status_code)
        errors = {}
        for key, detail in (body.get("errors") or {}).items():
            messages = detail.get("messages") if isinstance(detail, dict) else None
            errors[str(key)] = [str(m) for m in (messages or [])]
        return cls(status=response.status_code, code=str(body.get("code") or ""),
                   message=str(body.get("message") or ""),
                   request_id=str(body.get("id") or ""), errors=errors)

    def describe(self) -> str:
        """kintone's own words, with field-level messages and the request id for support."""
        text = f"{self.code} {self.message}".strip() or f"HTTP {self.status}"
        details = "; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in self.errors.items())
        if details:
            text += f" ({details})"
        if self.request_id:
            text += f" [kintone request id {self.request_id}]"
        return text


def record_errors(error: KintoneError) -> tuple[dict[int, list[tuple[str, str]]], list[str]]:
    """Split a CB_VA01 error into per-record problems and problems of the whole request.

    Returns:
        ``({record index: [(field code or "updateKey", message), ...]}, [other problems])``.
    """
    per_record: dict[int, list[tuple[str, str]]] = {}
    other: list[str] = []
    for key, messages in error.errors.items():
        match = _RECORD_ERROR_KEY.match(key)
        text = " ".join(messages) or "invalid"
        if match:
            per_record.setdefault(int(match.group(1)), []).append((match.group(2), text))
        else:
            other.append(f"{key}: {text}")
    return per_record, other


def raise_for_error(response: requests.Response, *, adapter: str, where: str,
                    basic_auth: bool) -> None:
    """Raise the typed error for a failed kintone response; return if it succeeded.

    Args:
        where: names the app and operation for the message ("app 'CRM' (app_id 3): lookup").
        basic_auth: whether Basic authentication is configured (changes the 401 advice).
    """
    if response.status_code < 400:
        return
    error = KintoneError.from_response(response)
    text = f"{where}: {error.describe()}"
    if error.code in RETRYABLE_CODES or response.status_code == 429:
        kind = AdapterRateLimited if response.status_code == 429 else AdapterTemporaryError
        raise kind(text, adapter=adapter, retry_after=retry_after(response))
    if error.code in AUTH_CODES:
        raise AdapterAuthError(f"{text} — {AUTH_CODES[error.code]}", adapter=adapter)
    if error.code in CONFIG_CODES:
        raise AdapterConfigError(f"{text} — {CONFIG_CODES[error.code]}", adapter=adapter)
    if response.status_code == 401:
        raise AdapterAuthError(f"{text} — {_advice_401(response, basic_auth)}", adapter=adapter)
    if response.status_code >= 500 or response.status_code == 408:
        raise AdapterTemporaryError(text, adapter=adapter, retry_after=retry_after(response))
    field_code = _only_field(error)
    raise AdapterPermanentError(text, adapter=adapter, field=field_code)


def _advice_401(response: requests.Response, basic_auth: bool) -> str:
    if "basic" in response.headers.get("WWW-Authenticate", "").lower():
        if basic_auth:
            return "Basic authentication failed: check basic_auth_user and basic_auth_password"
        return ("the domain requires Basic authentication: set basic_auth_user and "
                "basic_auth_password")
    return "check the app's API token"


def _only_field(error: KintoneError) -> str | None:
    per_record, _other = record_errors(error)
    fields = {code for problems in per_record.values() for code, _ in problems}
    return fields.pop() if len(fields) == 1 else None
