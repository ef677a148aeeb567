"""The fake org's interactive sign-in: OAuth 2.0 web server flow with PKCE, and identity URLs.

Mixed into :class:`tests.fakes.salesforce.FakeSalesforce`. What it follows (Salesforce Help,
"OAuth 2.0 Web Server Flow for Web App Integration", "Identity URLs"):

* ``GET /services/oauth2/authorize`` — ``response_type=code``, ``client_id``, ``redirect_uri``
  (must be a registered callback URL, else an error page: Salesforce never redirects to an
  unregistered URL), ``state``, ``code_challenge`` + ``code_challenge_method=S256``, ``scope``,
  ``display``. The "browser" is signed in as whichever user the test chose with
  :meth:`SignInEndpoints.sign_in_browser` — it is then redirected back at once, as for an agent
  already signed into Salesforce; nobody signed in gets the login page.
* ``POST /services/oauth2/token`` with ``grant_type=authorization_code`` — ``code`` (single use),
  ``redirect_uri`` (must equal the authorize one), ``client_id`` (+ ``client_secret`` when the
  app requires it), ``code_verifier``: a wrong verifier is ``invalid_request``, a missing one
  ``invalid_grant`` (as documented). Answers ``access_token``, ``id``, ``instance_url``, …
* ``GET /id/<org id>/<user id>`` with the user's token — the identity JSON.

Deliberately stricter than Salesforce in one point: an authorize request without ``state`` or
without a PKCE challenge is refused, so a client that forgets either fails its tests.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response


class SignInEndpoints:
    """Test controls and WSGI handlers of the interactive sign-in (a mixin)."""

    org_id: str
    consumer_key: str
    records: dict[str, dict[str, dict[str, Any]]]

    def _init_signin(self) -> None:
        self.callback_urls: set[str] = set()
        #: None: the app does not require a secret for the web server flow.
        self.client_secret: str | None = None
        self.browser_user: str | None = None
        #: A Cross-Origin-Opener-Policy for the login step (e.g. "same-origin"): the page then
        #: redirects from a document with that policy, which cuts the popup off its opener.
        self.opener_policy: str | None = None
        self.authorize_requests: list[dict[str, str]] = []
        self.code_exchanges: list[dict[str, str]] = []  # token requests, as sent
        self._codes: dict[str, dict[str, Any]] = {}
        self._user_tokens: dict[str, str] = {}  # access token -> user id

    # -- test controls -----------------------------------------------------------------------

    def sign_in_browser(self, user_id: str | None) -> None:
        """Who is signed into Salesforce in the test's browser (None: nobody)."""
        self.browser_user = user_id

    # -- WSGI handlers -----------------------------------------------------------------------

    def _authorize(self, request: Request) -> Response:
        args = request.args.to_dict()
        self.authorize_requests.append(args)
        if args.get("client_id") != self.consumer_key:
            return _error_page("invalid_client_id", "client identifier invalid")
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in self.callback_urls:
            return _error_page("redirect_uri_mismatch", "redirect_uri must match configuration")
        state = args.get("state", "")
        if args.get("response_type") != "code":
            return _redirect(redirect_uri, error="unsupported_response_type", state=state)
        if not state:
            return _redirect(redirect_uri, error="invalid_request",
                             error_description="this fake requires state")
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return _redirect(redirect_uri, error="invalid_request", state=state,
                             error_description="invalid code challenge")
        user = self.records["User"].get(self.browser_user or "")
        if user is None or not user.get("IsActive"):
            return Response("<!doctype html><title>Login | Salesforce</title><form>Username "
                            "<input name=username> Password <input type=password></form>",
                            mimetype="text/html")
        code = "aPrx" + secrets.token_urlsafe(24)
        self._codes[code] = {"user": user["Id"], "redirect_uri": redirect_uri,
                             "challenge": args["code_challenge"], "issued": time.time()}
        if self.opener_policy:
            target = f"{redirect_uri}?{urlencode({'code': code, 'state': state})}"
            return Response(f"<!doctype html><meta http-equiv='refresh' content='0;url="
                            f"{html.escape(target, quote=True)}'><title>Salesforce</title>",
                            mimetype="text/html",
                            headers={"Cross-Origin-Opener-Policy": self.opener_policy})
        return _redirect(redirect_uri, code=code, state=state)

    def _exchange_code(self, request: Request) -> Response:
        form = request.form
        self.code_exchanges.append(form.to_dict())
        client_id, secret = _client_credentials(request)
        if client_id != self.consumer_key:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if self.client_secret is not None and secret != self.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        grant = self._codes.pop(form.get("code", ""), None)  # a code works once
        if grant is None or time.time() - grant["issued"] > 900:
            return _oauth_error("invalid_grant", "invalid authorization code")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return _oauth_error("invalid_grant", "redirect_uri must match configuration")
        verifier = form.get("code_verifier")
        if not verifier:
            return _oauth_error("invalid_grant", "invalid code verifier")
        if _s256(verifier) != grant["challenge"]:
            return _oauth_error("invalid_request", "invalid code verifier")
        token = "00DFAKE!u" + secrets.token_urlsafe(24)
        self._user_tokens[token] = grant["user"]
        base = request.host_url.rstrip("/")
        return _json({"access_token": token, "signature": secrets.token_urlsafe(16),
                      "scope": "id", "instance_url": base, "token_type": "Bearer",
                      "id": f"{base}/id/{self.org_id}/{grant['user']}",
                      "issued_at": str(int(time.time() * 1000))})

    def _identity(self, request: Request, org_id: str, user_id: str) -> Response:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.args.get("oauth_token")
        if self._user_tokens.get(token or "") != user_id or org_id != self.org_id:
            return Response("Bad_OAuth_Token", status=403, mimetype="text/plain")
        user = self.records["User"][user_id]
        base = request.host_url.rstrip("/")
        return _json({
            "id": f"{base}/id/{org_id}/{user_id}", "asserted_user": True, "user_id": user_id,
            "organization_id": org_id, "username": user["Username"],
            "nick_name": user["Username"].split("@")[0], "display_name": user["Name"],
            "email": user.get("Email") or "",
            "email_verified": bool(user.get("EmailVerified", True)),
            "active": bool(user.get("IsActive")), "user_type": "STANDARD", "language": "ja",
            "locale": "ja_JP", "utcOffset": 32400000,
            "urls": {"rest": f"{base}/services/data/v{{version}}/"}})


def _client_credentials(request: Request) -> tuple[str | None, str | None]:
    if request.authorization and request.authorization.type == "basic":
        return request.authorization.username, request.authorization.password
    return request.form.get("client_id"), request.form.get("client_secret")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _redirect(uri: str, **params: str) -> Response:
    query = urlencode({k: v for k, v in params.items() if v})
    return Response("", status=302, headers={"Location": f"{uri}?{query}"})


def _error_page(error: str, description: str) -> Response:
    return Response(f"<!doctype html><title>Error | Salesforce</title><p>error={error}"
                    f"&amp;error_description={description}</p>", status=400,
                    mimetype="text/html")


def _oauth_error(error: str, description: str) -> Response:
    return _json({"error": error, "error_description": description}, 400)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    mimetype="application/json")
