"""User administration (SPEC AD-1): create, edit every field, disable, unlock, reset password,
PIN codes (:mod:`connector.auth.pins`), groups with skill levels and caller IDs
(:mod:`.user_links`). Every change is written to the
audit log with the fields it changed (never the password itself).

User IDs stay as created: they are the agents' Twilio client identities and CRM mappings.
"""

from __future__ import annotations

from typing import Any

from flask import g, redirect, request, url_for
from sqlalchemy import Connection, func, select, update

from .. import clock, db
from ..auth import accounts, pins
from ..auth.policy import effective_policy
from ..messages import localized
from ..schema import ROLES, agents
from . import audit, texts, user_links
from .common import FormError, bp, page
from .guard import require
from .security import client_ip

PROFILE_FIELDS = ("display_name", "nickname", "email", "extension", "role", "language")


def _log(conn: Connection, action: str, target: str, details: dict[str, Any]) -> None:
    audit.record(conn, at=clock.now(), action=action, actor_id=g.agent.id,
                 actor=g.agent.username, target=target, details=details, ip=client_ip(),
                 user_agent=request.headers.get("User-Agent", ""))


@bp.get("/users")
@require("users", "view")
def users() -> Any:
    with db.get_engine().connect() as conn:
        people = accounts.list_agents(conn)
    return page("users.html", "users", people=people, now=clock.now(), roles=ROLES)


def _agent_or_404(conn: Connection, agent_id: int) -> accounts.Agent:
    agent = accounts.get_agent(conn, agent_id)
    if agent is None:
        raise FormError({"id": f"no user with id {agent_id}"})
    return agent


def _editor(agent: accounts.Agent | None, problems: dict[str, str] | None = None,
            message: str = "", status: int = 200) -> Any:
    with db.get_engine().connect() as conn:
        links = user_links.load(conn, agent.id if agent else None,
                                agent.username if agent else "")
        pin_set = pins.has_pin(conn, agent.id) if agent else False
    response = page("user_edit.html", "users", person=agent, links=links, pin_set=pin_set,
                    skill_levels=user_links.SKILL_LEVELS, roles=ROLES, problems=problems or {},
                    message=message, form=request.form, now=clock.now())
    response.status_code = status
    return response


@bp.get("/users/new")
@require("users", "update")
def new_user() -> Any:
    return _editor(None)


@bp.get("/users/<int:agent_id>")
@require("users", "view")
def user(agent_id: int) -> Any:
    with db.get_engine().connect() as conn:
        agent = _agent_or_404(conn, agent_id)
    message = texts.words(texts.language())["saved"] if request.args.get("saved") else ""
    return _editor(agent, message=message)


def _profile_from_form() -> dict[str, Any]:
    values = {name: request.form.get(name, "").strip() for name in PROFILE_FIELDS}
    problems = {}
    for text in accounts.validate_profile(role=values["role"], language=values["language"],
                                          email=values["email"]):
        field, _, problem = localized(text).partition(": ")
        problems[field] = problem
    if not values["display_name"]:
        problems["display_name"] = localized(accounts.NAME_REQUIRED).partition(": ")[2]
    for name, limit in (("display_name", 100), ("nickname", 50), ("extension", 10)):
        if len(values[name]) > limit:
            problems[name] = f"at most {limit} characters"
    if problems:
        raise FormError(problems)
    values["active"] = request.form.get("active") == "on"
    return values


@bp.post("/users/new")
@require("users", "update")
def create_user() -> Any:
    try:
        values = _profile_from_form()
        policy = effective_policy()  # before connecting: it may read the database itself
        with db.get_engine().begin() as conn:
            agent = accounts.create_agent(
                conn, username=request.form.get("username", ""),
                password=request.form.get("password", ""),
                policy=policy, now=clock.now(),
                **{k: values[k] for k in PROFILE_FIELDS})
            changed: dict[str, Any] = {k: values[k] for k in PROFILE_FIELDS}
            _link(conn, agent, changed)
            _log(conn, "user.create", f"user:{agent.username}", changed)
    except FormError as exc:
        return _editor(None, exc.problems, status=422)
    except accounts.AccountError as exc:
        return _editor(None, _account_problems(exc), status=422)
    return redirect(url_for(".user", agent_id=agent.id, saved=1))


def _account_problems(exc: accounts.AccountError) -> dict[str, str]:
    problems: dict[str, str] = {}
    for text in exc.problems or [exc.text]:
        field, sep, problem = localized(text).partition(": ")
        problems[field if sep else "password"] = problem if sep else field
    return problems


