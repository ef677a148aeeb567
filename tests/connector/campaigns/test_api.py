"""The campaign API: validation naming fields, lifecycle, imports all or nothing, do-not-call."""

from __future__ import annotations

from connector import db
from connector.voice import number_lists
from tests.connector.campaigns.conftest import CampaignEnv
from tests.connector.voice.conftest import MAIN


def test_create_refuses_bad_fields_by_name(campaign_env: CampaignEnv):
    env = campaign_env
    answer = env.client().post("/api/campaigns", headers={**env.admin, "Accept-Language": "en"},
                               json={"name": "x", "settings": {
                                   "caller_id": "03-9876-5432", "mode": "robot",
                                   "window": {"days": ["mon"], "start": "9:00"},
                                   "agents": ["nobody"], "max_attempts": 99}})
    assert answer.status_code == 422
    fields = answer.get_json()["error"]["details"]["fields"]
    assert set(fields) == {"settings.mode", "settings.window.start", "settings.max_attempts"}
    answer = env.client().post("/api/campaigns", headers={**env.admin, "Accept-Language": "en"},
                               json={"name": "x", "settings": {
                                   "caller_id": "03-9876-5432", "agents": ["nobody"]}})
    fields = answer.get_json()["error"]["details"]["fields"]
    assert set(fields) == {"settings.caller_id", "settings.agents"}
    assert "nobody" in fields["settings.agents"]


def test_agents_cannot_manage_campaigns(campaign_env: CampaignEnv):
    env = campaign_env
    env.voice.add_agent("sato")
    answer = env.client().post("/api/campaigns", headers=env.voice.login("sato"),
                               json={"name": "x", "settings": {"caller_id": MAIN}})
    assert answer.status_code == 403


def test_lifecycle_and_patch(campaign_env: CampaignEnv):
    env = campaign_env
    campaign = env.create()
    assert env.create("二つ目")["name"] == "二つ目"
    clash = env.client().patch(f"/api/campaigns/{campaign['id']}", headers=env.admin,
                               json={"name": "二つ目"})
    assert clash.status_code == 422 and "name" in clash.get_json()["error"]["details"]["fields"]
    changed = env.client().patch(f"/api/campaigns/{campaign['id']}", headers=env.admin,
                                 json={"settings": {"max_attempts": 5}})
    assert changed.get_json()["campaign"]["settings"]["max_attempts"] == 5
    assert changed.get_json()["campaign"]["settings"]["caller_id"] == MAIN  # kept
    assert env.action(campaign["id"], "resume").status_code == 409  # not paused
    for action, status in (("start", "running"), ("pause", "paused"), ("resume", "running"),
                           ("stop", "stopped")):
        answer = env.action(campaign["id"], action)
        assert answer.get_json()["campaign"]["status"] == status
    assert env.action(campaign["id"], "start").status_code == 409


def test_import_is_all_or_nothing_and_reports_each_row(any_db_campaign_env: CampaignEnv):
    env = any_db_campaign_env
    with db.get_engine(env.app).begin() as conn:
        number_lists.add_rule(conn, "restrict", "090-9999-0000", "苦情", now=env.voice.now)
        number_lists.add_rule(conn, "block", "090-8888-0000", "いたずら", now=env.voice.now)
    dnc = env.client().post("/api/campaigns/do-not-call", headers=env.admin,
                            json={"number": "090-7777-0000", "note": "本人希望"})
    assert dnc.status_code == 201
    campaign = env.create()
    data = ("\ufeff電話番号,氏名\n090-1111-2222,A\n090-9999-0000,B\n090-8888-0000,C\n"
            "090-7777-0000,D\n0570-000-111,E\n090-1111-2222,F\nabc,G\n").encode()
    refused = env.upload(campaign["id"], data)
    assert refused.status_code == 422
    details = refused.get_json()["error"]["details"]
    assert [(r["line"], r["code"]) for r in details["rejected"]] == [
        (3, "restricted"), (4, "blocked"), (5, "do_not_call"), (6, "forbidden_navi_dial"),
        (7, "duplicate"), (8, "invalid_characters")]
    assert details["imported"] == 0 and details["valid"] == 1
    assert env.contacts(campaign["id"]) == []  # nothing half-imported
    kept = env.upload(campaign["id"], data, skip_invalid="true")
    assert kept.status_code == 200 and kept.get_json()["imported"] == 1
    assert kept.get_json()["encoding"] == "utf-8-bom"
    again = env.upload(campaign["id"], "090-1111-2222,A\n".encode("cp932"))
    assert again.get_json()["error"]["details"]["rejected"][0]["code"] == "duplicate"


def test_import_mapping_errors_name_the_field(campaign_env: CampaignEnv):
    env = campaign_env
    campaign = env.create()
    answer = env.upload(campaign["id"], "TEL,名前\n09011112222,A\n".encode(),
                        mapping='{"phone": "電話"}')
    assert answer.status_code == 422
    assert answer.get_json()["error"]["details"]["codes"] == {"mapping.phone": "unknown_column"}
    empty = env.client().post(f"/api/campaigns/{campaign['id']}/contacts/import",
                              headers=env.admin)
    assert empty.get_json()["error"]["details"]["codes"] == {"file": "required"}


def test_do_not_call_ends_waiting_contacts_in_every_campaign(campaign_env: CampaignEnv):
    env = campaign_env
    first, second = env.create("一"), env.create("二")
    for campaign in (first, second):
        assert env.upload(campaign["id"], b"09011112222\n09033334444\n").status_code == 200
    answer = env.client().post("/api/campaigns/do-not-call", headers=env.admin,
                               json={"number": "090-1111-2222"})
    assert answer.get_json()["contacts_ended"] == 2
    for campaign in (first, second):
        states = {c["e164"]: (c["state"], c["result"]) for c in env.contacts(campaign["id"])}
        assert states["+819011112222"] == ("done", "do_not_call")
        assert states["+819033334444"] == ("pending", "")
    listed = env.client().get("/api/campaigns/do-not-call", headers=env.admin).get_json()
    assert [n["e164"] for n in listed["numbers"]] == ["+819011112222"]
    bad = env.client().post("/api/campaigns/do-not-call", headers=env.admin, json={"number": "x"})
    assert bad.status_code == 422 and "number" in bad.get_json()["error"]["details"]["fields"]
    assert env.client().delete("/api/campaigns/do-not-call/09011112222",
                               headers=env.admin).status_code == 204


def test_campaign_webhooks_refuse_unsigned_requests(campaign_env: CampaignEnv):
    for path in ("/twilio/campaigns/answer?attempt=1", "/twilio/campaigns/bridged?attempt=1"):
        answer = campaign_env.client().post(path, data={"CallSid": "CA" + "1" * 32})
        assert answer.status_code == 403, path
