"""Admin screens for stop statuses, permissions (AD-2), the audit log and security (AD-4/5)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app, g, redirect, request, url_for
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import clock, db
from ..auth import policy as login_policy
from ..schema import stop_statuses
from . import audit, permissions, retention, store
from .common import FormError, bp, csv_response, page, period_args, wants_csv, zone
from .guard import require
from .security import client_ip, forget_cached_lists

COLOR_RE = re.compile(r"#[0-9A-Fa-f]{6}")


def _log(conn: Any, action: str, target: str, details: dict[str, Any]) -> None:
    audit.record(conn, at=clock.now(), action=action, actor_id=g.agent.id,
                 actor=g.agent.username, target=target, details=details, ip=client_ip(),
                 user_agent=request.headers.get("User-Agent", ""))


# -- stop statuses -----------------------------------------------------------------------------

@bp.get("/stop-statuses", endpoint="stop_statuses")
@require("stop_statuses", "view")
def stop_statuses_page(problems: dict[str, str] | None = None, status: int = 200) -> Any:
    with db.get_engine().connect() as conn:
        rows = conn.execute(select(stop_statuses).order_by(stop_statuses.c.sort_order,
                                                           stop_statuses.c.id)).all()
    response = page("stop_statuses.html", "stop_statuses", rows=rows, problems=problems or {})
    response.status_code = status
    return response


def _stop_values() -> dict[str, Any]:
    values = {"name": request.form.get("name", "").strip(),
              "icon": request.form.get("icon", "").strip(),
              "color": request.form.get("color", "").strip(),
              "active": request.form.get("active", "on") == "on"}
    problems = {}
    if not 1 <= len(values["name"]) <= 50:
        problems["name"] = "1 to 50 characters"
    if values["color"] and not COLOR_RE.fullmatch(values["color"]):
        problems["color"] = "a colour like #1E88E5, or empty"
    try:
        values["sort_order"] = int(request.form.get("sort_order", "0") or 0)
    except ValueError:
        problems["sort_order"] = "a whole number"
    if problems:
        raise FormError(problems)
    return values


@bp.post("/stop-statuses")
@require("stop_statuses", "update")
def save_stop_status() -> Any:
    raw_id = request.form.get("id", "")
    try:
        values = _stop_values()
        with db.get_engine().begin() as conn:
            if raw_id:
                conn.execute(update(stop_statuses).where(
                    stop_statuses.c.id == int(raw_id)).values(**values))
            else:
                conn.execute(insert(stop_statuses).values(created_at=clock.now(), **values))
            _log(conn, "stop_status.update" if raw_id else "stop_status.create",
                 f"stop_status:{values['name']}", values)
    except FormError as exc:
        return stop_statuses_page.__wrapped__(exc.problems, 422)  # type: ignore[attr-defined]
    except IntegrityError:
        return stop_statuses_page.__wrapped__(  # type: ignore[attr-defined]
            {"name": "already used"}, 409)
    return redirect(url_for(".stop_statuses"))


# -- permissions -------------------------------------------------------------------------------

@bp.get("/permissions")
@require("permissions", "view")
def permissions_page() -> Any:
    with db.get_engine().connect() as conn:
        table = permissions.matrix(conn)
    return page("permissions.html", "permissions_page", table=table,
                screens=permissions.SCREENS, actions=permissions.ACTIONS,
                roles=permissions.CONSOLE_ROLES, locked=permissions.LOCKED,
                saved=bool(request.args.get("saved")))


@bp.post("/permissions")
@require("permissions", "update")
def save_permissions() -> Any:
    wanted = set(request.form.getlist("cell"))
    now = clock.now()
    changes = []
    with db.get_engine().begin() as conn:
        for role in permissions.CONSOLE_ROLES:
            for screen in permissions.SCREENS:
                for action in permissions.ACTIONS:
                    value = f"{role}:{screen}:{action}" in wanted
                    if (role, screen, action) in permissions.LOCKED:
                        continue
                    if permissions.set_cell(conn, role, screen, action, value, by=g.agent.id,
                                            now=now):
                        changes.append(f"{role}/{screen}/{action}={'on' if value else 'off'}")
        if changes:
            _log(conn, "permissions.update", "permissions", {"changes": changes})
    return redirect(url_for(".permissions_page", saved=1))


# -- audit log ---------------------------------------------------------------------------------

AUDIT_HEADER = ("日時 when", "誰が who", "操作 action", "対象 target", "接続元 ip", "内容 details")


@bp.get("/audit")
@require("audit", "view")
def audit_page() -> Any:
    first, last = period_args(default_days=30)
    tz = zone()
    since = datetime.combine(first, time(0), tz)
    until = datetime.combine(last + timedelta(days=1), time(0), tz)
    actor, action = request.args.get("actor", "")[:64], request.args.get("action", "")[:64]
    with db.get_engine().connect() as conn:
        rows = audit.entries(conn, since=since, until=until, actor=actor, action=action,
                             limit=audit.MAX_PAGE if wants_csv() else 200)
    if wants_csv():
        return _audit_csv(rows)
    return page("audit.html", "audit_page", rows=rows, first=first, last=last, actor=actor,
                action=action)


@require("audit", "download")
def _audit_csv(rows: list[dict[str, Any]]) -> Any:
    from .common import local_text

    body = [[local_text(r["at"]), r["actor"], r["action"], r["target"], r["ip"],
             "" if r["details"] is None else str(r["details"])] for r in rows]
    return csv_response("操作ログ.csv", AUDIT_HEADER, body)


# -- security: IP allowlists and retention -----------------------------------------------------

@bp.get("/security")
@require("security", "view")
def security_page(problems: dict[str, str] | None = None, report: Any = None,
                  status: int = 200) -> Any:
    with db.get_engine().connect() as conn:
        lists, policy = store.get(conn, "ip_allowlist"), store.get(conn, "retention")
    response = page("security.html", "security_page", lists=lists, policy=policy,
                    problems=problems or {}, report=report, your_ip=client_ip(),
                    trusted=current_app.config["CTI_SETTINGS"].console.trusted_proxies)
    response.status_code = status
    return response


@bp.post("/security")
@require("security", "update")
def save_security() -> Any:
    form = request.form
    try:
        with db.get_engine().begin() as conn:
            changes = {}
            for key, value in (("ip_allowlist", {"admin": form.get("admin", ""),
                                                 "agent": form.get("agent", "")}),
                               ("retention", {"log_days": form.get("log_days", "0"),
                                              "call_days": form.get("call_days", "0"),
                                              "recordings": form.get("recordings")})):
                before, after = store.put(conn, key, value, by=g.agent.id, now=clock.now())
                if before != after:
                    changes[key] = {"from": before, "to": after}
            if changes:
                _log(conn, "security.update", "security", changes)
    except store.SettingError as exc:
        return security_page.__wrapped__(exc.problems, None, 422)  # type: ignore[attr-defined]
    forget_cached_lists(current_app)
    return redirect(url_for(".security_page"))


@bp.post("/security/retention")
@require("security", "delete")
def run_retention() -> Any:
    report = retention.purge(current_app, clock.now(), actor=g.agent.username)
    return security_page.__wrapped__(None, report)  # type: ignore[attr-defined]


# -- AD-7 configuration checks, and the login policy in force (edited in policy_view) ------

@bp.get("/checks")
@require("checks", "view")
def checks_page() -> Any:
    """``cti doctor`` on a screen: every external link tested, with a clear verdict. The checks
    run only when asked (they call the CRMs, each with its own timeout)."""
    verdicts = None
    if request.args.get("run"):
        from .. import doctor

        verdicts = doctor.run(current_app)
        with db.get_engine().begin() as conn:
            _log(conn, "checks.run", "doctor", {"failed": [v.name for v in verdicts
                                                           if not v.ok]})
    policy = login_policy.effective_policy()
    return page("checks.html", "checks_page", verdicts=verdicts,
                policy=[(key, getattr(policy, key)) for key in login_policy.FIELDS])
