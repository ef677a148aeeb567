"""The 通話料金 page (ST-6): call charges per day or month, by direction and per number, with
a chart and CSV. The figures are the legs' Twilio prices (connector.voice.charges), summed by
the database (:func:`.stats_sql.charge_report`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app, request
from sqlalchemy import select

from .. import db
from ..schema import phone_numbers
from . import history, stats_sql, texts
from .common import FormError, bp, csv_response, number_text, page, period_args, wants_csv
from .guard import require
from .stats_sql import money

COLUMNS = ("calls", "inbound", "outbound", "total", "pending")
_MICROS = Decimal(1_000_000)


def _filters() -> tuple[str, str, str]:
    by = request.args.get("by", "day")
    if by not in stats_sql.CHARGE_GROUPINGS:
        raise FormError({"by": "day or month"})
    direction = request.args.get("direction", "")
    if direction and direction not in history.DIRECTIONS:
        raise FormError({"direction": "inbound, outbound or empty"})
    return by, direction, request.args.get("number", "")[:20]


@bp.get("/stats/charges")
@require("charges", "view")
def charges_stats() -> Any:
    first, last = period_args(default_days=31)
    by, direction, number = _filters()
    period = stats_sql.Period.local_days(first.isoformat(), last.isoformat(),
                                         current_app.config["CTI_SETTINGS"].console.timezone)
    with db.get_engine().connect() as conn:
        ours = [r.e164 for r in conn.execute(select(phone_numbers.c.e164).order_by(
            phone_numbers.c.e164))]
        report = stats_sql.charge_report(conn, period, by=by, direction=direction,
                                         number=number)
    t = texts.words(texts.language())
    if wants_csv():
        return _csv(report, t, request.args.get("table", ""))
    return page("charges.html", "charges_stats", report=report, columns=COLUMNS, by=by,
                first=first, last=last, direction=direction, number_filter=number,
                ours=ours, money=money, chart=_chart(report, t))


def _chart(report: dict[str, Any], t: dict[str, str]) -> dict[str, Any]:
    """Stacked bars of the main currency: inbound and outbound charges per bucket."""
    unit = report["main_unit"]
    rows = report["tables"][unit]["rows"] if unit in report["tables"] else []
    return {"type": "bar", "labels": [r["key"] for r in rows], "series": [
        {"label": f"{t['inbound']} ({unit})", "stack": "c",
         "data": [float(Decimal(r["inbound"]) / _MICROS) for r in rows]},
        {"label": f"{t['outbound']} ({unit})", "stack": "c",
         "data": [float(Decimal(r["outbound"]) / _MICROS) for r in rows]}]}


@require("charges", "download")
def _csv(report: dict[str, Any], t: dict[str, str], table: str) -> Any:
    from .views import _audit_download

    if table not in ("", "numbers"):
        raise FormError({"table": "empty or numbers"})
    first = t["number"] if table == "numbers" else t[report["by"]]
    header = [first, t["calls"], t["charge_inbound"], t["charge_outbound"], t["charge_total"],
              t["currency"], t["pending_legs"]]
    body: list[list[Any]] = []
    for unit in report["units"]:
        data = report["tables"][unit]
        rows = data["numbers"] if table == "numbers" else data["rows"]
        for r in rows:
            label = number_text(r["number"]) if table == "numbers" else r["key"]
            body.append([label, r["calls"], money(r["inbound"], unit),
                         money(r["outbound"], unit), money(r["total"], unit), unit,
                         r["pending"]])
        total = data["total"]
        body.append([t["total"], total["calls"], money(total["inbound"], unit),
                     money(total["outbound"], unit), money(total["total"], unit), unit,
                     total["pending"]])
    name = "通話料金_番号別.csv" if table == "numbers" else "通話料金.csv"
    _audit_download(f"charges{'-numbers' if table else ''}.csv", len(body))
    return csv_response(name, header, body)
