"""Bearer-token authentication for API views: ``@require_auth(role=...)``, ``current_agent()``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, request

from .. import clock, db
from ..errors import APIError
from . import accounts, tokens
from .accounts import Agent

F = TypeVar("F", bound=Callable[..., Any])

#: Which roles include which: an admin may do what a supervisor may, who may do what an agent may.
ROLE_RANK = {"agent": 0, "supervisor": 1, "admin": 2}


def _unauthorized(message: str) -> APIError:
    return APIError(401, "unauthorized", message)


def authenticate_request() -> Agent:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("sign in first: send 'Authorization: Bearer <access token>'")
    settings = current_app.config["CTI_SETTINGS"]
    now = clock.now()
    try:
        claims = tokens.verify_access_token(token.strip(), secret=current_app.config["SECRET_KEY"],
                                            now=now)
    except tokens.TokenError as exc:
        raise _unauthorized(str(exc)) from None
    with db.get_engine().connect() as conn:
        try:
            agent = accounts.session_agent(conn, claims.session_id, claims.agent_id,
                                           policy=settings.auth, now=now)
        except accounts.SessionInvalid as exc:
            raise _unauthorized(exc.message) from None
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
                raise APIError(403, "forbidden", f"this needs the {role} role")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


def current_agent() -> Agent:
    return g.agent
