"""``/auth/salesforce``: "Sign in with Salesforce" for agents, in a popup window.

The softphone lives in Salesforce's iframe, and a framed page cannot show Salesforce's login
page, so the softphone opens ``/auth/salesforce/start`` in a popup. The popup is a first-party
window of this deployment: it goes to Salesforce (where an agent already signed in is recognised
at once), comes back to ``/auth/salesforce/callback``, and hands the softphone the same bearer
tokens ``POST /api/auth/login`` returns, with ``postMessage`` to ``window.opener`` and our own
origin — the softphone's — as the target. Then it closes.

Where the PKCE verifier and the state live: in Redis, keyed by a hash of the state, for
:data:`PENDING_SECONDS`, and taken out atomically by the callback — so a state works once and a
replayed callback is refused. Redis rather than a signed value because a signed value cannot be
used up (it would stay valid until it expires) and the verifier must never travel through the
browser. The popup also gets a first-party cookie holding a random *binding* whose hash is stored
with the state: the callback must come back to the browser that started the sign-in (RFC 6749
§10.12, login CSRF). That cookie never crosses the iframe boundary: only the popup, a top-level
window of our origin, sends it.

If the popup loses ``window.opener`` on the way (a login page that sends a
``Cross-Origin-Opener-Policy`` severs it), the softphone still gets the outcome: it opened the
popup with ``?pickup=<SHA-256 of a secret>``, the callback leaves the outcome in Redis under that
hash for :data:`RESULT_SECONDS`, and ``POST /auth/salesforce/result {"pickup": secret}`` takes it
out once. Only the holder of the secret (the softphone) can; the popup's URL shows only its hash.

Who gets in: the Salesforce user of the configured org (``[auth.salesforce] org_id``) whose
username — or verified e-mail, per ``[crm.salesforce] agent_match`` — is an **active** agent's
CRM user (:mod:`connector.auth.crm_users`). Password lock-outs and expiry do not apply: they
guard passwords, and none is used here. The sign-in throttle does (:mod:`.throttle`): failed
callbacks count against the client address, so a flood of forged callbacks gets a 429 page
before any code is sent to Salesforce.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
)

from .. import clock, crm, db, queue
from ..client_address import client_address
from ..config import SalesforceSignInSettings, Settings
from ..messages import Text, localized
from ..validation import fields, json_object
from . import accounts
from .accounts import Agent
from .crm_users import agents_for_crm_user
from .policy import effective_policy
from .salesforce_oauth import SalesforceIdentity, SalesforceSignInClient, SignInError
from .throttle import Attempt, Throttled, ThrottleUnavailable, get_throttle
from .views import session_tokens

log = logging.getLogger("cti.auth")

bp = Blueprint("salesforce_signin", __name__, url_prefix="/auth/salesforce")

#: How long an agent may take on Salesforce's pages before the started sign-in is forgotten.
PENDING_SECONDS = 600
#: How long an outcome waits for the softphone to pick it up.
RESULT_SECONDS = 60
COOKIE = "cti_sf_signin"
#: The ``type`` of the message posted to the softphone (see docs/salesforce.md).
MESSAGE_TYPE = "cti:signin"
ADAPTER = "salesforce"


class PendingStore:
    """Started sign-ins in Redis; each one can be taken exactly once."""

    PREFIX = "cti:auth:salesforce:"

    def __init__(self, client: redis.Redis, ttl: int = PENDING_SECONDS) -> None:
        self.redis = client
        self.ttl = ttl

    def put(self, state: str, *, code_verifier: str, binding: str, pickup: str = "") -> None:
        value = {"code_verifier": code_verifier, "binding": _digest(binding), "pickup": pickup}
        self.redis.set(self._key(state), json.dumps(value), ex=self.ttl)

    def take(self, state: str) -> dict[str, str] | None:
        """The pending sign-in for ``state``, removed in the same step; None if unknown."""
        return self._take(self._key(state))

    def put_result(self, pickup: str, message: dict[str, Any]) -> None:
        """Leave an outcome for the softphone; ``pickup`` is the hash it sent to /start."""
        self.redis.set(self.PREFIX + "result:" + pickup, json.dumps(message), ex=RESULT_SECONDS)

    def take_result(self, secret: str) -> dict[str, Any] | None:
        return self._take(self.PREFIX + "result:" + _digest(secret))

    def _take(self, key: str) -> Any:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(key)
            pipe.delete(key)
            value, _ = pipe.execute()
        return json.loads(value) if value else None

    def _key(self, state: str) -> str:
        return self.PREFIX + _digest(state)


@bp.get("/start")
def start() -> Response:
    settings: Settings = current_app.config["CTI_SETTINGS"]
    try:
        signin = _enabled(settings)
        pending = _client(settings, signin).begin()
        binding = secrets.token_urlsafe(32)
        _store().put(pending.state, code_verifier=pending.code_verifier, binding=binding,
                     pickup=_pickup_hash())
    except SignInError as exc:
        return _refused(exc)
    except redis.RedisError as exc:
        return _refused(_unavailable(exc))
    response = redirect(pending.authorization_url, 302)
    response.set_cookie(COOKIE, binding, max_age=PENDING_SECONDS, path=bp.url_prefix + "/",
                        secure=_https(settings), httponly=True, samesite="Lax")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/callback")
def callback() -> Response:
    settings: Settings = current_app.config["CTI_SETTINGS"]
    pending: dict[str, str] = {}
    attempt = Attempt("salesforce", "callback", client_address())
    throttle = get_throttle()
    try:
        throttle.before(attempt, per_account=False)
    except Throttled as exc:
        return _refused(SignInError("too_many_attempts", exc.text, status=429,
                                    detail=f"throttled ({exc.scope})"))
    except ThrottleUnavailable as exc:
        return _refused(_unavailable(exc))
    try:
        try:
            signin = _enabled(settings)
            pending = _take_pending()
            _salesforce_error()
            code = _code()
            identity = _client(settings, signin).identify(code, pending["code_verifier"])
            agent = _agent_for(identity, signin)
        except SignInError:
            throttle.failed(attempt)
            raise
        throttle.succeeded(attempt)
        message = _message(session=_start_session(agent))
        log.info("agent %s signed in with Salesforce (user %s)", agent.username,
                 identity.user_id)
        _leave_result(pending, message)
    except SignInError as exc:
        return _refused(exc, pending)
    except (redis.RedisError, ThrottleUnavailable) as exc:
        return _refused(_unavailable(exc))
    return _page(message, 200)


@bp.post("/result")
def result() -> Response:
    """The outcome of a sign-in, for a softphone whose popup could not post it (JSON)."""
    body = fields(json_object(), {"pickup": str})
    try:
        message = _store().take_result(body["pickup"])
    except redis.RedisError as exc:
        message = _message(error=_unavailable(exc))
    if message is None:
        response = jsonify({"status": "pending"})
        response.status_code = 202
    else:
        response = jsonify(message)
    response.headers["Cache-Control"] = "no-store"
    return response


def doctor_check(settings: Settings) -> tuple[bool, str]:
    """(ok, message) about the sign-in configuration, for ``cti doctor``."""
    callback_url = settings.server.public_base_url + bp.url_prefix + "/callback"
    parts = urlsplit(callback_url)
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost"):
        return False, (f"the callback URL {callback_url} is not https: set [server] "
                       "public_base_url to the https URL agents reach this deployment at")
    return True, (f"agents of org {settings.auth.salesforce.org_id} sign in at "
                  f"{settings.auth.salesforce.login_url}; the connected app's callback URL "
                  f"must be {callback_url}")


NOT_ENABLED = Text("Salesforce でのサインインは有効になっていません。",
                   "Sign in with Salesforce is not enabled.")
EXPIRED = Text("このサインインは期限切れか、すでに使われています。ソフトフォンからもう一度"
               "サインインしてください。",
               "This sign-in has expired or was already used; start again from the softphone.")
OTHER_BROWSER = Text("サインインを始めたブラウザーと異なるため続行できません。もう一度お試し"
                     "ください。", "The sign-in was started in another browser; please try again.")
DENIED = Text("Salesforce でのサインインが完了しませんでした: {reason}",
              "Salesforce did not complete the sign-in: {reason}")
NO_CODE = Text("Salesforce から認可コードが返されませんでした。",
               "Salesforce returned no authorization code.")
OTHER_ORG = Text("この Salesforce 組織のユーザーはサインインできません。",
                 "Users of this Salesforce org may not sign in here.")
USER_INACTIVE = Text("この Salesforce ユーザーは無効です。", "This Salesforce user is inactive.")
AMBIGUOUS = Text("Salesforce ユーザー {user} に複数のエージェントが対応しています。管理者に連絡して"
                 "ください。", "Several agents are mapped to the Salesforce user {user}; contact "
                             "your administrator.")
AGENT_DISABLED = Text("このエージェントアカウントは無効です。管理者に連絡してください。",
                      "This agent account is disabled; contact your administrator.")
NOT_MAPPED = Text("Salesforce ユーザー {user} に対応するエージェントがいません。管理者に登録を"
                  "依頼してください。", "No agent is mapped to the Salesforce user {user}; ask "
                                  "your administrator to map it.")
EMAIL_UNVERIFIED = Text("Salesforce のメールアドレスが未確認です。確認してからもう一度お試し"
                        "ください。", "Verify your e-mail address in Salesforce, then try again.")
UNAVAILABLE = Text("現在サインインできません。しばらくしてからもう一度お試しください。",
                   "Sign-in is unavailable right now; try again shortly.")


# -- steps -----------------------------------------------------------------------------------

def _enabled(settings: Settings) -> SalesforceSignInSettings:
    signin = settings.auth.salesforce
    if not signin.enabled:
        raise SignInError("not_enabled", NOT_ENABLED, status=404)
    return signin


def _client(settings: Settings, signin: SalesforceSignInSettings) -> SalesforceSignInClient:
    redirect_uri = settings.server.public_base_url + bp.url_prefix + "/callback"
    return SalesforceSignInClient(signin, redirect_uri)


def _store() -> PendingStore:
    return PendingStore(queue.get_redis())


def _pickup_hash() -> str:
    """The softphone's ``pickup`` (a SHA-256 hex digest), or "" when it sent none."""
    pickup = request.args.get("pickup", "").lower()
    return pickup if re.fullmatch(r"[0-9a-f]{64}", pickup) else ""


