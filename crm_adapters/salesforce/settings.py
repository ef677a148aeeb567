"""``[crm.salesforce]``: the Salesforce adapter's settings, checked when the connector starts.

Every value that ends up inside a SOQL/SOSL string or a URL path (object and field API names,
the API version) is validated here, so the query builders never see arbitrary text from a
configuration file.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from ..settings import Secret

PRODUCTION_LOGIN_URL = "https://login.salesforce.com"
SANDBOX_LOGIN_URL = "https://test.salesforce.com"

#: sObject Collections upsert (``PATCH /composite/sobjects/{Obj}/{ExtField}``) needs API 46.0.
MIN_API_VERSION = 46

_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
_FIELD_PATH = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79}){0,4}")
_API_VERSION = re.compile(r"(\d{2,3})\.0")

#: Placeholders the call-log subject templates may use.
SUBJECT_PLACEHOLDERS = ("party", "name", "number", "agent", "disposition")


#: simple-salesforce logs in at ``https://{domain}.salesforce.com`` and signs the audience the
#: same way, so only hosts of this shape can be used.
SALESFORCE_HOST_SUFFIX = ".salesforce.com"


def _require_salesforce_url(key: str, url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if (parts.scheme != "https" or not host.endswith(SALESFORCE_HOST_SUFFIX)
            or host == SALESFORCE_HOST_SUFFIX[1:] or parts.port is not None
            or parts.username or parts.path.strip("/") or parts.query or parts.fragment):
        raise ValueError(f"{key}: must be {PRODUCTION_LOGIN_URL}, {SANDBOX_LOGIN_URL} or "
                         "https://<MyDomain>.my.salesforce.com — an https URL of a "
                         "*.salesforce.com host with no port, path or query (the Salesforce "
                         f"client, simple-salesforce, logs in only there); got {url!r}")


def sf_domain(url: str) -> str:
    """``https://acme.my.salesforce.com`` -> ``acme.my``: the form simple-salesforce takes for
    its ``domain`` and ``instance_url`` login arguments."""
    host = urlsplit(url).hostname or ""
    return host.removesuffix(SALESFORCE_HOST_SUFFIX)


def _require_api_version(version: str) -> None:
    match = _API_VERSION.fullmatch(version)
    if not match:
        raise ValueError(f"api_version: expected a version like \"62.0\", got {version!r}")
    if int(match.group(1)) < MIN_API_VERSION:
        raise ValueError(f"api_version: must be {MIN_API_VERSION}.0 or later (sObject "
                         f"Collections upsert), got {version!r}")


def _require_api_name(key: str, name: str) -> None:
    if not _API_NAME.fullmatch(name):
        raise ValueError(f"{key}: {name!r} is not a Salesforce API name (letters, digits and "
                         "underscores, starting with a letter)")


def _require_field_path(key: str, name: str) -> None:
    if not _FIELD_PATH.fullmatch(name):
        raise ValueError(f"{key}: {name!r} is not a field API name or relationship path such "
                         "as Account.Name")


def _require_template(key: str, template: str) -> None:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise ValueError(f"{key}: malformed template {template!r}: {exc}") from None
    for name in names:
        if name not in SUBJECT_PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in SUBJECT_PLACEHOLDERS)
            raise ValueError(f"{key}: unknown placeholder {{{name}}} (known: {known})")


@dataclass(frozen=True)
class ObjectFields:
    """Which fields of one lookup object are searched and returned.

    ``company_field`` may follow a relationship (``Account.Name``); leave it empty when the
    object *is* the company.
    """

    phone_fields: tuple[str, ...]
    name_field: str = "Name"
    company_field: str = ""

    def __post_init__(self) -> None:
        if not self.phone_fields:
            raise ValueError("phone_fields: list at least one phone field")
        for name in self.phone_fields:
            _require_api_name("phone_fields", name)
        _require_field_path("name_field", self.name_field)
        if self.company_field:
            _require_field_path("company_field", self.company_field)

    def select_fields(self) -> list[str]:
        """Fields to ask for, in a stable order without duplicates."""
        wanted = ["Id", self.name_field, *self.phone_fields, self.company_field,
                  "LastModifiedDate"]
        return list(dict.fromkeys(f for f in wanted if f))


#: Sensible defaults for the standard objects; ``object_fields`` overrides them per object.
DEFAULT_OBJECT_FIELDS: dict[str, ObjectFields] = {
    "Contact": ObjectFields(
        phone_fields=("Phone", "MobilePhone", "HomePhone", "OtherPhone", "AssistantPhone"),
        company_field="Account.Name"),
    "Lead": ObjectFields(phone_fields=("Phone", "MobilePhone"), company_field="Company"),
    "Account": ObjectFields(phone_fields=("Phone",)),
}


@dataclass(frozen=True)
class SalesforceSettings:
    """The keys of ``[crm.salesforce]``; see ``docs/salesforce.md`` for each one."""

    #: Production, sandbox, or the org's My Domain URL (a ``*.salesforce.com`` host); the JWT
    #: is posted to ``{login_url}/services/oauth2/token``.
    login_url: str = PRODUCTION_LOGIN_URL
    #: The connected app's consumer key (JWT ``iss``).
    consumer_key: str = ""
    #: The integration user's username (JWT ``sub``).
    username: str = ""
    #: PEM private key whose certificate is uploaded to the connected app.
    private_key: Secret = field(default_factory=lambda: Secret(""))
    #: JWT ``aud``; empty = derived from ``login_url`` (see ``auth.jwt_audience``).
    jwt_audience: str = ""
    api_version: str = "62.0"
    lookup_objects: tuple[str, ...] = ("Contact", "Lead", "Account")
    #: Per-object overrides of :data:`DEFAULT_OBJECT_FIELDS` (required for custom objects).
    object_fields: dict[str, ObjectFields] = field(default_factory=dict)
    #: Task field (External ID, Unique, text) holding the Twilio CallSid; the upsert key.
    task_callsid_field: str = "CTI_CallSid__c"
    #: Task URL field for the recording link; empty = do not write recording links.
    task_recording_field: str = "CTI_Recording_URL__c"
    task_status: str = "Completed"
    subject_inbound: str = "着信 {party}"
    subject_outbound: str = "発信 {party}"
    subject_missed: str = "不在着信 {party}"
    #: How an agent's ``agent_crm_user`` is matched to a Salesforce User.
    agent_match: Literal["username", "email"] = "username"
    #: "api" = the server upserts Tasks; "browser" = the softphone's Open CTI ``saveLog`` only
    #: (editions without API access); "both" = the softphone logs at once, the server upserts
    #: the authoritative version onto the same Task.
    logging_path: Literal["api", "browser", "both"] = "api"
    #: Defer writes while less than this share of the daily API allowance is left.
    api_reserve_percent: float = 10.0

    def __post_init__(self) -> None:
        _require_salesforce_url("login_url", self.login_url)
        object.__setattr__(self, "login_url", self.login_url.rstrip("/"))
        if self.jwt_audience:
            _require_salesforce_url("jwt_audience", self.jwt_audience)
            object.__setattr__(self, "jwt_audience", self.jwt_audience.rstrip("/"))
        if self.uses_api:
            for key in ("consumer_key", "username"):
                if not getattr(self, key).strip():
                    raise ValueError(f"{key}: required unless logging_path = 'browser'")
            if not self.private_key:
                raise ValueError("private_key: required unless logging_path = 'browser'")
        if self.private_key and "-----BEGIN" not in self.private_key.reveal():
            raise ValueError("private_key: not a PEM key (expected '-----BEGIN ... PRIVATE "
                             "KEY-----' text, or { file = \"key.pem\" })")
        _require_api_version(self.api_version)
        self._check_objects()
        _require_api_name("task_callsid_field", self.task_callsid_field)
        if self.task_recording_field:
            _require_api_name("task_recording_field", self.task_recording_field)
        if not self.task_status.strip():
            raise ValueError("task_status: must not be empty")
        for key in ("subject_inbound", "subject_outbound", "subject_missed"):
            _require_template(key, getattr(self, key))
        if not 0 <= self.api_reserve_percent < 100:
            raise ValueError("api_reserve_percent: must be at least 0 and below 100, got "
                             f"{self.api_reserve_percent}")

    @property
    def uses_api(self) -> bool:
        """Whether the server talks to the REST API at all."""
        return self.logging_path != "browser"

    @property
    def api_version_number(self) -> int:
        return int(self.api_version.split(".")[0])

    def fields_for(self, sobject: str) -> ObjectFields:
        """The searched/returned fields of one lookup object."""
        return self.object_fields.get(sobject) or DEFAULT_OBJECT_FIELDS[sobject]

    def _check_objects(self) -> None:
        if not self.lookup_objects:
            raise ValueError("lookup_objects: list at least one object, e.g. [\"Contact\"]")
        for name in self.lookup_objects:
            _require_api_name("lookup_objects", name)
            if name not in self.object_fields and name not in DEFAULT_OBJECT_FIELDS:
                raise ValueError(f"object_fields: no fields configured for {name}; add "
                                 f"[crm.salesforce.object_fields.{name}] with phone_fields")
        for name in self.object_fields:
            _require_api_name("object_fields", name)
