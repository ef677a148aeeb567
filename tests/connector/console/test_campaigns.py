"""The console's キャンペーン screen: the table of campaigns with their figures, start / pause /
resume / stop through the permission table and the audit log, the statistics as CSV."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from connector import db
from connector.schema import audit_log, console_permissions
from tests.connector.campaigns.conftest import CampaignEnv, _env
from tests.connector.console.conftest import ConsoleUser


@pytest.fixture
def campaign_env(tmp_path, sqlite_url) -> Iterator[CampaignEnv]:
    env = _env(tmp_path, sqlite_url)
    yield env
    db.get_engine(env.app).dispose()


RESULTS = [{"code": "success", "label": "=受注"}, {"code": "declined", "label": "NG"}]


def _campaign_with_a_call(env: CampaignEnv, results: list | None = None) -> dict:
    env.voice.add_agent("sato")
    env.sim.on_client("sato", answer_after=1)
    env.sim.on_number("+819011112222", answer_after=2, hangup_after=40)
    env.sim.on_number("+819033334444", outcome="busy")
    campaign = env.create(mode="progressive", agents=["sato"], dispositions=results or RESULTS,
                          max_attempts=1)
    env.upload(campaign["id"], b"09011112222\n09033334444\n09055556666\n")
    env.action(campaign["id"], "start")
    env.tick()
    env.sim.run(until=env.sim.now() + 90)
    sato = env.voice.login("sato")
    first = next(c for c in env.contacts(campaign["id"]) if c["state"] == "wrapup")
    answer = env.client().post(f"/api/campaigns/contacts/{first['id']}/result", headers=sato,
                               json={"result": "success"})
    assert answer.status_code == 200, answer.get_json()
    for _ in range(3):  # the agent is free again: the other two (busy, then no answer)
        env.tick()
        env.sim.run(until=env.sim.now() + 90)
    return campaign


def test_the_table_shows_state_and_figures(campaign_env: CampaignEnv):
    env = campaign_env
    campaign = _campaign_with_a_call(env)
    env.create("冬の案内")
    sv = ConsoleUser(env.app, "sv1", "supervisor")
    html = sv.get("/console/campaigns?lang=ja").get_data(as_text=True)
    row = re.search(rf'<tr data-campaign="{campaign["id"]}".*?</tr>', html, re.S).group(0)
    cells = dict(re.findall(r'data-col="(\w+)">(.*?)</td>', row, re.S))
    assert (cells["contacts"], cells["attempts"], cells["connected"], cells["remaining"]) == (
        "3", "3", "1", "0")
    assert cells["abandoned_rate"] == "0.0%" and cells["talk"].startswith("0:00:")
    assert "=受注 1" in cells["results"] and "ビジー 1" in cells["results"]
    assert "実行中" in row or "完了" in row
    draft = re.search(r'<tr data-campaign="\d+" data-status="draft">.*?</tr>', html, re.S)
    assert 'data-action="start"' in draft.group(0) and 'data-action="pause"' not in draft.group(0)
    assert '>キャンペーン</a>' in html  # in the menu


def test_transitions_are_permitted_by_the_table_and_audited(campaign_env: CampaignEnv):
    env = campaign_env
    campaign = env.create()
    sv = ConsoleUser(env.app, "sv1", "supervisor")
    path = f"/console/api/campaigns/{campaign['id']}/start"
    assert sv.post(path, csrf=False).status_code == 403  # no CSRF token
    started = sv.post(path)
    assert started.status_code == 200 and started.get_json()["campaign"]["status"] == "running"
    assert sv.post(path).status_code == 409  # already running: the API's own answer
    with db.get_engine(env.app).connect() as conn:
        entry = conn.execute(select(audit_log).where(
            audit_log.c.action == "campaign.transition")).one()
    assert (entry.actor, entry.target) == ("sv1", f"campaigns/{campaign['id']}/start")
    with db.get_engine(env.app).begin() as conn:
        conn.execute(console_permissions.insert().values(
            role="supervisor", screen="campaigns", action="update", allowed=False,
            updated_at=env.voice.now))
    assert sv.post(f"/console/api/campaigns/{campaign['id']}/pause").status_code == 403
    html = sv.get("/console/campaigns").get_data(as_text=True)
    assert "data-action" not in html  # no buttons without the permission
    assert sv.post(f"/console/api/campaigns/{campaign['id']}/contacts/import",
                   data=b"09011112222\n").status_code == 404  # only listed endpoints
    agent = ConsoleUser(env.app, "ag1", "agent")
    assert agent.get("/console/campaigns").status_code in (302, 403)  # never the page


def test_statistics_csv_for_excel(campaign_env: CampaignEnv):
    env = campaign_env
    campaign = _campaign_with_a_call(env)
    sv = ConsoleUser(env.app, "sv1", "supervisor")
    utf8 = sv.get(f"/console/campaigns/{campaign['id']}/stats.csv")
    assert utf8.status_code == 200 and utf8.data.startswith(b"\xef\xbb\xbf")
    assert "filename*=UTF-8''" in utf8.headers["Content-Disposition"]
    lines = utf8.data.decode("utf-8-sig").splitlines()
    # One column per result; a label that looks like a formula is neutralised.
    assert lines[0].split(",")[-3:] == ["ビジー", "制限時間", "'=受注"]
    assert lines[1].split(",")[:3] == ["キャンペーン", "", "3"]
    assert lines[1].split(",")[-3:] == ["1", "1", "1"]
    assert lines[2].split(",")[:2] == ["エージェント", "sato"] and lines[2].endswith(",0,0,1")
    sjis = sv.get(f"/console/campaigns/{campaign['id']}/stats.csv?encoding=cp932")
    assert sjis.data.decode("cp932").splitlines() == lines
    with db.get_engine(env.app).begin() as conn:
        conn.execute(console_permissions.insert().values(
            role="supervisor", screen="campaigns", action="download", allowed=False,
            updated_at=env.voice.now))
    assert sv.get(f"/console/campaigns/{campaign['id']}/stats.csv").status_code == 403