def _take_pending() -> dict[str, str]:
    """The sign-in this callback finishes; it cannot be used again."""
    state = request.args.get("state", "")
    pending = _store().take(state) if 0 < len(state) <= 256 else None
    if pending is None:
        raise SignInError("expired", EXPIRED, status=400,
                          detail="unknown, expired or replayed state")
    binding = request.cookies.get(COOKIE, "")
    if not hmac.compare_digest(_digest(binding), pending["binding"]):
        raise SignInError("other_browser", OTHER_BROWSER, status=400,
                          detail="state not bound to this browser")
    return pending


def _salesforce_error() -> None:
    """Salesforce came back with an error instead of a code (e.g. the user denied access)."""
    if "error" in request.args:
        reason = request.args.get("error_description") or request.args["error"]
        raise SignInError("salesforce_denied", DENIED.format(reason=reason), status=400,
                          detail=f"authorize endpoint: {request.args['error']}")


def _code() -> str:
    code = request.args.get("code", "")
    if not code or len(code) > 1024:
        raise SignInError("no_code", NO_CODE, status=400, detail="no code")
    return code


def _agent_for(identity: SalesforceIdentity, signin: SalesforceSignInSettings) -> Agent:
    """The one active agent this Salesforce user is; refusals say what an admin must do."""
    if not signin.same_org(identity.org_id):
        raise SignInError("other_org", OTHER_ORG,
                          detail=f"org {identity.org_id}, user {identity.user_id}")
    if not identity.active:
        raise SignInError("salesforce_user_inactive", USER_INACTIVE, detail=identity.user_id)
    field, value = _match_value(identity)
    with db.get_engine().connect() as conn:
        candidates = agents_for_crm_user(conn, ADAPTER, value)
    active = [a for a in candidates if a.active]
    if len(active) == 1:
        return active[0]
    if len(active) > 1:
        raise SignInError("ambiguous", AMBIGUOUS.format(user=value), status=409,
                          detail=f"{field} {value}: agents "
                          + ", ".join(a.username for a in active))
    if candidates:
        raise SignInError("agent_disabled", AGENT_DISABLED,
                          detail=f"{field} {value}: disabled agent "
                          + candidates[0].username)
    raise SignInError("not_mapped", NOT_MAPPED.format(user=value),
                      detail=f"{field} {value}: no agent (cti user crm-user AGENT salesforce "
                      "USER)")


