"""The login-policy screen (SPEC AD-3): admins set the policy over the file's ``[auth]``.

Each field left empty takes the configuration file's value; what is filled in is stored in
``console_settings`` (:mod:`connector.auth.policy`) and applies to every sign-in, password
change and session from then on (within a few seconds on other web instances). The page is a
plain form; ``/console/api/login-policy`` reads and saves the same values as JSON with the
same rules, for scripts. Every change goes to the audit log as ``login_policy.update`` with
each changed field from → to.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, jsonify, redirect, request, url_for

from .. import clock, db
from ..auth import policy as login_policy
from ..config import AUTH_RANGES, PASSWORD_CHARACTERS
from ..errors import error_response
from . import audit, store
from .common import bp, page
from .guard import require
from .security import client_ip

SCREEN = "login_policy"
ACTION = "login_policy.update"


def _config() -> dict[str, Any]:
    auth = current_app.config["CTI_SETTINGS"].auth
    return {name: getattr(auth, name) for name in login_policy.FIELDS}


def _shown(name: str, overrides: dict[str, Any], config: dict[str, Any]) -> Any:
    """A field's value for the audit log: the stored value, or ``[auth] <value>``."""
    return overrides[name] if name in overrides else f"[auth] {config[name]}"


def _save(value: dict[str, Any]) -> dict[str, Any]:
    """Validate, store and audit; returns the stored overrides. Raises SettingError."""
    config = _config()
    with db.get_engine().begin() as conn:
        before, after = store.put(conn, login_policy.STORE_KEY, value, by=g.agent.id,
                                  now=clock.now())
        changes = {name: {"from": _shown(name, before, config), "to": _shown(name, after, config)}
                   for name in login_policy.FIELDS if before.get(name) != after.get(name)}
        if changes:
            audit.record(conn, at=clock.now(), action=ACTION, actor_id=g.agent.id,
                         actor=g.agent.username, target=SCREEN, details=changes, ip=client_ip(),
                         user_agent=request.headers.get("User-Agent", ""))
    login_policy.forget()
    return after


def _rows(overrides: dict[str, Any], form: dict[str, Any] | None) -> list[dict[str, Any]]:
    config = _config()
    effective = login_policy.merge(current_app.config["CTI_SETTINGS"].auth, overrides)
    rows = []
    for name in login_policy.FIELDS:
        kind = ("int" if name in AUTH_RANGES else "choice" if name == "password_characters"
                else "bool")
        stored = overrides.get(name)
        typed = form.get(name, "") if form is not None else (
            "" if stored is None else _text(stored))
        low, high = AUTH_RANGES.get(name, (None, None))
        rows.append({"name": name, "kind": kind, "value": typed, "config": config[name],
                     "effective": getattr(effective, name), "stored": name in overrides,
                     "min": low, "max": high})
    return rows


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@bp.get("/admin/login-policy", endpoint="login_policy_admin")
@require(SCREEN, "view")
def policy_page(problems: dict[str, str] | None = None, form: dict[str, Any] | None = None,
                status: int = 200) -> Any:
    with db.get_engine().connect() as conn:
        overrides = login_policy.stored(conn)
    response = page("admin_login_policy.html", "login_policy_admin",
                    rows=_rows(overrides, form), problems=problems or {},
                    characters=PASSWORD_CHARACTERS, saved=bool(request.args.get("saved")))
    response.status_code = status
    return response


@bp.post("/admin/login-policy")
@require(SCREEN, "update")
def save_policy() -> Any:
    form = {name: request.form.get(name, "") for name in login_policy.FIELDS}
    try:
        _save(form)
    except store.SettingError as exc:
        return policy_page.__wrapped__(exc.problems, form, 422)  # type: ignore[attr-defined]
    return redirect(url_for(".login_policy_admin", saved=1))


# -- JSON, for scripts: the same values and rules ------------------------------------------------

def _state(overrides: dict[str, Any]) -> dict[str, Any]:
    effective = login_policy.merge(current_app.config["CTI_SETTINGS"].auth, overrides)
    return {"stored": overrides, "config": _config(),
            "effective": {n: getattr(effective, n) for n in login_policy.FIELDS},
            "ranges": {n: list(r) for n, r in AUTH_RANGES.items()},
            "password_characters": list(PASSWORD_CHARACTERS)}


@bp.get("/api/login-policy")
@require(SCREEN, "view", api=True)
def policy_json() -> Any:
    with db.get_engine().connect() as conn:
        return jsonify(_state(login_policy.stored(conn)))


@bp.put("/api/login-policy")
@require(SCREEN, "update", api=True)
def save_policy_json() -> Any:
    """The whole policy: fields left out or null follow the configuration file."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _invalid({"body": "a JSON object of login-policy fields"})
    try:
        overrides = _save(body)
    except store.SettingError as exc:
        return _invalid(exc.problems)
    return jsonify(_state(overrides))


def _invalid(problems: dict[str, str]) -> Any:
    """422 ``invalid_fields`` with ``details.fields``, as the product's other APIs answer."""
    return error_response(422, "invalid_fields",
                          "; ".join(f"{k}: {v}" for k, v in problems.items()),
                          {"fields": problems})
