"""A survey campaign on the simulator: no agent; each callee hears the question and presses a
key, which becomes the attempt's and the contact's result."""

from __future__ import annotations

from sqlalchemy import select

from connector import db
from connector.schema import campaign_attempts
from tests.connector.campaigns.conftest import CampaignEnv
from tests.connector.voice.conftest import MAIN
from voice.simulator import CallerScript, Press, answers

SURVEY = {"prompt": "ご満足いただけた場合は1、ご不満な場合は2を押してください。",
          "keys": {"1": "satisfied", "2": "unsatisfied"}, "timeout": 5}
RESULTS = [{"code": "satisfied", "label": "満足"}, {"code": "unsatisfied", "label": "不満"}]


def test_survey_keys_are_stored_as_results_without_an_agent(campaign_env: CampaignEnv):
    env = campaign_env
    env.sim.on_number("+819011112222", answers(after=2, script=CallerScript(digits=["1"])))
    env.sim.on_number("+819033334444", answers(after=2, script=CallerScript(
        digits=[Press("9"), Press("2")])))  # a key not offered: asked again
    env.sim.on_number("+819055556666", answers(after=2, script=CallerScript(digits=[])))
    campaign = env.create(mode="progressive", max_channels=2, dispositions=RESULTS,
                          survey=SURVEY)
    env.upload(campaign["id"], b"09011112222\n09033334444\n09055556666\n")
    env.action(campaign["id"], "start")
    assert env.tick() == 2  # max_channels, no agent needed
    assert env.tick() == 0
    env.sim.run(until=env.sim.now() + 120)
    # A freed channel dialed the third callee at once (the survey webhook nudged pacing).
    assert len([c for c in env.contacts(campaign["id"]) if c["attempts"]]) == 3
    env.sim.run(until=env.sim.now() + 120)

    contacts = {c["e164"]: c for c in env.contacts(campaign["id"])}
    assert {k: (c["state"], c["result"]) for k, c in contacts.items()} == {
        "+819011112222": ("done", "satisfied"), "+819033334444": ("done", "unsatisfied"),
        "+819055556666": ("done", "no_result")}
    assert env.voice.record(contacts["+819011112222"]["last_call_sid"])["disposition"] == "満足"
    assert env.voice.record(contacts["+819033334444"]["last_call_sid"])["disposition"] == "不満"
    with db.get_engine(env.app).connect() as conn:
        attempts = list(conn.execute(select(campaign_attempts.c.result,
                                            campaign_attempts.c.agent_id)))
    assert sorted(attempts) == [("no_result", None), ("satisfied", None),
                                ("unsatisfied", None)]
    transcript = next(t for t in env.sim.transcripts
                      if t.call_sid == contacts["+819033334444"]["last_call_sid"])
    assert transcript.heard == [SURVEY["prompt"], SURVEY["prompt"],
                                "ご回答ありがとうございました。失礼いたします。"]
    stats = env.client().get(f"/api/campaigns/{campaign['id']}/stats", headers=env.admin)
    figures = stats.get_json()["campaign"]
    assert (figures["attempts"], figures["answered"], figures["remaining"]) == (3, 3, 0)
    assert {r["label"]: r["count"] for r in figures["final_results"]} == {
        "満足": 1, "不満": 1, "未入力": 1}


def test_survey_settings_errors_reach_the_api(campaign_env: CampaignEnv):
    env = campaign_env
    answer = env.client().post("/api/campaigns", headers=env.admin, json={
        "name": "x", "settings": {"caller_id": MAIN, "survey": SURVEY}})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["details"]["codes"] == {
        "settings.survey.keys.1": "unknown_result", "settings.survey.keys.2": "unknown_result",
        "settings.mode": "survey_needs_progressive",
        "settings.max_channels": "survey_needs_channels"}