def _match_value(identity: SalesforceIdentity) -> tuple[str, str]:
    """(Salesforce field, value) compared with the agents' CRM users."""
    if _agent_match() == "username":
        return "username", identity.username
    if not identity.email_verified:
        raise SignInError("email_unverified", EMAIL_UNVERIFIED, detail=identity.user_id)
    return "email", identity.email


def _agent_match() -> str:
    """``[crm.salesforce] agent_match``, as validated by the adapter when it is enabled."""
    adapter = crm.get_layer().adapters.get(ADAPTER)
    if adapter is not None:
        return str(adapter.settings.agent_match)
    table = current_app.config["CTI_SETTINGS"].crm.tables.get(ADAPTER, {})
    return "email" if table.get("agent_match") == "email" else "username"


def _start_session(agent: Agent) -> dict[str, Any]:
    policy = effective_policy()
    with db.get_engine().begin() as conn:
        session_id, refresh = accounts.start_session(
            conn, agent, policy=policy, now=clock.now(),
            user_agent=request.headers.get("User-Agent", ""))
    return session_tokens(agent, session_id, refresh)


# -- outcomes --------------------------------------------------------------------------------

def _message(*, session: dict[str, Any] | None = None,
             error: SignInError | None = None) -> dict[str, Any]:
    """What the softphone receives: ``session`` (the /api/auth/login body) or ``error``."""
    message: dict[str, Any] = {"type": MESSAGE_TYPE, "version": 1, "provider": ADAPTER,
                               "ok": error is None}
    if error is None:
        message["session"] = session
    else:
        message["error"] = {"code": error.code, "message": localized(error.text),
                            **error.text.both()}
    return message


