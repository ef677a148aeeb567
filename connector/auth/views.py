"""``/api/auth``: sign in, refresh, sign out, who am I, change password.

Sign-in, refresh and password change pass through the sign-in throttle first
(:mod:`.throttle`): a 429 with ``Retry-After`` when the client tried too often.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from .. import clock, db
from ..client_address import client_address
from ..errors import APIError
from ..messages import localized
from ..validation import fields, json_object
from . import accounts, tokens
from .guard import authenticate_request, current_agent, require_auth
from .policy import effective_policy
from .throttle import Attempt, Throttled, ThrottleUnavailable, get_throttle

bp = Blueprint("auth", __name__, url_prefix="/api/auth")


def session_tokens(agent: accounts.Agent, session_id: str, refresh_token: str) -> dict[str, Any]:
    """The body of a successful sign-in: a fresh access token plus the refresh token.

    Every way of signing in (password, Salesforce) hands the softphone this same shape.
    """
    lifetime = timedelta(minutes=effective_policy().access_token_minutes)
    access = tokens.issue_access_token(
        secret=current_app.config["SECRET_KEY"], agent_id=agent.id, session_id=session_id,
        role=agent.role, now=clock.now(), lifetime=lifetime)
    return {
        "access_token": access, "token_type": "Bearer",
        "expires_in": int(lifetime.total_seconds()),
        "refresh_token": refresh_token,
        "agent": agent.public(),
    }


def _token_response(agent: accounts.Agent, session_id: str, refresh_token: str) -> Any:
    response = jsonify(session_tokens(agent, session_id, refresh_token))
    response.headers["Cache-Control"] = "no-store"
    return response


def _account_error(exc: accounts.AccountError) -> APIError:
    details = {"problems": [localized(p) for p in exc.problems]} if exc.problems else None
    return APIError(exc.status, exc.code, exc.text, details)


def throttle_error(exc: Throttled | ThrottleUnavailable) -> APIError:
    """429 with ``Retry-After``, or 503 when the attempt counter is unreachable."""
    if isinstance(exc, Throttled):
        return APIError(429, "too_many_attempts", exc.text, {"retry_after": exc.retry_after},
                        headers={"Retry-After": str(exc.retry_after)})
    return APIError(503, "signin_unavailable", exc.text, headers={"Retry-After": "30"})


def begin_attempt(kind: str, account: str) -> Attempt:
    """Ask the throttle before trying; raises the 429/503 :class:`APIError`."""
    attempt = Attempt(kind, account, client_address())
    try:
        get_throttle().before(attempt)
    except (Throttled, ThrottleUnavailable) as exc:
        raise throttle_error(exc) from None
    return attempt


def password_attempt(conn: Any, attempt: Attempt, username: str, password: str) -> accounts.Agent:
    """:func:`accounts.authenticate` with the outcome told to the throttle, which decides on
    the account lock. The caller commits (failure counts and a lock stick on refusals too)."""
    policy = effective_policy()
    now = clock.now()
    throttle = get_throttle()
    try:
        try:
            agent = accounts.authenticate(conn, username, password, policy=policy, now=now)
        except accounts.LoginFailed as exc:
            if throttle.failed(attempt, lockable=exc.lockable_agent_id is not None):
                assert exc.lockable_agent_id is not None
                accounts.lock(conn, exc.lockable_agent_id, policy, now)
            raise
        except accounts.PasswordExpired:
            throttle.succeeded(attempt)  # the password was right
            raise
        throttle.succeeded(attempt)
    except ThrottleUnavailable as exc:
        conn.commit()
        raise throttle_error(exc) from None
    return agent


@bp.post("/login")
def login() -> Any:
    body = fields(json_object(), {"username": str, "password": str})
    policy = effective_policy()
    now = clock.now()
    attempt = begin_attempt("password", accounts.normalize_username(body["username"]))
    with db.get_engine().connect() as conn:
        try:
            agent = password_attempt(conn, attempt, body["username"], body["password"])
        except accounts.AccountError as exc:
            conn.commit()  # the failure count (and a lock) must stick although we refuse
            raise _account_error(exc) from None
        session_id, refresh = accounts.start_session(
            conn, agent, policy=policy, now=now,
            user_agent=request.headers.get("User-Agent", ""))
        conn.commit()
    return _token_response(agent, session_id, refresh)


@bp.post("/refresh")
def refresh() -> Any:
    body = fields(json_object(), {"refresh_token": str})
    policy = effective_policy()
    try:  # counted per session, so guessing at one session's tokens is slowed
        account = tokens.split_refresh_token(body["refresh_token"])
    except tokens.TokenError:
        account = "malformed"
    attempt = begin_attempt("refresh", account)
    throttle = get_throttle()
    with db.get_engine().connect() as conn:
        try:
            agent, session_id, new_refresh = accounts.refresh_session(
                conn, body["refresh_token"], policy=policy, now=clock.now())
        except accounts.AccountError as exc:
            conn.commit()  # keep the revocation of a replayed token
            _tell_throttle(throttle.failed, attempt)
            raise _account_error(exc) from None
        conn.commit()
    _tell_throttle(throttle.succeeded, attempt)
    return _token_response(agent, session_id, new_refresh)


def _tell_throttle(report: Any, attempt: Attempt) -> None:
    try:
        report(attempt)
    except ThrottleUnavailable as exc:
        raise throttle_error(exc) from None


@bp.post("/logout")
@require_auth()
def logout() -> Any:
    with db.get_engine().begin() as conn:
        accounts.revoke_session(conn, g.session_id, clock.now())
    return "", 204


@bp.get("/me")
@require_auth()
def me() -> Any:
    return jsonify({"agent": current_agent().public()})


@bp.post("/password")
def change_password() -> Any:
    """Change one's own password: signed in, or with user ID + current password when the old
    password has expired (the only way forward then)."""
    body = fields(json_object(), {"current_password": str, "new_password": str},
                  {"username": str})
    policy = effective_policy()
    now = clock.now()
    username = body.get("username") or authenticate_request().username
    attempt = begin_attempt("password", accounts.normalize_username(username))
    with db.get_engine().connect() as conn:
        try:
            try:
                agent = password_attempt(conn, attempt, username, body["current_password"])
            except accounts.PasswordExpired:
                agent = accounts.find_agent(conn, username)
                assert agent is not None
            accounts.set_password(conn, agent, body["new_password"], policy=policy, now=now)
            session_id, refresh_token = accounts.start_session(
                conn, agent, policy=policy, now=now,
                user_agent=request.headers.get("User-Agent", ""))
        except accounts.AccountError as exc:
            conn.commit()  # failed attempts count here too
            raise _account_error(exc) from None
        conn.commit()
    return _token_response(agent, session_id, refresh_token)
