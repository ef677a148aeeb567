"""The CRM adapter interface: plain data in, plain data out.

An adapter is one small class per CRM. It receives its own settings object (a frozen dataclass
parsed from ``[crm.<name>]``), an HTTP session with timeouts and a small environment description —
never the Flask app, Redis or the database of the connector. Phone numbers reaching an adapter are
already normalised to E.164 by the core; numbers coming *from* a CRM are passed back as stored and
normalised by the core.

Version 1 of the interface has five methods: :meth:`~CRMAdapter.lookup_by_phone`,
:meth:`~CRMAdapter.write_call_logs`, :meth:`~CRMAdapter.screen_pop_url`,
:meth:`~CRMAdapter.contacts_changed_since` and :meth:`~CRMAdapter.check`.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal, Protocol
from zoneinfo import ZoneInfo

import requests

from .errors import AdapterTemporaryError

#: Bumped on any incompatible change of this module; the registry refuses other versions.
API_VERSION = 1


@dataclass(frozen=True)
class Customer:
    """A CRM record that matches a phone number (or was changed, for the phone index)."""

    adapter: str
    record_id: str
    display_name: str
    object_type: str = ""  # e.g. "Contact", "Lead", "Account", or a kintone app id
    company: str = ""
    phone_numbers: tuple[str, ...] = ()  # as stored in the CRM; the core normalises them
    url: str = ""  # screen-pop URL, when the adapter knows it
    updated_at: str = ""  # ISO 8601 UTC modification time (sync cursor)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["phone_numbers"] = list(self.phone_numbers)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Customer:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["phone_numbers"] = tuple(values.get("phone_numbers") or ())
        return cls(**values)


@dataclass(frozen=True)
class CallLog:
    """One finished (or wrapped-up) call as one CRM should record it.

    The core builds one ``CallLog`` per (call, adapter): ``customer_record_id`` is the record in
    *this* CRM — the one the agent clicked, popped or chose, else the lookup's single match.
    Writing the same ``call_sid`` again must update the same CRM record, never add one.
    """

    call_sid: str
    direction: Literal["inbound", "outbound"]
    status: str  # final Twilio CallStatus: completed, busy, no-answer, failed, canceled
    from_number: str  # E.164, or "client:<identity>" for the browser leg
    to_number: str
    customer_number: str  # the external party, E.164 ("" if none)
    started_at: str  # ISO 8601 UTC
    answered_at: str | None = None
    ended_at: str | None = None
    duration_seconds: int = 0  # start to end
    talk_seconds: int = 0  # answer to end
    agent_username: str = ""
    agent_name: str = ""
    agent_email: str = ""
    agent_crm_user: str = ""  # the agent's user in this CRM (username or e-mail), if mapped
    customer_record_id: str = ""
    customer_object_type: str = ""
    customer_name: str = ""
    disposition: str = ""
    notes: str = ""
    recording_url: str = ""  # short-lived signed link through the connector, never Twilio's

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallLog:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one log in a batch: a CRM record id, or a permanent per-record error.

    Failures that affect the whole batch (auth, timeouts, 5xx) are raised instead.
    """

    call_sid: str
    record_id: str = ""
    error: str = ""  # permanent error for this record only; never retried
    field: str = ""  # the CRM field the error concerns, when the CRM says

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class Check:
    """One verdict of a connection check: what was checked, and what to fix if it failed."""

    name: str
    ok: bool
    message: str
    severity: Literal["error", "warning", "info"] = "error"


class Limiter(Protocol):
    """Limits shared by every process of a deployment (the connector backs them with Redis).

    CRMs limit whole tenants, not processes — kintone allows 100 concurrent requests per domain
    and counts requests per app per day — so adapters count and throttle through this.
    """

    def slot(self, name: str, limit: int, timeout: float) -> AbstractContextManager[None]:
        """Hold one of ``limit`` slots named ``name`` for the duration of the block; raise
        :class:`~crm_adapters.errors.AdapterTemporaryError` if none frees up within ``timeout``."""

    def count_today(self, name: str, tz: str = "Asia/Tokyo", reset_hour: int = 0) -> int:
        """Add one to today's counter ``name`` (a day starts at ``reset_hour`` in ``tz``) and
        return the new value."""