def _leave_result(pending: dict[str, str], message: dict[str, Any]) -> None:
    if not pending.get("pickup"):
        return
    try:
        _store().put_result(pending["pickup"], message)
    except redis.RedisError as exc:  # the popup may still post it
        log.warning("Salesforce sign-in outcome not left for pickup: %s", type(exc).__name__)


def _refused(exc: SignInError, pending: dict[str, str] | None = None) -> Response:
    log.warning("Salesforce sign-in refused (%s): %s", exc.code, exc.detail or exc.text.en)
    message = _message(error=exc)
    _leave_result(pending or {}, message)
    return _page(message, exc.status)


def _page(message: dict[str, Any], status: int) -> Response:
    """The popup's last page: tells the softphone the outcome, then closes (on success)."""
    settings: Settings = current_app.config["CTI_SETTINGS"]
    nonce = secrets.token_urlsafe(16)
    g.csp_extra = {"script-src": [f"'nonce-{nonce}'"], "style-src": [f"'nonce-{nonce}'"]}
    html = render_template("auth/salesforce_signin.html", message=message, nonce=nonce,
                           target_origin=_origin(settings.server.public_base_url))
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    # The callback URL carries the code and state: never pass it on as a referrer.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.delete_cookie(COOKIE, path=bp.url_prefix + "/", secure=_https(settings),
                           httponly=True, samesite="Lax")
    return response


def _unavailable(exc: Exception) -> SignInError:
    return SignInError("unavailable", UNAVAILABLE, status=503,
                       detail=f"Redis: {type(exc).__name__}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _https(settings: Settings) -> bool:
    return settings.server.public_base_url.startswith("https://")


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
