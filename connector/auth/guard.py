"""Bearer-token authentication for API views: ``@require_auth(role=...)``, ``current_agent()``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request

from .. import clock, db
from ..errors import APIError
from ..messages import Text
from . import accounts, tokens
from .accounts import Agent
from .policy import effective_policy

F = TypeVar("F", bound=Callable[..., Any])

#: Which roles include which: an admin may do what a supervisor may, who may do what an agent may.
ROLE_RANK = {"agent": 0, "supervisor": 1, "admin": 2}


NOT_SIGNED_IN = Text("サインインしてください（Authorization: Bearer <アクセストークン> を送って"
                     "ください）。",
                     "Sign in first: send 'Authorization: Bearer <access token>'.")
BAD_TOKEN = Text("サインイン情報が無効か期限切れです。もう一度サインインしてください（{reason}）。",
                 "The access token is not valid ({reason}); sign in again.")
ROLE_NEEDED = Text("この操作には{role}の権限が必要です。", "This needs the {role} role.")
ROLE_NAMES = {"agent": Text("オペレーター", "agent"),
              "supervisor": Text("スーパーバイザー", "supervisor"),
              "admin": Text("管理者", "admin")}


def _unauthorized(message: Text) -> APIError:
    return APIError(401, "unauthorized", message)


def role_needed(role: str) -> APIError:
    """403: the agent's role is below ``role``."""
    return APIError(403, "forbidden", ROLE_NEEDED.format(role=ROLE_NAMES[role]))


def authenticate_request() -> Agent:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized(NOT_SIGNED_IN)
    now = clock.now()
    try:
        claims = tokens.verify_access_token(token.strip(), secret=current_app.config["SECRET_KEY"],
                                            now=now)
    except tokens.TokenError as exc:
        raise _unauthorized(BAD_TOKEN.format(reason=exc)) from None
    policy = effective_policy()  # before connecting: it may read the database itself
    with db.get_engine().connect() as conn:
        try:
            agent = accounts.session_agent(conn, claims.session_id, claims.agent_id,
                                           policy=policy, now=now)
        except accounts.SessionInvalid as exc:
            raise _unauthorized(exc.text) from None
    g.agent = agent
    g.session_id = claims.session_id
    return agent


def require_auth(role: str = "agent") -> Callable[[F], F]:
    """Only agents with at least ``role`` (agent < supervisor < admin) may call the view."""
    needed = ROLE_RANK[role]

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            agent = authenticate_request()
            if ROLE_RANK.get(agent.role, -1) < needed:
                raise role_needed(role)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def current_agent() -> Agent:
    return g.agent
