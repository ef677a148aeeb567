"""Who is using the console: a signed cookie naming a login session, checked on every request.

The console is a first-party site (never framed), so unlike the softphone it can keep its
sign-in in a cookie: the sign-in page signs in through ``/api/auth/login`` (the product's one
sign-in, with its throttling and lock-out) and hands the access token to ``POST
/console/session``, which sets ``cti_console`` — HttpOnly, SameSite=Strict, Secure on HTTPS —
holding the session id, signed with the app's secret. Each request re-checks that session
(revoked, expired, idle, account disabled) exactly as bearer tokens are checked.

Agents get 403 on every console page and API whatever the permission table says; supervisors
and admins get what :mod:`.permissions` allows. Requests that change something must carry the
session's CSRF token (``X-CSRF-Token`` header or ``csrf`` form field).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import current_app, g, jsonify, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import update

from .. import clock, db
from ..auth import accounts
from ..auth.policy import effective_policy
from ..schema import auth_sessions
from . import ipallow, permissions, texts
from .security import allowlist_for, client_ip

F = TypeVar("F", bound=Callable[..., Any])
COOKIE = "cti_console"
#: ``last_used_at`` (idle logout) is written at most this often.
TOUCH_EVERY = timedelta(minutes=1)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="cti-console-session")


def cookie_value(session_id: str, agent_id: int) -> str:
    return _serializer().dumps({"s": session_id, "a": agent_id})


def csrf_token(session_id: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()[:40]


def guard_redirect_target(target: str) -> str:
    """Where to go after signing in: a console path only (no open redirect)."""
    if target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/console/"


class Denied(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status = status
        self.code = code


def load_agent() -> accounts.Agent:
    """The signed-in console user, or :class:`Denied` (401 not signed in / 403 refused)."""
    raw = request.cookies.get(COOKIE, "")
    try:
        data = _serializer().loads(raw) if raw else None
    except BadSignature:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        raise Denied(401, "not_signed_in")
    now = clock.now()
    policy = effective_policy()
    with db.get_engine().begin() as conn:
        try:
            agent = accounts.session_agent(conn, str(data.get("s")), data["a"], policy=policy,
                                           now=now)
        except accounts.SessionInvalid:
            raise Denied(401, "not_signed_in") from None
        conn.execute(update(auth_sessions).where(
            auth_sessions.c.id == str(data["s"]),
            auth_sessions.c.last_used_at < now - TOUCH_EVERY).values(last_used_at=now))
    g.agent = agent
    g.console_session = str(data["s"])
    if agent.role not in permissions.CONSOLE_ROLES:
        raise Denied(403, "console_needs_supervisor")
    if not ipallow.allowed(client_ip(), allowlist_for(agent.role)):
        raise Denied(403, "ip_not_allowed")
    return agent


def can(screen: str, action: str = "view") -> bool:
    cache = g.setdefault("console_matrix", None)
    if cache is None:
        with db.get_engine().connect() as conn:
            cache = g.console_matrix = permissions.matrix(conn)
    return cache.get(g.agent.role, {}).get(screen, {}).get(action, False)


def _refuse(denied: Denied, api: bool) -> Any:
    lang = texts.language()
    message = texts.ERRORS[denied.code].get(lang)
    if api:
        response = jsonify({"error": {"code": denied.code, "message": message}})
        response.status_code = denied.status
        return response
    if denied.status == 401:
        return redirect(url_for("console.login_page", next=request.full_path.rstrip("?")))
    return render_template("console/denied.html", message=message, t=texts.words(lang),
                           lang=lang), denied.status


def require(screen: str, action: str = "view", *, api: bool = False) -> Callable[[F], F]:
    """The view needs a console user allowed ``action`` on ``screen``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                load_agent()
                if request.method not in ("GET", "HEAD") and not _csrf_ok():
                    raise Denied(403, "csrf")
                if not can(screen, action):
                    raise Denied(403, "not_permitted")
            except Denied as denied:
                return _refuse(denied, api)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def _csrf_ok() -> bool:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf", "")
    return bool(sent) and hmac.compare_digest(sent, csrf_token(g.console_session))
