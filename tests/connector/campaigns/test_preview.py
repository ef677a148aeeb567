"""Preview dialing: the agent sees the next contact, skips or dials; recalls at their time."""

from __future__ import annotations

from datetime import timedelta

from tests.connector.campaigns.conftest import CampaignEnv


def test_preview_skip_dial_result_and_recall_at_a_chosen_time(campaign_env: CampaignEnv):
    env = campaign_env
    env.voice.add_agent("sato")
    env.voice.add_agent("kato")
    browser = env.sim.on_client("sato", answer_after=1)
    env.sim.on_number("+819011112222", answer_after=2, hangup_after=30)
    env.sim.on_number("+819033334444", answer_after=2, hangup_after=30)
    campaign = env.create(agents=["sato"])
    assert env.upload(campaign["id"], b"09011112222,A\n09033334444,B\n").status_code == 200
    sato, kato = env.voice.login("sato"), env.voice.login("kato")
    next_url = f"/api/campaigns/{campaign['id']}/preview/next"
    assert env.client().post(next_url, headers=sato).status_code == 200
    assert env.client().post(next_url, headers=sato).get_json()["contact"] is None  # not started
    assert env.action(campaign["id"], "start").status_code == 200
    assert env.client().post(next_url, headers=kato).status_code == 403  # not assigned
    assert env.tick() == 0  # preview campaigns never dial by themselves

    first = env.client().post(next_url, headers=sato).get_json()["contact"]
    assert first["e164"] == "+819011112222" and first["state"] == "preview"
    again = env.client().post(next_url, headers=sato).get_json()["contact"]
    assert again["id"] == first["id"]  # kept for the agent until 発信 or スキップ
    skipped = env.client().post(f"/api/campaigns/contacts/{first['id']}/skip", headers=sato)
    assert skipped.get_json()["contact"]["state"] == "pending"
    assert skipped.get_json()["contact"]["attempts"] == 0  # a skip is not an attempt

    second = env.client().post(next_url, headers=sato).get_json()["contact"]
    assert second["e164"] == "+819033334444"  # the skipped one went to the end
    dialed = env.client().post(f"/api/campaigns/contacts/{second['id']}/dial", headers=sato)
    assert dialed.status_code == 200, dialed.get_json()
    assert dialed.get_json()["attempt"]["call_sid"].startswith("CA")
    env.sim.run(until=env.sim.now() + 60)
    assert len(browser.rung) == 1
    assert browser.rung[0].parameters["cti_caller_e164"] == "+819033334444"
    at = (env.voice.now + timedelta(hours=2)).isoformat()
    bad = env.client().post(f"/api/campaigns/contacts/{second['id']}/result", headers=sato,
                            json={"result": "nope", "recall": {"at": "tomorrow"}})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["details"]["fields"]) == {"result", "recall.at"}
    done = env.client().post(f"/api/campaigns/contacts/{second['id']}/result", headers=sato,
                             json={"result": "considering", "note": "夕方に再度",
                                   "recall": {"at": at}})
    assert done.status_code == 200, done.get_json()
    recalls = env.client().get("/api/campaigns/recalls", headers=sato).get_json()["recalls"]
    assert [(r["e164"], r["recall_at"]) for r in recalls] == [("+819033334444", at)]
    assert env.client().get("/api/campaigns/recalls", headers=kato).get_json()["recalls"] == []

    # Before its time the recall is not offered; the skipped contact is.
    nxt = env.client().post(next_url, headers=sato).get_json()["contact"]
    assert nxt["id"] == first["id"]
    env.client().post(f"/api/campaigns/contacts/{first['id']}/skip", headers=sato)
    env.sim.run(until=env.sim.now() + 2 * 3600 + 1)
    sato = env.voice.login("sato")
    nxt = env.client().post(next_url, headers=sato).get_json()["contact"]
    assert nxt["id"] == second["id"]  # the recall comes first once due
    assert nxt["agent_note"] == "夕方に再度"


def test_preview_dial_refused_when_agent_not_available(campaign_env: CampaignEnv):
    env = campaign_env
    env.voice.add_agent("sato", available=False)
    campaign = env.create(agents=["sato"])
    env.upload(campaign["id"], b"09011112222\n")
    env.action(campaign["id"], "start")
    sato = env.voice.login("sato")
    contact = env.client().post(f"/api/campaigns/{campaign['id']}/preview/next",
                                headers=sato).get_json()["contact"]
    answer = env.client().post(f"/api/campaigns/contacts/{contact['id']}/dial", headers=sato)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "agent_busy"
    left = env.client().post(f"/api/campaigns/{campaign['id']}/preview/next",
                             headers=sato).get_json()["contact"]
    assert left["id"] == contact["id"] and left["state"] == "preview"  # still theirs


def test_current_contact_follows_the_agent_from_preview_to_wrapup(campaign_env: CampaignEnv):
    env = campaign_env
    env.voice.add_agent("sato")
    env.sim.on_client("sato", answer_after=1)
    env.sim.on_number("+819011112222", answer_after=2, hangup_after=10)
    campaign = env.create(agents=["sato"])
    env.upload(campaign["id"], b"09011112222,A\n")
    env.action(campaign["id"], "start")
    sato = env.voice.login("sato")
    assert env.client().get("/api/campaigns/current", headers=sato).get_json() == {
        "contact": None}
    mine = env.client().get("/api/campaigns/mine", headers=sato).get_json()["campaigns"]
    assert [d["label"] for d in mine[0]["dispositions"]][:2] == ["受注", "検討"]
    contact = env.client().post(f"/api/campaigns/{campaign['id']}/preview/next",
                                headers=sato).get_json()["contact"]
    now = env.client().get("/api/campaigns/current", headers=sato).get_json()
    assert (now["contact"]["id"], now["contact"]["state"]) == (contact["id"], "preview")
    assert now["campaign"]["id"] == campaign["id"] and "matches" in now["customer"]
    env.client().post(f"/api/campaigns/contacts/{contact['id']}/dial", headers=sato)
    state = env.client().get("/api/campaigns/current", headers=sato).get_json()
    assert state["contact"]["state"] == "dialing"
    env.sim.run(until=env.sim.now() + 60)
    sato = env.voice.login("sato")
    state = env.client().get("/api/campaigns/current", headers=sato).get_json()
    assert state["contact"]["state"] == "wrapup"
    env.client().post(f"/api/campaigns/contacts/{contact['id']}/result", headers=sato,
                      json={"result": "success"})
    assert env.client().get("/api/campaigns/current", headers=sato).get_json() == {
        "contact": None}
