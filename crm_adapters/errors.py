"""Typed errors every adapter raises, so the core knows what to do without knowing the CRM.

The write-back pipeline retries :class:`AdapterTemporaryError` (with backoff), waits out
:class:`AdapterRateLimited` without spending a retry, and parks :class:`AdapterPermanentError`,
:class:`AdapterAuthError` and :class:`AdapterConfigError` in the dead-letter list for an admin.
"""

from __future__ import annotations


class AdapterError(Exception):
    """Base class. ``adapter`` names the adapter; messages must never contain secrets."""

    def __init__(self, message: str, *, adapter: str = "") -> None:
        super().__init__(message)
        self.adapter = adapter

    def __str__(self) -> str:
        text = super().__str__()
        return f"[{self.adapter}] {text}" if self.adapter else text


class AdapterConfigError(AdapterError):
    """The adapter's settings are wrong or incomplete; fatal until an admin fixes them."""


class AdapterAuthError(AdapterError):
    """The CRM refused our credentials (after any re-authentication the adapter attempts)."""


class AdapterTemporaryError(AdapterError):
    """Timeouts, connection failures, HTTP 429 and 5xx, record locks: worth retrying."""

    def __init__(self, message: str, *, adapter: str = "", retry_after: float | None = None):
        super().__init__(message, adapter=adapter)
        self.retry_after = retry_after


class AdapterRateLimited(AdapterTemporaryError):
    """The CRM's quota is (nearly) spent: wait ``retry_after`` seconds; no retry is used up."""


class AdapterPermanentError(AdapterError):
    """The CRM rejected the request itself (validation, missing field): retrying cannot help."""

    def __init__(self, message: str, *, adapter: str = "", field: str | None = None):
        super().__init__(message, adapter=adapter)
        self.field = field
