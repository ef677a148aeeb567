"""Console pages: sign-in, call history (ST-1) and statistics (ST-3, ST-4, ST-5)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import (
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select

from .. import assets, clock, db
from ..auth import accounts
from ..auth.guard import authenticate_request
from ..errors import APIError
from ..schema import agent_groups, agents, phone_numbers
from ..voice import calls as call_store
from ..voice import recordings
from . import audit, history, permissions, stats_sql, texts
from .common import (
    FormError,
    bp,
    csv_response,
    int_arg,
    local_text,
    page,
    period_args,
    wants_csv,
    zone,
)
from .guard import COOKIE, Denied, can, cookie_value, guard_redirect_target, load_agent, require
from .security import client_ip


@bp.errorhandler(FormError)
def _form_error(exc: FormError) -> Any:
    if request.path.startswith("/console/api/"):
        return jsonify({"error": {"code": "invalid_fields", "message": str(exc),
                                  "details": {"fields": exc.problems}}}), 422
    lang = texts.language()
    return render_template("console/denied.html", message=str(exc), t=texts.words(lang),
                           lang=lang), 422


# -- signing in ---------------------------------------------------------------------------------

@bp.get("/login")
def login_page() -> Any:
    lang = texts.language()
    return render_template("console/login.html", t=texts.words(lang), lang=lang,
                           next=guard_redirect_target(request.args.get("next", "")),
                           other_lang="en" if lang == "ja" else "ja")


@bp.post("/session")
def start_session() -> Any:
    """Trade a fresh access token (from ``/api/auth/login``) for the console's cookie."""
    agent = authenticate_request()
    if agent.role not in permissions.CONSOLE_ROLES:
        message = texts.ERRORS["console_needs_supervisor"].get(texts.language())
        return jsonify({"error": {"code": "console_needs_supervisor", "message": message}}), 403
    response = jsonify({"next": guard_redirect_target(request.args.get("next", ""))})
    https = current_app.config["CTI_SETTINGS"].server.public_base_url.startswith("https://")
    response.set_cookie(COOKIE, cookie_value(g.session_id, agent.id), httponly=True,
                        samesite="Strict", secure=https, path="/console")
    return response


@bp.post("/logout")
@require("board", "view")
def logout() -> Any:
    with db.get_engine().begin() as conn:
        accounts.revoke_session(conn, g.console_session, clock.now())
        audit.record(conn, at=clock.now(), action="sign_out", actor_id=g.agent.id,
                     actor=g.agent.username, ip=client_ip(),
                     user_agent=request.headers.get("User-Agent", ""))
    response = redirect(url_for(".login_page"))
    response.delete_cookie(COOKIE, path="/console")
    return response


@bp.get("/")
def index() -> Any:
    try:
        load_agent()
    except Denied:  # the page it lands on refuses with the right answer
        return redirect(url_for(".board"))
    for endpoint, screen in (("board", "board"), ("history", "history"), ("stats", "stats"),
                             ("users", "users")):
        if can(screen):
            return redirect(url_for(f".{endpoint}"))
    return redirect(url_for(".board"))


@bp.get("/vendor/chart.umd.min.js")
def chart_js() -> Any:
    script = assets.directory(assets.CHART_JS) / assets.CHART_JS_SCRIPT
    if not script.is_file():
        raise APIError(404, "chart_js_missing", "Chart.js is not installed: run `npm ci`")
    return send_file(script, mimetype="text/javascript", max_age=3600)


# -- shared look-ups ----------------------------------------------------------------------------

def _choices(conn: Any) -> dict[str, Any]:
    return {
        "groups": conn.execute(select(agent_groups.c.id, agent_groups.c.name,
                                      agent_groups.c.display_name).order_by(
            agent_groups.c.name)).all(),
        "agents": conn.execute(select(agents.c.id, agents.c.username,
                                      agents.c.display_name).order_by(agents.c.username)).all(),
    }


def _local_period(first: Any, last: Any) -> tuple[datetime, datetime]:
    tz = zone()
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tz)
    return start, end


# -- ST-1 call history -------------------------------------------------------------------------

def _history_filters() -> history.Filters:
    first, last = period_args()
    start, end = _local_period(first, last)
    direction = request.args.get("direction", "")
    if direction and direction not in history.DIRECTIONS:
        raise FormError({"direction": "inbound, outbound or empty"})
    return history.Filters(
        start=start, end=end, party=request.args.get("party", "")[:40],
        number=request.args.get("number", "")[:40], direction=direction,
        agent_id=int_arg("agent"), group_id=int_arg("group"),
        outcome=request.args.get("outcome", "")[:16], min_seconds=int_arg("min", 0),
        max_seconds=int_arg("max", 0))


@bp.get("/history", endpoint="history")
@require("history", "view")
def history_page() -> Any:
    filters = _history_filters()
    first, last = period_args()
    if wants_csv():
        return _history_csv(filters)
    offset = int_arg("offset", 0) or 0
    with db.get_engine().connect() as conn:
        rows = history.search(conn, filters, limit=history.PAGE + 1, offset=offset)
        choices = _choices(conn)
        outcomes = history.outcomes_in_use(conn)
    return page("history.html", "history", rows=rows[:history.PAGE],
                more=len(rows) > history.PAGE, offset=offset, args=request.args,
                outcomes=outcomes, first=first, last=last, **choices)


