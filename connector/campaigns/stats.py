"""キャンペーン統計: per campaign and per agent — attempts, connected, results by kind, talk
time, abandoned rate, contacts remaining. Counted in SQL (one grouped query each)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select

from voice.campaigns import results

from ..schema import agents, campaign_attempts, campaign_contacts
from .store import OPEN_STATES, Campaign

STAT_COLUMNS = ("attempts", "answered", "connected", "abandoned", "abandoned_rate",
                "talk_seconds")


def campaign_stats(conn: Connection, campaign: Campaign) -> dict[str, Any]:
    a = campaign_attempts.c
    totals = conn.execute(select(*_attempt_figures()).where(
        a.campaign_id == campaign.id)).one()
    c = campaign_contacts.c
    states = dict(conn.execute(select(c.state, func.count()).where(
        c.campaign_id == campaign.id).group_by(c.state)).all())
    final = dict(conn.execute(select(c.result, func.count()).where(
        c.campaign_id == campaign.id, c.state == "done").group_by(c.result)).all())
    by_attempt = dict(conn.execute(select(a.result, func.count()).where(
        a.campaign_id == campaign.id).group_by(a.result)).all())
    return {
        **_figures(totals),
        "contacts": sum(states.values()),
        "remaining": sum(states.get(s, 0) for s in OPEN_STATES),
        "states": states,
        "final_results": _labelled(final, campaign),
        "attempt_results": _labelled(by_attempt, campaign),
    }


def agent_stats(conn: Connection, campaign: Campaign) -> list[dict[str, Any]]:
    a, c = campaign_attempts.c, campaign_contacts.c
    rows = conn.execute(select(a.agent_id, agents.c.username, agents.c.display_name,
                               *_attempt_figures()).join(
        agents, agents.c.id == a.agent_id).where(a.campaign_id == campaign.id).group_by(
        a.agent_id, agents.c.username, agents.c.display_name).order_by(agents.c.username))
    dispositions: dict[int, dict[str, int]] = {}
    for agent_id, result, count in conn.execute(select(
            c.owner_agent_id, c.result, func.count()).where(
            c.campaign_id == campaign.id, c.state == "done",
            c.owner_agent_id.is_not(None)).group_by(c.owner_agent_id, c.result)):
        dispositions.setdefault(agent_id, {})[result] = count
    return [{"agent_id": r.agent_id, "username": r.username, "display_name": r.display_name,
             **_figures(r), "results": _labelled(dispositions.get(r.agent_id, {}), campaign)}
            for r in rows]


def _attempt_figures() -> list[Any]:
    a = campaign_attempts.c
    return [func.count().label("attempts"),
            func.sum(case((a.answered_at.is_not(None), 1), else_=0)).label("answered"),
            func.sum(case((a.result == "connected", 1), else_=0)).label("connected"),
            func.sum(case((a.result == "abandoned", 1), else_=0)).label("abandoned"),
            func.coalesce(func.sum(a.talk_seconds), 0).label("talk_seconds")]


def _figures(row: Any) -> dict[str, Any]:
    answered, abandoned = int(row.answered or 0), int(row.abandoned or 0)
    return {"attempts": int(row.attempts or 0), "answered": answered,
            "connected": int(row.connected or 0), "abandoned": abandoned,
            # 放棄率: of the callees who answered, how many found no agent.
            "abandoned_rate": round(abandoned / answered, 4) if answered else 0.0,
            "talk_seconds": int(row.talk_seconds or 0)}


def _labelled(counts: dict[str, int], campaign: Campaign) -> list[dict[str, Any]]:
    return [{"result": code, "label": results.label(code, campaign.settings), "count": n}
            for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if code]


def csv_rows(campaign_figures: dict[str, Any], per_agent: list[dict[str, Any]]
             ) -> tuple[list[str], list[list[Any]]]:
    """キャンペーン統計 as one table: the campaign's line, then one per agent."""
    header = ["区分", "エージェント", "発信数", "応答", "接続", "放棄", "放棄率", "通話秒数",
              "残り"]
    rows = [["キャンペーン", "", *(campaign_figures[k] for k in STAT_COLUMNS),
             campaign_figures["remaining"]]]
    rows += [["エージェント", f["username"], *(f[k] for k in STAT_COLUMNS), ""]
             for f in per_agent]
    return header, rows
