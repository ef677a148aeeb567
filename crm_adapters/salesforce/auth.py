"""OAuth 2.0 JWT bearer flow: an access token for the integration user, no password stored.

The connector signs a short-lived JWT (RS256) with the private key whose certificate is
uploaded to the connected app, and posts it to ``{login_url}/services/oauth2/token``. The answer
carries ``access_token`` and ``instance_url`` but no refresh token and no expiry, so the token is
kept until the API says ``INVALID_SESSION_ID`` and then fetched again.
https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import jwt
import requests

from ..errors import AdapterAuthError, AdapterConfigError, AdapterTemporaryError
from ..http import raise_for_status, transport_errors
from .settings import PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL, SalesforceSettings

#: Seconds the assertion is valid; Salesforce allows about three minutes.
ASSERTION_LIFETIME = 180

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class Session:
    """An access token and the org's own URL (all data requests go there)."""

    access_token: str
    instance_url: str

    def __repr__(self) -> str:
        return f"Session(instance_url={self.instance_url!r})"


def jwt_audience(settings: SalesforceSettings) -> str:
    """The JWT ``aud`` claim.

    Salesforce documents three audiences: ``https://login.salesforce.com``,
    ``https://test.salesforce.com`` and an Experience Cloud site URL. A My Domain login URL is
    mapped to the first two (sandbox My Domains contain ``.sandbox.`` or ``--``) — UNVERIFIED for
    every My Domain shape; set ``jwt_audience`` explicitly if the token endpoint answers
    "audience is invalid". Any other URL is taken as a site URL and used as is.
    """
    if settings.jwt_audience:
        return settings.jwt_audience.rstrip("/")
    host = urlsplit(settings.login_url).hostname or ""
    if host in ("login.salesforce.com", "test.salesforce.com"):
        return f"https://{host}"
    if host.endswith(".my.salesforce.com"):
        sandbox = ".sandbox." in host or "--" in host.split(".")[0]
        return SANDBOX_LOGIN_URL if sandbox else PRODUCTION_LOGIN_URL
    return settings.login_url


class JwtBearerAuth:
    """Fetches and caches the access token for one adapter instance (thread-safe)."""

    def __init__(self, settings: SalesforceSettings, http: requests.Session, *,
                 adapter: str) -> None:
        self.settings = settings
        self.http = http
        self.adapter = adapter
        self._lock = threading.Lock()
        self._session: Session | None = None
        self.token_requests = 0  # observability: how often we had to log in

    def session(self) -> Session:
        """The cached session, logging in first if there is none."""
        with self._lock:
            if self._session is None:
                self._session = self._request_token()
            return self._session

    @property
    def cached(self) -> Session | None:
        return self._session

    def refresh(self, stale: Session) -> Session:
        """A new session after ``stale`` was refused; shared if another thread already did it."""
        with self._lock:
            if self._session is None or self._session == stale:
                self._session = None
                self._session = self._request_token()
            return self._session

    def assertion(self, now: float | None = None) -> str:
        """The signed JWT posted to the token endpoint."""
        issued = int(now if now is not None else time.time())
        claims = {"iss": self.settings.consumer_key, "sub": self.settings.username,
                  "aud": jwt_audience(self.settings), "exp": issued + ASSERTION_LIFETIME}
        try:
            return jwt.encode(claims, self.settings.private_key.reveal(), algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            # cryptography's messages describe the key format, never the key itself.
            raise AdapterConfigError(
                f"private_key: cannot sign with it ({type(exc).__name__}); it must be an "
                "unencrypted RSA private key in PEM format", adapter=self.adapter) from None

    def _request_token(self) -> Session:
        url = f"{self.settings.login_url}/services/oauth2/token"
        data = {"grant_type": GRANT_TYPE, "assertion": self.assertion()}
        self.token_requests += 1
        with transport_errors(self.adapter):
            response = self.http.post(url, data=data, headers={"Accept": "application/json"})
        if response.status_code != 200:
            raise_token_error(response, self.settings, adapter=self.adapter)
        body = _json(response)
        token, instance = body.get("access_token"), body.get("instance_url")
        if not token or not instance:
            raise AdapterTemporaryError("token endpoint answered without access_token or "
                                        "instance_url", adapter=self.adapter)
        return Session(access_token=token, instance_url=instance.rstrip("/"))


#: (error, words in error_description) -> (error class, what to fix). First match wins.
_TOKEN_ERRORS: list[tuple[str, str, type, str]] = [
    ("invalid_client_id", "", AdapterConfigError,
     "consumer_key is not the consumer key of a connected app in this org (copy it from "
     "Setup > App Manager > the app > View > Consumer Key)"),
    ("invalid_client", "", AdapterConfigError,
     "consumer_key was refused; check it and that the connected app uses digital signatures"),
    ("invalid_grant", "approved", AdapterConfigError,
     "the integration user is not pre-authorised: in the connected app set Permitted Users = "
     "\"Admin approved users are pre-authorized\" and add the user's profile or permission set"),
    ("invalid_grant", "audience", AdapterConfigError,
     "the JWT audience was refused: use login_url https://login.salesforce.com (production) or "
     "https://test.salesforce.com (sandbox), or set jwt_audience"),
    ("invalid_grant", "signature", AdapterConfigError,
     "the signature does not match the connected app's certificate: private_key must be the "
     "key of the uploaded certificate"),
    ("invalid_grant", "assertion", AdapterConfigError,
     "the JWT was refused: private_key must match the connected app's certificate, and this "
     "server's clock must be right (the assertion lives 3 minutes)"),
    ("invalid_grant", "expired", AdapterConfigError,
     "the JWT had expired on arrival: correct this server's clock (NTP)"),
    ("invalid_grant", "inactive", AdapterAuthError,
     "the integration user is inactive or frozen; reactivate it in Setup > Users"),
    ("invalid_grant", "user", AdapterConfigError,
     "username is not an active user of this org (sandbox usernames end in .<sandbox>)"),
    ("invalid_grant", "", AdapterAuthError,
     "Salesforce refused the login; check username, the connected app policies and login "
     "IP ranges"),
    ("inactive_user", "", AdapterAuthError,
     "the integration user is inactive; reactivate it in Setup > Users"),
    ("inactive_org", "", AdapterAuthError, "the org is locked, closed or suspended"),
]


def raise_token_error(response: requests.Response, settings: SalesforceSettings, *,
                      adapter: str) -> None:
    """Turn a token-endpoint failure into a typed error that says what to fix."""
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise_for_status(response, adapter=adapter, detail="token endpoint unavailable")
    body = _json(response) if response.content else {}
    error = str(body.get("error", "")) if isinstance(body, dict) else ""
    description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
    for code, words, error_class, advice in _TOKEN_ERRORS:
        if error == code and words in description.lower():
            raise error_class(f"token request for {settings.username!r} failed "
                              f"({error}: {description}): {advice}", adapter=adapter)
    if response.status_code == 404:
        raise AdapterConfigError(f"login_url {settings.login_url!r} has no OAuth token "
                                 "endpoint; use https://login.salesforce.com, "
                                 "https://test.salesforce.com or your My Domain URL",
                                 adapter=adapter)
    raise AdapterAuthError(f"token request failed with HTTP {response.status_code} "
                           f"({error or 'no error code'}: {description})", adapter=adapter)


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
