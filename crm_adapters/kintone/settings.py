"""Settings of the kintone adapter: the ``[crm.kintone]`` table and its ``[[crm.kintone.apps]]``.

They mirror Hasso's kintone screens (URL, Basic authentication, apps with a kind, phone and name
fields) plus the limits kintone puts on a whole domain. Every check raises ``ValueError`` with a
message that starts with the offending key, so :func:`crm_adapters.settings.parse_settings` can
report ``crm.kintone.apps[1]: phone_fields: ...``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from ..settings import Secret

#: kintone allows 100 simultaneous REST requests per *domain*, shared with every other plugin
#: and integration of the customer; going over answers HTTP 429 to everybody.
DOMAIN_CONCURRENCY_LIMIT = 100

#: Host suffixes kintone is served from (Japan, US, China; developer licences use cybozu.com).
KINTONE_DOMAINS = ("cybozu.com", "kintone.com", "cybozu.cn")

#: Most general apps an installation may register (Hasso: "8 つまで登録できます").
MAX_GENERAL_APPS = 8

CRM_ONLY_KEYS = ("phone_fields", "name_fields", "company_field")


@dataclass(frozen=True)
class CallHistoryFields:
    """Field codes of the call-history app; each optional except ``call_sid``.

    Unmapped values are not written. ``call_sid`` must be a text field with "値の重複を禁止する"
    (prohibit duplicate values) on: it is the key every write upserts on, so a retried write
    updates the record it already made instead of adding a second one.
    """

    call_sid: str
    direction: str = ""  # text, drop-down or radio button; values from direction_labels
    status: str = ""  # final Twilio status (completed, busy, no-answer, ...)
    from_number: str = ""
    to_number: str = ""
    customer_number: str = ""
    started_at: str = ""  # DATETIME
    answered_at: str = ""  # DATETIME
    ended_at: str = ""  # DATETIME
    duration_seconds: str = ""  # NUMBER
    talk_seconds: str = ""  # NUMBER
    agent: str = ""  # text: the agent's display name
    agent_user: str = ""  # USER_SELECT: the agent's kintone login name, when mapped
    customer_record_id: str = ""  # the CRM app's record id ($id)
    customer_name: str = ""
    disposition: str = ""
    notes: str = ""
    recording_url: str = ""  # LINK or text: short-lived link through the connector

    def __post_init__(self) -> None:
        if not self.call_sid.strip():
            raise ValueError("call_sid: the field code of the unique CallSid field is required")

    def mapped(self) -> dict[str, str]:
        """``{CallLog attribute: field code}`` for every mapped field."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name)}


@dataclass(frozen=True)
class KintoneApp:
    """One ``[[crm.kintone.apps]]`` table: a kintone app and what the connector uses it for."""

    name: str  # the connector's name for the app (need not match kintone's app name)
    kind: Literal["crm", "call_history", "general"]
    app_id: int
    api_token: Secret
    phone_fields: tuple[str, ...] = ()  # crm: field codes holding phone numbers
    name_fields: tuple[str, ...] = ()  # crm: field codes joined into the customer's name
    company_field: str = ""  # crm
    updated_time_field: str = "更新日時"  # crm: the UPDATED_TIME field (sync cursor)
    fields: CallHistoryFields | None = None  # call_history
    direction_labels: dict[str, str] = field(
        default_factory=lambda: {"inbound": "着信", "outbound": "発信"})

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("name: must not be empty")
        if self.app_id < 1:
            raise ValueError(f"app_id: must be a positive kintone app id, got {self.app_id}")
        if not self.api_token:
            raise ValueError("api_token: must not be empty (create one in the app's settings)")
        if self.kind == "crm":
            self._check_crm()
        else:
            for key in CRM_ONLY_KEYS:
                if getattr(self, key):
                    raise ValueError(f'{key}: only apps of kind "crm" have {key}')
        if self.kind == "call_history":
            if self.fields is None:
                raise ValueError('fields: a "call_history" app needs a fields table with at '
                                 "least call_sid")
            missing = {"inbound", "outbound"} - set(self.direction_labels)
            if missing:
                raise ValueError(f"direction_labels: needs labels for {sorted(missing)}")
        elif self.fields is not None:
            raise ValueError('fields: only apps of kind "call_history" have fields')

    def _check_crm(self) -> None:
        if not self.phone_fields:
            raise ValueError('phone_fields: a "crm" app needs at least one phone field code')
        if not self.name_fields:
            raise ValueError('name_fields: a "crm" app needs at least one name field code')
        if not self.updated_time_field:
            raise ValueError("updated_time_field: must not be empty")

    @property
    def label(self) -> str:
        """How messages name the app: the connector's name and kintone's app id."""
        return f"'{self.name}' (app_id {self.app_id})"


