"""One progressive call end to end through the simulator and the real webhooks."""

from __future__ import annotations

from sqlalchemy import select

from connector import db, presence
from connector.schema import campaign_attempts
from tests.connector.campaigns.conftest import CampaignEnv


def test_progressive_call_bridges_the_reserved_agent_and_records_results(
        any_db_campaign_env: CampaignEnv):
    env = any_db_campaign_env
    agent = env.voice.add_agent("sato")
    browser = env.sim.on_client("sato", answer_after=1)
    env.sim.on_number("+819011112222", answer_after=3, hangup_after=20)
    env.sim.on_number("+819033334444", outcome="busy")
    campaign = env.create(mode="progressive", agents=["sato"], max_attempts=2,
                          retry_minutes={"busy": 10})
    answer = env.upload(campaign["id"], "電話番号,氏名\n090-1111-2222,山田\n090-3333-4444,鈴木\n"
                        .encode("cp932"))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["imported"] == 2
    assert env.action(campaign["id"], "start").status_code == 200
    assert env.tick() == 1  # one agent, one call
    assert env.tick() == 0  # the agent is reserved
    env.sim.run(until=env.sim.now() + 60)
    assert len(browser.rung) == 1
    contacts = {c["e164"]: c for c in env.contacts(campaign["id"])}
    first = contacts["+819011112222"]
    assert first["state"] == "wrapup" and first["owner_agent_id"] == agent.id
    record = env.voice.record(first["last_call_sid"])
    assert record["outcome"] == "answered" and record["talk_seconds"] >= 15
    sato = env.voice.login("sato")
    result = env.client().post(f"/api/campaigns/contacts/{first['id']}/result",
                               json={"result": "success", "note": "来月納品"}, headers=sato)
    assert result.status_code == 200, result.get_json()
    assert result.get_json()["contact"]["state"] == "done"
    assert env.voice.record(first["last_call_sid"])["disposition"] == "受注"
    with db.get_engine(env.app).connect() as conn:
        assert presence.get(conn, agent.id).status == "available"
    # The busy number: dialed, recorded busy without ringing the agent, retried 10 min later.
    assert env.tick() == 1
    env.sim.run(until=env.sim.now() + 30)
    assert len(browser.rung) == 1
    busy = {c["e164"]: c for c in env.contacts(campaign["id"])}["+819033334444"]
    assert busy["state"] == "pending" and busy["result"] == "busy" and busy["attempts"] == 1
    assert env.tick() == 0  # not due yet
    env.sim.run(until=env.sim.now() + 601)
    assert env.tick() == 1
    env.sim.run(until=env.sim.now() + 30)
    busy = {c["e164"]: c for c in env.contacts(campaign["id"])}["+819033334444"]
    assert busy["state"] == "done" and busy["attempts"] == 2  # attempts used up
    assert env.tick() == 0
    stats = env.client().get(f"/api/campaigns/{campaign['id']}/stats", headers=env.admin)
    figures = stats.get_json()["campaign"]
    assert (figures["attempts"], figures["connected"], figures["remaining"]) == (3, 1, 0)
    assert env.client().get(f"/api/campaigns/{campaign['id']}", headers=env.admin
                            ).get_json()["campaign"]["status"] == "completed"
    # Every attempt is a call record handed to the CRM write-back like any call.
    with db.get_engine(env.app).connect() as conn:
        sids = list(conn.execute(select(campaign_attempts.c.call_sid)).scalars())
    assert len(sids) == 3 and set(sids) <= set(env.voice.handoffs.calls)
    assert first["last_call_sid"] in env.voice.handoffs.updates  # again, with the result


def test_result_never_entered_becomes_no_result_and_stats_csv(campaign_env: CampaignEnv):
    env = campaign_env
    env.voice.add_agent("sato")
    env.sim.on_client("sato", answer_after=1)
    env.sim.on_number("+819011112222", answer_after=2, hangup_after=10)
    campaign = env.create(mode="progressive", agents=["sato"])
    env.upload(campaign["id"], b"09011112222\n")
    env.action(campaign["id"], "start")
    assert env.tick() == 1
    env.sim.run(until=env.sim.now() + 40)
    assert env.contacts(campaign["id"])[0]["state"] == "wrapup"
    env.sim.run(until=env.sim.now() + 31 * 60)
    env.tick()
    admin = env.voice.login("boss")
    contact = env.client().get(f"/api/campaigns/{campaign['id']}/contacts",
                               headers=admin).get_json()["contacts"][0]
    assert (contact["state"], contact["result"]) == ("done", "no_result")
    answer = env.client().get(f"/api/campaigns/{campaign['id']}/stats.csv?encoding=cp932",
                              headers=admin)
    lines = answer.data.decode("cp932").splitlines()
    assert lines[0].startswith("区分,エージェント,発信数,応答,接続")
    assert lines[1].startswith("キャンペーン,,1,1,1,0,0.0,")
    assert lines[2].startswith("エージェント,sato,1,1,1,0,0.0,")
    stats = env.client().get(f"/api/campaigns/{campaign['id']}/stats", headers=admin).get_json()
    assert stats["campaign"]["final_results"] == [
        {"result": "no_result", "label": "未入力", "count": 1}]
    bad = env.client().get(f"/api/campaigns/{campaign['id']}/stats.csv?encoding=latin1",
                           headers=admin)
    assert bad.status_code == 422


def test_maintenance_tick_runs_campaign_pacing(campaign_env: CampaignEnv):
    from connector import maintenance

    env = campaign_env
    env.voice.add_agent("sato")
    env.sim.on_number("+819011112222", outcome="busy")
    campaign = env.create(mode="progressive", agents=["sato"])
    env.upload(campaign["id"], b"09011112222\n")
    env.action(campaign["id"], "start")
    env.voice.handoffs.reclaim_lapsed = lambda: 0  # the fake write-back has no leases
    env.app.extensions["cti.redis"].delete("cti:maintenance:leases")
    done = maintenance.run_tick(env.app)
    assert done["connector.campaigns.dialer"] == 1


def test_start_and_a_freed_agent_pace_at_once_without_waiting_for_a_tick(
        campaign_env: CampaignEnv):
    env = campaign_env
    env.voice.add_agent("sato")
    browser = env.sim.on_client("sato", answer_after=1)
    env.sim.on_number("+819011112222", outcome="busy")
    env.sim.on_number("+819033334444", answer_after=2, hangup_after=10)
    campaign = env.create(mode="progressive", agents=["sato"])
    env.upload(campaign["id"], b"09011112222\n09033334444\n")
    started = env.client().post(f"/api/campaigns/{campaign['id']}/start", headers=env.admin,
                                buffered=True)  # the response is closed: the nudge runs
    assert started.status_code == 200
    env.sim.run(until=env.sim.now() + 60)
    # The busy callee freed sato; the status callback's nudge dialed the next contact.
    assert len(browser.rung) == 1
    states = {c["e164"]: c["state"] for c in env.contacts(campaign["id"])}
    assert states == {"+819011112222": "pending", "+819033334444": "wrapup"}