def _link(conn: Connection, agent: accounts.Agent, changed: dict[str, Any]) -> None:
    """Groups, skills and caller IDs from the form, noting what changed for the audit log."""
    groups = user_links.set_groups(conn, agent.id, user_links.groups_from_form())
    if groups:
        changed["groups"] = groups
    caller_ids = user_links.set_caller_ids(conn, agent.id, agent.username)
    if caller_ids:
        changed["caller_ids"] = caller_ids


def _admins_left(conn: Connection, without: int) -> int:
    return conn.execute(select(func.count()).select_from(agents).where(
        agents.c.role == "admin", agents.c.active.is_(True), agents.c.id != without)
    ).scalar_one()


@bp.post("/users/<int:agent_id>")
@require("users", "update")
def save_user(agent_id: int) -> Any:
    now = clock.now()
    try:
        values = _profile_from_form()
        with db.get_engine().begin() as conn:
            agent = _agent_or_404(conn, agent_id)
            losing_admin = agent.role == "admin" and (values["role"] != "admin"
                                                      or not values["active"])
            if losing_admin and _admins_left(conn, agent.id) == 0:
                raise FormError({"role": "the last active admin must stay an active admin"})
            changed = {k: {"from": getattr(agent, k), "to": values[k]}
                       for k in (*PROFILE_FIELDS, "active") if getattr(agent, k) != values[k]}
            conn.execute(update(agents).where(agents.c.id == agent.id).values(
                updated_at=now, **{k: values[k] for k in PROFILE_FIELDS}))
            if agent.active != values["active"]:
                accounts.set_active(conn, agent, values["active"], now)
            _link(conn, agent, changed)
            _log(conn, "user.update", f"user:{agent.username}", changed)
    except FormError as exc:
        with db.get_engine().connect() as conn:
            agent = _agent_or_404(conn, agent_id)
        return _editor(agent, exc.problems, status=422)
    return redirect(url_for(".user", agent_id=agent_id, saved=1))


@bp.post("/users/<int:agent_id>/unlock")
@require("users", "update")
def unlock_user(agent_id: int) -> Any:
    with db.get_engine().begin() as conn:
        agent = _agent_or_404(conn, agent_id)
        accounts.unlock(conn, agent, clock.now())
        _log(conn, "user.unlock", f"user:{agent.username}", {})
    return redirect(url_for(".user", agent_id=agent_id, saved=1))


@bp.post("/users/<int:agent_id>/password")
@require("users", "update")
def reset_password(agent_id: int) -> Any:
    """An admin sets a new password (the policy applies); the user's sessions end."""
    try:
        policy = effective_policy()  # before connecting: it may read the database itself
        with db.get_engine().begin() as conn:
            agent = _agent_or_404(conn, agent_id)
            accounts.set_password(conn, agent, request.form.get("new_password", ""),
                                  policy=policy,
                                  now=clock.now())
            _log(conn, "user.password_reset", f"user:{agent.username}", {"password": "set"})
    except accounts.AccountError as exc:
        with db.get_engine().connect() as conn:
            agent = _agent_or_404(conn, agent_id)
        problems = {"new_password": "; ".join(_account_problems(exc).values())}
        return _editor(agent, problems, status=422)
    return redirect(url_for(".user", agent_id=agent_id, saved=1))


@bp.post("/users/<int:agent_id>/pin")
@require("users", "update")
def set_pin(agent_id: int) -> Any:
    """An admin sets or clears the user's PIN (the free-desk code); only "set" is logged."""
    clear = request.form.get("clear") == "1"
    code = None if clear else request.form.get("pin", "").strip()
    try:
        with db.get_engine().begin() as conn:
            agent = _agent_or_404(conn, agent_id)
            try:
                pins.set_pin(conn, agent.id, code, clock.now())
            except ValueError as exc:
                raise FormError({"pin": localized(exc.args[0]).partition(": ")[2]}) from None
            _log(conn, "user.pin_clear" if clear else "user.pin_set", f"user:{agent.username}",
                 {"pin": "cleared" if clear else "set"})
    except FormError as exc:
        with db.get_engine().connect() as conn:
            agent = _agent_or_404(conn, agent_id)
        return _editor(agent, exc.problems, status=422)
    return redirect(url_for(".user", agent_id=agent_id, saved=1))
