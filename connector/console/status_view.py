"""The ステータス統計 page (ST-4): agent status time from the ACD's presence intervals.

Which table holds the intervals is the app's ``cti.console.interval_source`` extension
(:class:`.stats_sql.IntervalSource`, defaults to the ACD's table), so the page works as soon as
that table exists, and tests point it at fixture rows.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app, request
from sqlalchemy import select

from .. import clock, db
from ..presence import LABELS_EN, LABELS_JA
from ..schema import PRESENCE_STATUSES, agent_group_members, agents
from . import stats_sql, texts
from .common import FormError, csv_response, int_arg, page, parse_day, wants_csv, zone
from .guard import require

SHOWS = ("percent", "seconds", "count", "average")


def interval_source() -> stats_sql.IntervalSource:
    return current_app.extensions.get("cti.console.interval_source",
                                      stats_sql.IntervalSource())


def _window() -> tuple[datetime, int]:
    day = parse_day("date", datetime.now(zone()).date())
    hour = int_arg("hour", 0, 23)
    hours = int_arg("hours", 1, 24) or 8
    start = datetime.combine(day, time(9 if hour is None else hour), zone())
    return start, hours


def status_page() -> Any:
    start, hours = _window()
    by = request.args.get("by", "agent")
    show = request.args.get("show", "percent")
    if by not in ("agent", "hour"):
        raise FormError({"by": "agent or hour"})
    if show not in SHOWS:
        raise FormError({"show": ", ".join(SHOWS)})
    group_id = int_arg("group")
    source = interval_source()
    lang = texts.language()
    labels = LABELS_JA if lang == "ja" else LABELS_EN
    with db.get_engine().connect() as conn:
        available = stats_sql.intervals_available(conn, source)
        members = None
        if group_id is not None:
            members = [r.agent_id for r in conn.execute(select(
                agent_group_members.c.agent_id).where(
                agent_group_members.c.group_id == group_id))]
        rows = stats_sql.status_report(conn, source, start, hours, now=clock.now(), by=by,
                                       agent_ids=members) if available else []
        names = dict(conn.execute(select(agents.c.id, agents.c.display_name)).all())
        from .views import _choices

        choices = _choices(conn)
    table = stats_sql.status_shares(rows)
    lines = [{"hour": hour, "agent": names.get(agent, str(agent)), "figures": figures}
             for (hour, agent), figures in sorted(table.items(), key=lambda kv: (
                 kv[0][0] or start, names.get(kv[0][1], ""), kv[0][1]))]
    if wants_csv():
        return _csv(lines, show, labels)
    return page("status.html", "status_stats", lines=lines, statuses=PRESENCE_STATUSES,
                labels=labels, show=show, by=by, start=start, hours=hours, available=available,
                group_id=group_id, shows=SHOWS, end=start + timedelta(hours=hours), **choices)


@require("stats", "download")
def _csv(lines: list[dict[str, Any]], show: str, labels: dict[str, str]) -> Any:
    header = ["hour", "agent", *(labels[s] for s in PRESENCE_STATUSES)]
    body = [[line["hour"].astimezone(zone()).strftime("%Y-%m-%d %H:%M") if line["hour"] else "",
             line["agent"], *(line["figures"].get(s, {}).get(show, 0) for s in PRESENCE_STATUSES)]
            for line in lines]
    return csv_response("ステータス統計.csv", header, body)
