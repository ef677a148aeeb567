"""Salesforce as the identity provider for "Sign in with Salesforce" (no Flask in here).

The OAuth 2.0 authorization code flow with PKCE (RFC 7636, S256), through authlib's requests
client (help.salesforce.com "OAuth 2.0 Web Server Flow for Web App Integration"):

1. :meth:`SalesforceSignInClient.begin` makes a random ``state`` and ``code_verifier`` and the
   ``{login_url}/services/oauth2/authorize`` URL carrying the state and the S256 challenge;
2. :meth:`SalesforceSignInClient.identify` exchanges the returned code (with the verifier) at
   ``{login_url}/services/oauth2/token`` and reads the user from the identity URL (``id`` in the
   token response; "Identity URLs" in Salesforce Help), then forgets the Salesforce token.

Only the ``id`` scope is requested: the connector needs to know *who* signed in, never to act as
that user. Nothing here logs or returns a token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from ..config import SalesforceSignInSettings
from ..messages import Text

AUTHORIZE_PATH = "/services/oauth2/authorize"
TOKEN_PATH = "/services/oauth2/token"
#: The identity URL is the only thing the Salesforce token is used for.
SCOPE = "id"
#: (connect, read) seconds for the token and identity requests; the agent is waiting.
TIMEOUT = (3.05, 10.0)
#: Identity URLs are on login/test.salesforce.com or the org's own domain (Salesforce Help,
#: "Identity URLs"). Other Salesforce clouds (e.g. government) may use other domains: UNVERIFIED,
#: add them here. The configured login host is always accepted.
IDENTITY_DOMAIN = ".salesforce.com"
_IDENTITY_PATH = re.compile(r"/id/(00D[A-Za-z0-9]{12,15})/(005[A-Za-z0-9]{12,15})")


class SignInError(Exception):
    """A refused sign-in; ``code`` is stable, ``text`` is shown to the agent (both languages,
    :mod:`connector.messages`).

    ``detail`` is for the server log only (it may name the Salesforce user, never a token).
    """

    def __init__(self, code: str, text: Text, *, status: int = 403, detail: str = "") -> None:
        super().__init__(text.en)
        self.code = code
        self.text = text
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class PendingSignIn:
    """What the callback needs to finish a sign-in the browser started."""

    state: str
    code_verifier: str
    authorization_url: str

    def __repr__(self) -> str:
        return "PendingSignIn(***)"


@dataclass(frozen=True)
class SalesforceIdentity:
    """The Salesforce user who signed in, as the identity URL describes them."""

    user_id: str
    org_id: str
    username: str
    email: str
    email_verified: bool
    active: bool
    display_name: str


class SalesforceSignInClient:
    """The connected app's side of the code flow, for one configured org."""

    def __init__(self, settings: SalesforceSignInSettings, redirect_uri: str) -> None:
        self.settings = settings
        self.redirect_uri = redirect_uri

    @property
    def authorize_url(self) -> str:
        return self.settings.login_url + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.settings.login_url + TOKEN_PATH

    def begin(self) -> PendingSignIn:
        """A fresh state and verifier, and the URL that sends the browser to Salesforce."""
        state = generate_token(43)
        verifier = generate_token(64)  # RFC 7636: 43-128 characters from the unreserved set
        with self._session() as session:
            # display=popup: Salesforce's compact login page for popup windows.
            url, _ = session.create_authorization_url(self.authorize_url, state=state,
                                                      code_verifier=verifier, display="popup")
        return PendingSignIn(state=state, code_verifier=verifier, authorization_url=url)

    def identify(self, code: str, code_verifier: str) -> SalesforceIdentity:
        """Exchange ``code`` and read who signed in.

        Raises:
            SignInError: Salesforce refused the code, was unreachable, or answered nonsense.
        """
        with self._session() as session:
            token = self._exchange(session, code, code_verifier)
            url = self._identity_url(token.get("id"))
            try:
                response = session.get(url, headers={"Accept": "application/json"})
            except requests.RequestException as exc:
                raise _unreachable(exc) from None
        return self._identity(response, url)

    def _session(self) -> OAuth2Session:
        secret = self.settings.consumer_secret
        return OAuth2Session(
            client_id=self.settings.consumer_key,
            client_secret=secret.reveal() if secret else None,
            # Salesforce documents client_id/client_secret in the form body.
            token_endpoint_auth_method="client_secret_post" if secret else "none",
            scope=SCOPE, redirect_uri=self.redirect_uri, code_challenge_method="S256",
            default_timeout=TIMEOUT)

    def _exchange(self, session: OAuth2Session, code: str, verifier: str) -> dict[str, Any]:
        try:
            return dict(session.fetch_token(self.token_url, code=code, code_verifier=verifier,
                                            grant_type="authorization_code"))
        except OAuthError as exc:
            raise SignInError(
                "code_refused", Text("Salesforce がサインインを受け付けませんでした。もう一度お試し"
                                     "ください。",
                                     "Salesforce refused the sign-in; please try again."),
                status=400,
                detail=f"token endpoint: {exc.error}: {exc.description}") from None
        except requests.RequestException as exc:
            raise _unreachable(exc) from None
        except ValueError:  # not JSON
            raise _bad_answer("the token endpoint did not answer JSON") from None

    def _identity_url(self, url: Any) -> str:
        """The identity URL, if it points where Salesforce keeps identities.

        The access token is sent there, so an unexpected host is refused rather than trusted.
        """
        parts = urlsplit(url) if isinstance(url, str) else None
        login = urlsplit(self.settings.login_url)
        same_as_login = parts is not None and (parts.scheme, parts.netloc) == (login.scheme,
                                                                               login.netloc)
        salesforce = (parts is not None and parts.scheme == "https"
                      and (parts.hostname or "").endswith(IDENTITY_DOMAIN))
        if parts is None or not (same_as_login or salesforce) or not _IDENTITY_PATH.fullmatch(
                parts.path) or parts.query:
            raise _bad_answer(f"unexpected identity URL {url!r}")
        return str(url)

    def _identity(self, response: requests.Response, url: str) -> SalesforceIdentity:
        if response.status_code != 200:
            raise _bad_answer(f"identity URL answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise _bad_answer("identity URL did not answer JSON") from None
        path = _IDENTITY_PATH.fullmatch(urlsplit(url).path)
        assert path is not None
        if not isinstance(body, dict) or (body.get("organization_id"), body.get("user_id")) != (
                path.group(1), path.group(2)):
            raise _bad_answer("identity does not match its URL")
        return SalesforceIdentity(
            user_id=str(body["user_id"]), org_id=str(body["organization_id"]),
            username=str(body.get("username") or ""), email=str(body.get("email") or ""),
            email_verified=body.get("email_verified") is True,
            active=body.get("active") is not False,
            display_name=str(body.get("display_name") or ""))


def _unreachable(exc: requests.RequestException) -> SignInError:
    return SignInError("salesforce_unreachable",
                       Text("Salesforce に接続できませんでした。しばらくしてからもう一度お試し"
                            "ください。", "Salesforce could not be reached; try again shortly."),
                       status=502, detail=type(exc).__name__)


def _bad_answer(detail: str) -> SignInError:
    return SignInError("salesforce_answer",
                       Text("Salesforce から予期しない応答がありました。管理者に連絡してください。",
                            "Salesforce gave an unexpected answer; contact your administrator."),
                       status=502, detail=detail)
