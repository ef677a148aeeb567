"""OAuth 2.0 JWT bearer flow through simple-salesforce: an access token, no password stored.

``simple_salesforce.SalesforceLogin`` signs a short-lived JWT (RS256: ``iss`` = consumer key,
``sub`` = username, ``aud`` = ``https://{domain}.salesforce.com``, ``exp`` = now + 3 minutes) with
the private key whose certificate is uploaded to the connected app, and posts it to
``https://{instance}.salesforce.com/services/oauth2/token`` through the injected session (which
carries the timeouts). The answer has no refresh token and no expiry, so the token is kept until
the API refuses it and then fetched again.
https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm

simple-salesforce builds both URLs from ``*.salesforce.com`` host names, so ``login_url`` and
``jwt_audience`` are limited to such hosts (checked in ``settings.py``).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import SalesforceAuthenticationFailed
from simple_salesforce.login import SalesforceLogin

from ..errors import AdapterAuthError, AdapterConfigError, AdapterError, AdapterTemporaryError
from ..http import status_error, transport_errors
from .settings import PRODUCTION_LOGIN_URL, SANDBOX_LOGIN_URL, SalesforceSettings, sf_domain

_SELF_AUTHORIZE_ADVICE = r"\s*If your connected app policy is set to"


@dataclass(frozen=True)
class Session:
    """An access token and the org's own URL (all data requests go there)."""

    access_token: str
    instance_url: str

    def __repr__(self) -> str:
        return f"Session(instance_url={self.instance_url!r})"


def jwt_audience(settings: SalesforceSettings) -> str:
    """The JWT ``aud`` claim.

    Salesforce documents ``https://login.salesforce.com`` and ``https://test.salesforce.com``
    (and Experience Cloud site URLs, which simple-salesforce cannot send). A My Domain login URL
    is mapped to the first two (sandbox My Domains contain ``.sandbox.`` or ``--``) — UNVERIFIED
    for every My Domain shape; set ``jwt_audience`` if the token endpoint answers "audience is
    invalid".
    """
    if settings.jwt_audience:
        return settings.jwt_audience
    host = urlsplit(settings.login_url).hostname or ""
    if host in ("login.salesforce.com", "test.salesforce.com"):
        return f"https://{host}"
    sandbox = ".sandbox." in host or "--" in host.split(".")[0]
    return SANDBOX_LOGIN_URL if sandbox else PRODUCTION_LOGIN_URL


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

    def _request_token(self) -> Session:
        private_key = self._signing_key()
        self.token_requests += 1
        try:
            with transport_errors(self.adapter), warnings.catch_warnings():
                # On "user hasn't approved this consumer" simple-salesforce warns that users may
                # have to self-authorise in a browser: advice for other flows. token_error()
                # says what fixes it for the JWT flow.
                warnings.filterwarnings("ignore", message=_SELF_AUTHORIZE_ADVICE,
                                        category=UserWarning)
                token, instance = SalesforceLogin(
                    username=self.settings.username, consumer_key=self.settings.consumer_key,
                    privatekey=private_key, domain=sf_domain(jwt_audience(self.settings)),
                    instance_url=sf_domain(self.settings.login_url), session=self.http)
        except SalesforceAuthenticationFailed as exc:
            raise token_error(exc, self.settings, adapter=self.adapter) from None
        except AttributeError:
            # simple-salesforce reads instance_url without checking that it is there.
            token, instance = None, None
        if not token or not instance:
            raise AdapterTemporaryError("token endpoint answered without access_token or "
                                        "instance_url", adapter=self.adapter)
        return Session(access_token=token, instance_url=f"https://{instance}".rstrip("/"))

    def _signing_key(self) -> str:
        """The PEM key, checked before simple-salesforce signs with it (its errors would not say
        which setting is wrong)."""
        pem = self.settings.private_key.reveal()
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            # cryptography's messages describe the key format, never the key itself.
            raise AdapterConfigError(
                f"private_key: cannot sign with it ({type(exc).__name__}); it must be an "
                "unencrypted RSA private key in PEM format", adapter=self.adapter) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise AdapterConfigError("private_key: cannot sign with it: the JWT bearer flow "
                                     "signs with RS256, so it must be an RSA key",
                                     adapter=self.adapter)
        return pem


