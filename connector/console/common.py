"""The console's blueprint and what its views share: rendering, languages, dates, CSV replies."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, render_template, request

from voice import numbering

from . import csvout, texts
from .guard import can, csrf_token

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")

#: The menu: (endpoint, word, screen it needs).
NAV = (("console.board", "board", "board"), ("console.history", "history", "history"),
       ("console.stats", "stats", "stats"), ("console.number_stats", "numbers_stats", "stats"),
       ("console.status_stats", "status_stats", "stats"),
       ("console.charges_stats", "charges", "charges"),
       ("console.campaigns_page", "campaigns", "campaigns"),
       ("console.voicemail_page", "voicemail", "voicemail"))
#: The 「設定」 submenu: every admin screen, in the same form.
SETTINGS_NAV = (
    ("console.users", "users", "users"), ("console.groups_admin", "groups", "groups"),
    ("console.stop_statuses", "stop_statuses", "stop_statuses"),
    ("console.numbers_admin", "numbers", "numbers"), ("console.flows_admin", "flows", "flows"),
    ("console.audio_admin", "audio", "audio"),
    ("console.number_lists_admin", "number_lists", "number_lists"),
    ("console.crm_admin", "crm", "crm"),
    ("console.permissions_page", "permissions", "permissions"),
    ("console.security_page", "security", "security"),
    ("console.login_policy_admin", "login_policy", "login_policy"),
    ("console.audit_page", "audit", "audit"), ("console.checks_page", "checks", "checks"))


class FormError(ValueError):
    """Bad input on a console form; ``problems`` maps field names to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CTI_SETTINGS"].console.timezone)


def local_text(moment: datetime | None, seconds: bool = True) -> str:
    if moment is None:
        return ""
    return moment.astimezone(zone()).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def number_text(e164: str) -> str:
    """``+81312345678`` → ``03-1234-5678`` (as Japanese users write numbers); else as stored."""
    if not e164 or not e164.startswith("+"):
        return e164 or ""
    try:
        return numbering.parse_destination(e164).display
    except numbering.NumberError:
        return e164


def page(template: str, active: str, **context: Any) -> Any:
    lang = texts.language()
    t = texts.words(lang)
    nav, settings_nav = ([(endpoint, t[word], endpoint == f"console.{active}")
                          for endpoint, word, screen in menu if can(screen, "view")]
                         for menu in (NAV, SETTINGS_NAV))
    query = urlencode([(k, v) for k, v in request.args.items(multi=True)
                       if k not in ("format", "encoding", "lang", "offset")])
    body = render_template(f"console/{template}", t=t, lang=lang, nav=nav,
                           settings_nav=settings_nav, agent=g.agent,
                           query=query,
                           csrf=csrf_token(g.console_session), local=local_text, can=can,
                           number=number_text,
                           other_lang="en" if lang == "ja" else "ja", **context)
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if request.args.get("lang") in texts.LANGUAGES:
        response.set_cookie(texts.LANG_COOKIE, request.args["lang"], max_age=365 * 86400,
                            samesite="Lax", path="/console")
    return response


def parse_day(name: str, default: date) -> date:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise FormError({name: f"a date like 2026-12-01, got {raw!r}"}) from None


def period_args(default_days: int = 7) -> tuple[date, date]:
    """``from`` and ``to`` (local days, inclusive); the last week by default."""
    today = datetime.now(zone()).date()
    first = parse_day("from", today - timedelta(days=default_days - 1))
    last = parse_day("to", today)
    if last < first:
        raise FormError({"to": "must not be before from"})
    if (last - first).days > 366:
        raise FormError({"to": "at most 366 days after from"})
    return first, last


def int_arg(name: str, low: int | None = None, high: int | None = None) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise FormError({name: f"a whole number, got {raw!r}"}) from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise FormError({name: f"between {low} and {high}, got {value}"})
    return value


def csv_response(filename: str, header: list[str] | tuple[str, ...],
                 rows: list[list[Any]]) -> Response:
    encoding = request.args.get("encoding", "utf-8")
    if encoding not in csvout.ENCODINGS:
        raise FormError({"encoding": f"utf-8 or cp932, got {encoding!r}"})
    body = csvout.encode_csv(header, rows, encoding)
    charset = "shift_jis" if encoding == "cp932" else "utf-8"
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Type"] = f"text/csv; charset={charset}"
    response.headers["Content-Disposition"] = csvout.content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def wants_csv() -> bool:
    return request.args.get("format") == "csv"