@dataclass(frozen=True)
class KintoneSettings:
    """The ``[crm.kintone]`` table."""

    base_url: str  # https://<subdomain>.cybozu.com (or kintone.com, cybozu.cn)
    apps: tuple[KintoneApp, ...]
    guest_space_id: int | None = None  # when the apps live in a guest space
    basic_auth_user: str = ""  # only when the domain has extra Basic authentication
    basic_auth_password: Secret | None = None
    max_concurrency: int = 10  # our share of the domain's 100 simultaneous requests
    daily_request_warning: int = 9000  # warn once per app per day past this many requests
    slot_timeout: float = 5.0  # seconds to wait for a free concurrency slot
    sync_method: Literal["seek", "cursor"] = "seek"

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))
        if bool(self.basic_auth_user) != bool(self.basic_auth_password):
            raise ValueError("basic_auth_user: set both basic_auth_user and "
                             "basic_auth_password, or neither")
        if not 1 <= self.max_concurrency <= DOMAIN_CONCURRENCY_LIMIT:
            raise ValueError(f"max_concurrency: must be 1-{DOMAIN_CONCURRENCY_LIMIT} (kintone "
                             "allows 100 simultaneous requests per domain, shared with every "
                             f"other integration), got {self.max_concurrency}")
        if self.daily_request_warning < 1:
            raise ValueError("daily_request_warning: must be positive")
        if self.slot_timeout <= 0:
            raise ValueError("slot_timeout: must be positive")
        if self.guest_space_id is not None and self.guest_space_id < 1:
            raise ValueError("guest_space_id: must be a positive space id")
        check_app_kinds(self.apps)

    @property
    def domain(self) -> str:
        """The host; kintone's concurrency limit and our counters are per domain."""
        return urlsplit(self.base_url).hostname or ""

    def app(self, kind: str) -> KintoneApp | None:
        """The (first) app of ``kind``, if configured."""
        return next((a for a in self.apps if a.kind == kind), None)

    def app_named(self, name: str) -> KintoneApp | None:
        return next((a for a in self.apps if a.name == name), None)


def check_app_kinds(apps: tuple[KintoneApp, ...]) -> None:
    """One CRM app, at most one call-history app, at most eight general apps, unique names."""
    kinds = [a.kind for a in apps]
    if kinds.count("crm") != 1:
        where = [i for i, k in enumerate(kinds) if k == "crm"]
        detail = f"found {len(where)}" + (f" (apps{where})" if where else "")
        raise ValueError(f'apps: exactly one app must have kind = "crm", {detail}')
    if kinds.count("call_history") > 1:
        where = [i for i, k in enumerate(kinds) if k == "call_history"]
        raise ValueError(f'apps: at most one app may have kind = "call_history", found '
                         f"apps{where}")
    if kinds.count("general") > MAX_GENERAL_APPS:
        raise ValueError(f'apps: at most {MAX_GENERAL_APPS} apps may have kind = "general", '
                         f'found {kinds.count("general")}')
    seen: dict[str, int] = {}
    for i, app in enumerate(apps):
        if app.name in seen:
            raise ValueError(f"apps[{i}].name: {app.name!r} is already used by "
                             f"apps[{seen[app.name]}]")
        seen[app.name] = i


def normalise_base_url(url: str) -> str:
    """``https://example.cybozu.com`` from whatever admins paste (login page, ``/k/`` paths).

    Plain ``http`` is accepted only for loopback hosts (local fakes and development).

    Raises:
        ValueError: naming ``base_url`` and what is wrong.
    """
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("http", "https"):
        raise ValueError(f"base_url: expected https://<subdomain>.cybozu.com, got {url!r}")
    if parts.username or parts.password:
        raise ValueError("base_url: must not contain credentials; use basic_auth_user and "
                         "basic_auth_password")
    if _is_loopback(host):
        return f"{parts.scheme}://{parts.netloc}"
    if parts.scheme != "https":
        raise ValueError(f"base_url: kintone is served over https, got {url!r}")
    if not any(host.endswith("." + d) for d in KINTONE_DOMAINS):
        raise ValueError(f"base_url: {host!r} is not a kintone domain (expected "
                         "<subdomain>.cybozu.com, .kintone.com or .cybozu.cn)")
    if host.endswith(".s.cybozu.com"):
        raise ValueError("base_url: Secure Access (.s.cybozu.com) needs client certificates, "
                         "which the connector does not support; use the normal domain and "
                         "allow the connector's IP address instead")
    return f"https://{host}" + (f":{parts.port}" if parts.port else "")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
