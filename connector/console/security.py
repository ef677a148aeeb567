"""App-wide hooks of the console's security settings (SPEC AD-4) and the sign-in audit.

* IP allowlists apply to every API request that carries a bearer token (the token names the
  role, so no database read is needed to know which list applies), to ``/api/auth/login`` (the
  account's role decides) and to the console itself (:mod:`.guard`).
* Every sign-in attempt through ``/api/auth/login`` is written to the audit log, with its result
  — without changing the sign-in code: an ``after_request`` hook reads the response.

The lists are read from the database at most every :data:`CACHE_SECONDS` per process, so a
change reaches every web instance within that time.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask, current_app, g, jsonify, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .. import clock, db
from ..auth import accounts, tokens
from . import audit, ipallow, store, texts

log = logging.getLogger("cti.console.security")

CACHE_SECONDS = 5.0
_LOGIN_ENDPOINT = "auth.login"


def client_ip() -> str:
    if "console_client_ip" not in g:
        trusted = current_app.extensions["cti.console.trusted"]
        g.console_client_ip = ipallow.client_address(
            request.remote_addr or "", request.headers.get("X-Forwarded-For", ""), trusted)
    return g.console_client_ip


def _lists() -> dict[str, list[ipallow.Network]]:
    cache = current_app.extensions["cti.console.allowlist"]
    if cache.get("at", -CACHE_SECONDS) + CACHE_SECONDS <= time.monotonic():
        try:
            with db.get_engine().connect() as conn:
                value = store.get(conn, "ip_allowlist")
        except SQLAlchemyError:
            # The database is down: the request fails at authentication anyway (which needs
            # it); keep the lists last read rather than turning every request into a 500.
            return cache.get("lists", {"admin": [], "agent": []})
        cache["lists"] = {kind: ipallow.parse_networks(value.get(kind, []), kind)
                          for kind in ("admin", "agent")}
        cache["at"] = time.monotonic()
    return cache["lists"]


def forget_cached_lists(app: Flask) -> None:
    app.extensions["cti.console.allowlist"].clear()


def allowlist_for(role: str) -> list[ipallow.Network]:
    """Supervisors and admins use the admin list, agents the agent list."""
    return _lists()["agent" if role == "agent" else "admin"]


def _role_of_request() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            return tokens.verify_access_token(token.strip(),
                                              secret=current_app.config["SECRET_KEY"],
                                              now=clock.now()).role
        except tokens.TokenError:
            return None  # the view answers 401 itself
    if request.endpoint == _LOGIN_ENDPOINT:
        username = _typed_username()
        if isinstance(username, str):
            try:
                with db.get_engine().connect() as conn:
                    agent = accounts.find_agent(conn, username)
            except SQLAlchemyError:
                return None  # the sign-in itself reports the database problem
            return agent.role if agent else None
    return None


def _typed_username() -> str | None:
    """The user ID of a sign-in request, without failing on its body: a body over the size
    limit is the view's to refuse (413), and the hooks must not turn that into a 500."""
    try:
        body = request.get_json(silent=True)
    except HTTPException:
        return None
    username = body.get("username") if isinstance(body, dict) else None
    return username if isinstance(username, str) else None


def _check_allowlist() -> Any:
    if request.path.startswith("/console"):
        return None  # the console's guard checks, with the cookie's role
    role = _role_of_request()
    if role is None or ipallow.allowed(client_ip(), allowlist_for(role)):
        return None
    lang = texts.language()
    response = jsonify({"error": {"code": "ip_not_allowed",
                                  "message": texts.ERRORS["ip_not_allowed"].get(lang)}})
    response.status_code = 403
    return response


def _audit_sign_in(response: Any) -> Any:
    if request.endpoint != _LOGIN_ENDPOINT or request.method != "POST":
        return response
    username = _typed_username() or ""
    agent_id = None
    if response.status_code == 200:
        agent_id = (response.get_json(silent=True) or {}).get("agent", {}).get("id")
    try:
        with db.get_engine().begin() as conn:
            audit.record(conn, at=clock.now(),
                         action="sign_in" if response.status_code == 200 else "sign_in_failed",
                         actor_id=agent_id, actor=str(username)[:64], target="api/auth/login",
                         details={"status": response.status_code}, ip=client_ip(),
                         user_agent=request.headers.get("User-Agent", ""))
    except SQLAlchemyError:
        log.exception("sign-in not written to the audit log (database error)")
    return response


def init_app(app: Flask) -> None:
    settings = app.config["CTI_SETTINGS"].console
    app.extensions["cti.console.trusted"] = ipallow.parse_networks(settings.trusted_proxies,
                                                                   "trusted_proxies")
    app.extensions["cti.console.allowlist"] = {}
    app.before_request(_check_allowlist)
    app.after_request(_audit_sign_in)
