"""Delivering one message to one channel: apprise for most, our own sender for Chatwork.

Apprise (https://github.com/caronc/apprise) speaks e-mail, Slack, Microsoft Teams (Power
Automate workflows), LINE and about a hundred more through one URL syntax. It has no Chatwork
plugin, so ``chatwork://<API token>@<room id>`` is sent here: ``POST /rooms/{room_id}/messages``
with the token in ``X-ChatWorkToken`` and the text as the form field ``body`` (Chatwork API v2).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit

import requests

log = logging.getLogger("cti.notify")


class DeliveryError(Exception):
    """A channel did not take the message; the text never holds the channel's URL."""


def send(url: str, title: str, body: str, *, timeout: float, chatwork_api: str,
         http: requests.Session | None = None) -> None:
    """Send ``body`` (and ``title``) to the channel at ``url``, or raise :class:`DeliveryError`."""
    if url.startswith("chatwork://"):
        send_chatwork(url, title, body, timeout=timeout, api=chatwork_api,
                      http=http or requests.Session())
        return
    send_apprise(url, title, body, timeout=timeout)


def send_chatwork(url: str, title: str, body: str, *, timeout: float, api: str,
                  http: requests.Session) -> None:
    parts = urlsplit(url)
    token, room = unquote(parts.username or ""), parts.hostname or ""
    if not token or not re.fullmatch(r"\d+", room):
        raise DeliveryError("chatwork: the URL must be chatwork://<API token>@<room id>")
    text = f"[info][title]{title}[/title]{body}[/info]" if title else body
    try:
        response = http.post(f"{api.rstrip('/')}/rooms/{room}/messages",
                             headers={"X-ChatWorkToken": token}, data={"body": text},
                             timeout=timeout)
    except requests.RequestException as exc:
        raise DeliveryError(f"chatwork: {type(exc).__name__}") from None
    if response.status_code >= 300:
        raise DeliveryError(f"chatwork: HTTP {response.status_code}")


def send_apprise(url: str, title: str, body: str, *, timeout: float) -> None:
    import apprise

    # apprise's debug lines show the URLs it loads; ours carry credentials.
    apprise_log = logging.getLogger("apprise")
    if apprise_log.getEffectiveLevel() < logging.WARNING:
        apprise_log.setLevel(logging.WARNING)
    notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    scheme = url.split("://", 1)[0]
    # apprise's own timeouts: socket connect/read for web services; the e-mail plugin's.
    separator = "&" if "?" in url else "?"
    if not notifier.add(f"{url}{separator}cto={timeout}&rto={timeout}"):
        raise DeliveryError(f"{scheme}: apprise does not understand this URL")
    with _CapturedApprise() as captured:
        ok = notifier.notify(title=title, body=body)
    if not ok:
        raise DeliveryError(f"{scheme}: not delivered ({captured.reason() or 'no reason given'})")


class _CapturedApprise(logging.Handler):
    """apprise reports why a message failed only in its log; keep the last warning, without
    URLs or anything that looks like a credential."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def reason(self) -> str:
        for message in reversed(self.messages):
            cleaned = re.sub(r"\S+://\S+", "<url>", message)
            cleaned = re.sub(r"(?i)(token|password|secret|key)\S*", r"\1=…", cleaned)
            return cleaned[:200]
        return ""

    def __enter__(self) -> _CapturedApprise:
        logging.getLogger("apprise").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("apprise").removeHandler(self)