@require("history", "download")
def _history_csv(filters: history.Filters) -> Any:
    with db.get_engine().connect() as conn:
        rows = history.csv_rows(conn, filters, local_text)
    _audit_download("history.csv", len(rows))
    return csv_response("通話履歴.csv", history.CSV_HEADER, rows)


@bp.get("/history/<call_sid>/recording")
@require("recordings", "view")
def recording(call_sid: str) -> Any:
    """A short-lived signed link for the ``<audio>`` element (CF-10: authorised roles only)."""
    with db.get_engine().connect() as conn:
        row = call_store.get_row(conn, call_sid)
    if row is None or not row["recording_sid"]:
        raise APIError(404, "not_found", "no recording for this call")
    return redirect(recordings.signed_recording_url(call_sid, ttl=600))


def _audit_download(what: str, rows: int) -> None:
    with db.get_engine().begin() as conn:
        audit.record(conn, at=clock.now(), action="download", actor_id=g.agent.id,
                     actor=g.agent.username, target=what, details={"rows": rows,
                     "query": request.query_string.decode()[:500]}, ip=client_ip(),
                     user_agent=request.headers.get("User-Agent", ""))


# -- ST-3 statistics per group -----------------------------------------------------------------

STAT_COLUMNS = ("calls", "answered", "abandoned", "overflow", "timed_out", "answer_rate",
                "avg_wait", "max_wait", "avg_abandon", "max_abandon", "talk_seconds")


@bp.get("/stats")
@require("stats", "view")
def stats() -> Any:
    first, last = period_args()
    by = request.args.get("by", "day")
    if by not in stats_sql.GROUPINGS:
        raise FormError({"by": "day, hour or agent"})
    group_id = int_arg("group")
    period = stats_sql.Period.local_days(first.isoformat(), last.isoformat(),
                                         current_app.config["CTI_SETTINGS"].console.timezone)
    with db.get_engine().connect() as conn:
        report = stats_sql.group_report(conn, period, by=by, group_id=group_id)
        choices = _choices(conn)
    names = {a.id: a.display_name for a in choices["agents"]}
    t = texts.words(texts.language())
    for row in report["rows"]:
        row["label"] = _row_label(by, row["key"], names, t)
    if wants_csv():
        return _stats_csv(report, t)
    return page("stats.html", "stats", report=report, columns=STAT_COLUMNS, by=by,
                first=first, last=last, group_id=group_id, **choices)


def _row_label(by: str, key: Any, names: dict[int, str], t: dict[str, str]) -> str:
    if by == "hour":
        return f"{key:02d}:00"
    if by == "agent":
        return names.get(key, t["unanswered"]) if key is not None else t["unanswered"]
    return str(key)


@require("stats", "download")
def _stats_csv(report: dict[str, Any], t: dict[str, str]) -> Any:
    header = [t[report["by"]], *(t[c] for c in STAT_COLUMNS)]
    rows = [[r["label"], *(_cell(r[c]) for c in STAT_COLUMNS)] for r in report["rows"]]
    rows.append([t["total"], *(_cell(report["total"][c]) for c in STAT_COLUMNS)])
    _audit_download("stats.csv", len(rows))
    return csv_response("統計.csv", header, rows)


def _cell(value: Any) -> Any:
    return "-" if value is None else value


# -- ST-5 per number ---------------------------------------------------------------------------

NUMBER_COLUMNS = (("outbound", "count", "out_count"), ("outbound", "connected", "out_connected"),
                  ("outbound", "seconds", "out_seconds"), ("outbound", "average", "out_average"),
                  ("inbound", "count", "in_count"), ("inbound", "connected", "in_connected"),
                  ("inbound", "seconds", "in_seconds"), ("inbound", "average", "in_average"))


@bp.get("/stats/numbers")
@require("stats", "view")
def number_stats() -> Any:
    first, last = period_args()
    direction = request.args.get("direction", "")
    if direction and direction not in history.DIRECTIONS:
        raise FormError({"direction": "inbound, outbound or empty"})
    period = stats_sql.Period.local_days(first.isoformat(), last.isoformat(),
                                         current_app.config["CTI_SETTINGS"].console.timezone)
    with db.get_engine().connect() as conn:
        ours = [r.e164 for r in conn.execute(select(phone_numbers.c.e164))]
        rows = stats_sql.number_report(conn, period, ours, direction)
    t = texts.words(texts.language())
    if wants_csv():
        return _numbers_csv(rows, t)
    return page("numbers.html", "number_stats", rows=rows, columns=NUMBER_COLUMNS,
                first=first, last=last, direction=direction)


@require("stats", "download")
def _numbers_csv(rows: list[dict[str, Any]], t: dict[str, str]) -> Any:
    header = [t["number"], *(t[w] for _, _, w in NUMBER_COLUMNS)]
    body = [[r["number"], *(r[side][k] for side, k, _ in NUMBER_COLUMNS)] for r in rows]
    _audit_download("numbers.csv", len(body))
    return csv_response("電話番号統計.csv", header, body)


# -- ST-4 status statistics --------------------------------------------------------------------

@bp.get("/stats/status")
@require("stats", "view")
def status_stats() -> Any:
    from .status_view import status_page

    return status_page()
