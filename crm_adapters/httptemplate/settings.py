"""``[crm.http.<name>]``: the settings of one URL-template integration (SPEC HT-1, HT-2)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from ..settings import Secret
from .placeholders import unknown_placeholders
from .responses import ResponseFormatError, check_text_format

#: Events a template can be fired on, in the order of a call.
EVENTS = ("click", "incoming", "answered", "hangup", "wrapup")
#: Schemes a browser template may not use: they run code in the softphone's page or read the
#: agent's files instead of handing the URL to an app.
UNSAFE_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about",
                            "filesystem", "view-source"})
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]+")


def app_scheme(url: str) -> str:
    """The scheme of a URL an app on the agent's PC opens (``myapp:``, ``sip:``), else "".

    BIZTEL's "OSコマンド" starts a program with the caller's number; a browser cannot, but it
    hands a URL of a scheme an app registered (``myapp://open?tel={TEL}``) to that app.
    """
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme in ("http", "https") or scheme in UNSAFE_SCHEMES:
        return ""
    return scheme if _SCHEME.fullmatch(scheme) else ""


@dataclass(frozen=True)
class Template:
    """One request: ``[crm.http.<name>.<event>]``.

    ``method``: GET puts everything in the URL; POST sends ``body`` (a form template
    ``tel={TEL}&name={NAME}``, or a JSON template with ``body_format = "json"``) — or, with no
    body, the URL's query string as a form (BIZTEL's "HTTP POST"). ``run``: ``server`` — the
    connector sends it (queued, retried, exactly once per call and event); ``browser`` — the
    agent's softphone opens it as a screen pop — or, for a URL of an app's own scheme
    (``myapp://open?tel={TEL}``, :func:`app_scheme`), hands it to that app on the agent's PC.
    """

    url: str = ""
    method: Literal["GET", "POST"] = "GET"
    body: str = ""
    body_format: Literal["form", "json"] = "form"
    run: Literal["server", "browser"] = "server"
    #: answered: seconds to wait before firing (BIZTEL 応答時アクセス実行までの待機時間)
    delay_seconds: float = 0.0
    #: hangup: fire only when the call was answered (応答した時のみ切断時アクセスを実行する)
    only_answered: bool = False

    def __post_init__(self) -> None:
        url = urlsplit(self.url.replace("{", "").replace("}", ""))
        if self.run == "browser" and app_scheme(self.url):
            if self.method != "GET":
                raise ValueError("method: a URL of an app's own scheme is opened with GET")
        elif url.scheme not in ("http", "https") or not url.netloc:
            hint = (" (or, with run = \"browser\", a URL of an app's own scheme such as "
                    "myapp://open?tel={TEL}; a program path cannot be started from a browser)"
                    if self.run == "browser" else "")
            raise ValueError(f"url: an http(s) URL template is required, got {self.url!r}"
                             f"{hint}")
        if self.body and self.method == "GET":
            raise ValueError("body: only a POST template has a body")
        if not 0 <= self.delay_seconds <= 600:
            raise ValueError("delay_seconds: must be between 0 and 600")
        if self.body_format == "json" and self.body:
            _check_json_shape(self.body)


@dataclass(frozen=True)
class SearchTemplate:
    """``[crm.http.<name>.search]``: look a caller up (always server-side)."""

    url: str = ""
    method: Literal["GET", "POST"] = "GET"
    body: str = ""
    body_format: Literal["form", "json"] = "form"
    #: "text": ``format`` below; "json": ``items_path`` and ``fields``.
    response: Literal["text", "json"] = "text"
    format: str = "{NAME}{CRLF}{COMPANY}"
    items_path: str = ""
    fields: dict[str, str] = field(default_factory=lambda: {
        "id": "id", "name": "name", "company": "company", "url": "url"})
    #: Where an agent's browser sees a found customer; placeholders {ID} {TEL} {NAME}.
    record_url: str = ""

    def __post_init__(self) -> None:
        Template(url=self.url, method=self.method, body=self.body, body_format=self.body_format)
        if self.response == "text":
            try:
                check_text_format(self.format)
            except ResponseFormatError as exc:
                raise ValueError(f"format: {exc}") from None
        unknown = sorted(set(self.fields) - {"id", "name", "company", "url"})
        if unknown:
            raise ValueError(f"fields: unknown field(s) {', '.join(unknown)} "
                             "(known: id, name, company, url)")


@dataclass(frozen=True)
class AuthTemplate:
    """``[crm.http.<name>.auth]``: sign in and keep the session (BIZTEL 認証アクセス)."""

    url: str = ""
    method: Literal["GET", "POST"] = "GET"
    body: str = ""
    body_format: Literal["form", "json"] = "form"
    #: Where the session is in the answer: a text template with {SID}, or "json:<path>".
    format: str = "{SID}"
    #: Sign in again after this many minutes (BIZTEL セッション維持時間).
    session_minutes: int = 30

    def __post_init__(self) -> None:
        Template(url=self.url, method=self.method, body=self.body, body_format=self.body_format)
        if not self.format.startswith("json:"):
            try:
                check_text_format(self.format)
            except ResponseFormatError as exc:
                raise ValueError(f"format: {exc}") from None
            if "{SID}" not in self.format:
                raise ValueError("format: must hold {SID}")
        if not 1 <= self.session_minutes <= 24 * 60:
            raise ValueError("session_minutes: must be between 1 and 1440")


@dataclass(frozen=True)
class HTTPTemplateSettings:
    """``[crm.http.<name>]``: one CRM reached through URL templates."""

    display_name: str = ""
    auth: AuthTemplate | None = None
    search: SearchTemplate | None = None
    click: Template | None = None
    incoming: Template | None = None
    answered: Template | None = None
    hangup: Template | None = None
    wrapup: Template | None = None
    #: Seconds each request may take (BIZTEL 連携タイムアウト時間).
    timeout_seconds: float = 5.0
    #: Our numbers this integration is for (E.164 or national); empty: all of them.
    target_numbers: list[str] = field(default_factory=list)
    #: Do nothing for calls between agents (内線着信時はCRM連携しない).
    skip_internal: bool = True
    #: Numbers as {TEL} and {CALLED} carry them: "national" 0312345678, "e164"
    #: +81312345678, "hyphen" 03-1234-5678.
    number_format: Literal["national", "e164", "hyphen"] = "national"
    #: Charset of values percent-encoded into URLs: "utf-8" or "shift_jis".
    url_charset: Literal["utf-8", "shift_jis"] = "utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    #: The caller number ``cti doctor`` searches for and renders test requests with.
    test_number: str = "+81355501234"
    #: Values for {SECRET:<key>}: passwords, API keys (masked everywhere).
    secrets: dict[str, Secret] = field(default_factory=dict)
    #: HT-2: per our number, a URL the softphone opens on ring / on answer; @@@@ → caller.
    ring_popups: dict[str, str] = field(default_factory=dict)
    answer_popups: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.1 <= self.timeout_seconds <= 30:
            raise ValueError("timeout_seconds: must be between 0.1 and 30")
        if not re.fullmatch(r"\+[1-9][0-9]{6,14}", self.test_number):
            raise ValueError(f"test_number: an E.164 number is required, got "
                             f"{self.test_number!r}")
        for key, value in self.headers.items():
            if "{" in value and unknown_placeholders(value, self.secrets):
                raise ValueError(f"headers.{key}: unknown placeholder "
                                 f"{unknown_placeholders(value, self.secrets)[0]}")
        for name in ("auth", "search", *EVENTS):
            template = getattr(self, name)
            if template is None:
                continue
            for part in ("url", "body"):
                bad = unknown_placeholders(getattr(template, part), self.secrets)
                if bad:
                    raise ValueError(f"{name}.{part}: unknown placeholder {bad[0]}")
        for table in ("ring_popups", "answer_popups"):
            for number, url in getattr(self, table).items():
                try:
                    Template(url=url)
                except ValueError as exc:
                    raise ValueError(f"{table}.{number}: {exc}") from None

    def templates(self) -> dict[str, Template]:
        """The configured event templates by event."""
        return {e: getattr(self, e) for e in EVENTS if getattr(self, e) is not None}


def _check_json_shape(body: str) -> None:
    # Placeholders sit inside JSON strings; with them blanked out the body must be valid JSON.
    blank = re.sub(r"\{(SECRET:[A-Za-z0-9_\-]+|[A-Z][A-Z_\-]*)\}", "", body)
    try:
        json.loads(blank)
    except json.JSONDecodeError as exc:
        raise ValueError(f"body: not a JSON template ({exc.msg} at character {exc.pos}); "
                         "put placeholders inside strings: {\"tel\": \"{TEL}\"}") from None
