"""The キャンペーン screen (SPEC CA-1): every campaign with its state and statistics, and for
supervisors start / pause / resume / stop and the statistics as CSV.

The table is rendered here from :mod:`connector.campaigns.stats`; the buttons
(``static/campaigns.js``) call ``/console/api/campaigns/<id>/<action>`` — the campaign API's
own transition, behind the console's permission cell ``campaigns``/``update`` and written to
the audit log (:mod:`.admin_api`).
"""

from __future__ import annotations

import json
from typing import Any

from .. import db
from ..campaigns import stats as campaign_stats
from ..campaigns import store as campaign_store
from ..campaigns.api import TRANSITIONS, find_campaign
from . import texts
from .common import bp, csv_response, page
from .guard import require

#: The actions each status offers, in the order of the buttons.
ACTIONS_FROM = {status: [a for a, (sources, _) in TRANSITIONS.items() if status in sources]
                for status in campaign_store.STATUSES}
_SCRIPT_WORDS = ("c_confirm_stop", "c_done", "c_start", "c_pause", "c_resume", "c_stop",
                 "error_http")


@bp.get("/campaigns", endpoint="campaigns_page")
@require("campaigns", "view")
def campaigns_page() -> Any:
    with db.get_engine().connect() as conn:
        rows = [{"campaign": c, "figures": campaign_stats.campaign_stats(conn, c),
                 "actions": ACTIONS_FROM.get(c.status, [])}
                for c in campaign_store.all_campaigns(conn)]
    t = texts.words(texts.language())
    words = json.dumps({k: t[k] for k in _SCRIPT_WORDS}, ensure_ascii=False)
    return page("campaigns.html", "campaigns_page", rows=rows, words=words,
                duration=_duration)


@bp.get("/campaigns/<int:campaign_id>/stats.csv", endpoint="campaign_stats_csv")
@require("campaigns", "download")
def campaign_stats_csv(campaign_id: int) -> Any:
    with db.get_engine().connect() as conn:
        campaign = find_campaign(conn, campaign_id)
        figures = campaign_stats.campaign_stats(conn, campaign)
        agents = campaign_stats.agent_stats(conn, campaign)
    header, rows = csv_table(figures, agents)
    return csv_response(f"キャンペーン統計_{campaign.name}.csv", header, rows)


def csv_table(figures: dict[str, Any], agents: list[dict[str, Any]]
              ) -> tuple[list[str], list[list[Any]]]:
    """キャンペーン統計 for Excel: the campaign's line, then one per agent, with one column per
    result (the campaign's final results; an agent's line counts the results they entered)."""
    header, rows = campaign_stats.csv_rows(figures, agents)
    labels = [r["label"] for r in figures["final_results"]]
    for agent in agents:
        labels += [r["label"] for r in agent["results"] if r["label"] not in labels]
    counts = [{r["label"]: r["count"] for r in figures["final_results"]}]
    counts += [{r["label"]: r["count"] for r in agent["results"]} for agent in agents]
    return ([*header, *labels],
            [[*row, *(found.get(label, 0) for label in labels)]
             for row, found in zip(rows, counts, strict=True)])


def _duration(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