class LocalLimiter:
    """A :class:`Limiter` for one process (tests, scripts). Not shared between processes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._semaphores: dict[str, threading.BoundedSemaphore] = {}
        self._counts: dict[tuple[str, str], int] = {}

    @contextlib.contextmanager
    def slot(self, name: str, limit: int, timeout: float) -> Iterator[None]:
        with self._lock:
            semaphore = self._semaphores.setdefault(name, threading.BoundedSemaphore(limit))
        if not semaphore.acquire(timeout=timeout):
            raise AdapterTemporaryError(f"all {limit} slots of {name!r} busy for {timeout} s")
        try:
            yield
        finally:
            semaphore.release()

    def count_today(self, name: str, tz: str = "Asia/Tokyo", reset_hour: int = 0) -> int:
        day = (datetime.now(ZoneInfo(tz)) - timedelta(hours=reset_hour)).date().isoformat()
        with self._lock:
            self._counts[(name, day)] = self._counts.get((name, day), 0) + 1
            return self._counts[(name, day)]


@dataclass(frozen=True)
class AdapterEnvironment:
    """What the connector tells every adapter about the deployment it runs in."""

    public_base_url: str = "http://127.0.0.1:5000"
    database_url: str = ""  # the connector's database (used by the built-in CRM only)
    timezone: str = "Asia/Tokyo"
    limiter: Limiter = dataclasses.field(default_factory=LocalLimiter)


@dataclass(frozen=True)
class NoSettings:
    """Settings class for adapters that need none."""


class CRMAdapter(abc.ABC):
    """Base class for CRM adapters. Subclass it, set the class attributes, implement two methods.

    Class attributes:
        name: the entry-point name and ``[crm.<name>]`` table name.
        display_name: shown to admins.
        api_version: the interface version the adapter was written for.
        Settings: frozen dataclass of the adapter's configuration keys.
        write_batch_limit: most logs :meth:`write_call_logs` accepts in one call.
        supports_sync: whether :meth:`contacts_changed_since` is implemented.
    """

    name: ClassVar[str]
    display_name: ClassVar[str] = ""
    api_version: ClassVar[int] = API_VERSION
    Settings: ClassVar[type] = NoSettings
    write_batch_limit: ClassVar[int] = 1
    supports_sync: ClassVar[bool] = False

    def __init__(self, settings: Any, *, http: requests.Session,
                 env: AdapterEnvironment | None = None) -> None:
        self.settings = settings
        self.http = http
        self.env = env or AdapterEnvironment()
        self.log = logging.getLogger(f"cti.crm.{self.name}")

    @property
    def server_side(self) -> bool:
        """Whether the connector talks to this CRM from the server (lookups, sync, write-back).

        False for a CRM reached only from the agent's browser, e.g. Salesforce editions without
        API access, where the softphone logs calls with Open CTI ``saveLog``.
        """
        return True

    def __repr__(self) -> str:
        # Settings hold secrets; never let them into a repr (and so into logs or tracebacks).
        return f"<{type(self).__name__} name={self.name!r}>"

    @abc.abstractmethod
    def lookup_by_phone(self, e164: str) -> list[Customer]:
        """Customers whose phone fields hold ``e164`` in any stored format; ``[]`` if none.

        Raises :class:`~crm_adapters.errors.AdapterError` subclasses when the CRM cannot answer —
        "no customer" and "CRM down" must never look the same.
        """

    @abc.abstractmethod
    def write_call_logs(self, logs: Sequence[CallLog]) -> list[WriteResult]:
        """Upsert up to :attr:`write_batch_limit` logs keyed by ``call_sid``; one result per log,
        in order. Raise for failures of the whole request; report per-record rejections in
        :class:`WriteResult`.
        """

    def screen_pop_url(self, customer: Customer) -> str | None:
        """Where an agent's browser should go to see ``customer``."""
        return customer.url or None

    def contacts_changed_since(self, since: datetime | None) -> Iterator[Customer]:
        """Every customer with a phone number changed after ``since`` (all when ``None``),
        oldest change first, for the local phone index. Set :attr:`supports_sync` when
        implemented."""
        raise NotImplementedError(f"{self.name} does not support syncing contacts")

    def check(self) -> list[Check]:
        """Test the connection and settings; say exactly what to fix. Never raises."""
        return [Check("configuration", True, "no connection check implemented", "info")]


def field_names(cls: type) -> list[str]:
    """Names of a settings dataclass's keys (used for documentation tests)."""
    return [f.name for f in dataclasses.fields(cls)]


__all__ = [
    "API_VERSION",
    "AdapterEnvironment",
    "CRMAdapter",
    "CallLog",
    "Check",
    "Customer",
    "Limiter",
    "LocalLimiter",
    "NoSettings",
    "WriteResult",
    "field_names",
]