#: (error, words in error_description) -> (error class, what to fix). First match wins.
_TOKEN_ERRORS: list[tuple[str, str, type, str]] = [
    ("invalid_client_id", "", AdapterConfigError,
     "consumer_key is not the consumer key of a connected app or external client app in this "
     "org (copy it from the app's OAuth settings: Consumer Key)"),
    ("invalid_client", "", AdapterConfigError,
     "consumer_key was refused; check it and that the app uses digital signatures (JWT "
     "bearer flow with the uploaded certificate)"),
    ("invalid_grant", "approved", AdapterConfigError,
     "the integration user is not pre-authorised: in the app's policies set Permitted Users = "
     "\"Admin approved users are pre-authorized\" and add the user's profile or permission set"),
    ("invalid_grant", "audience", AdapterConfigError,
     "the JWT audience was refused: use login_url https://login.salesforce.com (production) or "
     "https://test.salesforce.com (sandbox), or set jwt_audience"),
    ("invalid_grant", "signature", AdapterConfigError,
     "the signature does not match the app's certificate: private_key must be the key of the "
     "uploaded certificate"),
    ("invalid_grant", "assertion", AdapterConfigError,
     "the JWT was refused: private_key must match the app's certificate, and this server's "
     "clock must be right (the assertion lives 3 minutes)"),
    ("invalid_grant", "expired", AdapterConfigError,
     "the JWT had expired on arrival: correct this server's clock (NTP)"),
    ("invalid_grant", "inactive", AdapterAuthError,
     "the integration user is inactive or frozen; reactivate it in Setup > Users"),
    ("invalid_grant", "user", AdapterConfigError,
     "username is not an active user of this org (sandbox usernames end in .<sandbox>)"),
    ("invalid_grant", "", AdapterAuthError,
     "Salesforce refused the login; check username, the app's policies and login IP ranges"),
    ("inactive_user", "", AdapterAuthError,
     "the integration user is inactive; reactivate it in Setup > Users"),
    ("inactive_org", "", AdapterAuthError, "the org is locked, closed or suspended"),
]


def token_error(exc: SalesforceAuthenticationFailed, settings: SalesforceSettings, *,
                adapter: str) -> AdapterError:
    """The typed error, saying what to fix, for a refused login.

    simple-salesforce passes on the OAuth ``error`` and ``error_description`` of a JSON answer;
    for an answer that is not JSON (a proxy, an outage page) ``code`` is the HTTP status.
    """
    if isinstance(exc.code, int):
        return _status_error(exc.code, settings, adapter=adapter)
    error, description = str(exc.code or ""), exc.auth_message
    for code, words, error_class, advice in _TOKEN_ERRORS:
        if error == code and words in description.lower():
            return error_class(f"token request for {settings.username!r} failed "
                               f"({error}: {description}): {advice}", adapter=adapter)
    return AdapterAuthError(f"token request failed ({error or 'no error code'}: "
                            f"{description})", adapter=adapter)


def _status_error(status: int, settings: SalesforceSettings, *, adapter: str) -> AdapterError:
    if status == 404:
        return AdapterConfigError(f"login_url {settings.login_url!r} has no OAuth token "
                                  "endpoint; use https://login.salesforce.com, "
                                  "https://test.salesforce.com or your My Domain URL",
                                  adapter=adapter)
    if status >= 500 or status in (408, 429):
        return status_error(status, "POST /services/oauth2/token", adapter=adapter,
                            detail="token endpoint unavailable")
    if status < 400:
        # A 200 that is not JSON: something other than Salesforce answered (a proxy page).
        return AdapterTemporaryError(f"token endpoint answered HTTP {status} without JSON",
                                     adapter=adapter)
    return AdapterAuthError(f"token request failed with HTTP {status} (the answer was not "
                            "JSON)", adapter=adapter)
