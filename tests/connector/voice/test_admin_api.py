"""Admin API: numbers and their routes, groups, caller IDs, block and restriction lists."""

import io

import pytest

from .conftest import MAIN, NUMBER


@pytest.fixture
def admin(env):
    env.add_agent("boss", role="admin")
    env.add_agent("sato")
    env.add_agent("ito")
    # The admin API's own messages are English so far; ask for English throughout.
    return env.app.test_client(), {**env.login("boss"), "Accept-Language": "en"}


def test_number_lifecycle(admin):
    client, auth = admin
    created = client.post("/api/admin/numbers", headers=auth, json={
        "e164": "050-1234-5678", "label": "サポート", "route": "agent:Sato",
        "fallback": "voicemail", "recording": True})
    assert created.status_code == 201
    number = created.get_json()["number"]
    assert number == {"id": number["id"], "e164": NUMBER, "display": "050-1234-5678",
                      "label": "サポート", "route": "agent:sato", "fallback": "voicemail",
                      "caller_id_name": "", "recording": True, "active": True,
                      "transfer_caller_id": "", "max_channels": 0, "overflow": "none",
                      "ring_popup_url": "", "answer_popup_url": ""}
    again = client.post("/api/admin/numbers", headers=auth, json={"e164": NUMBER})
    assert again.status_code == 409
    changed = client.patch(f"/api/admin/numbers/{number['id']}", headers=auth,
                           json={"route": "external:03-1234-5678", "label": "転送"})
    assert changed.get_json()["number"]["route"] == "external:+81312345678"
    assert changed.get_json()["number"]["fallback"] == "voicemail"  # unchanged
    listed = client.get("/api/admin/numbers", headers=auth).get_json()["numbers"]
    assert [n["e164"] for n in listed] == [NUMBER]
    assert client.delete(f"/api/admin/numbers/{number['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/admin/numbers/{number['id']}", headers=auth).status_code == 404


@pytest.mark.parametrize(("body", "field", "says"), [
    ({"e164": "12345"}, "e164", "too short"),
    ({"e164": NUMBER, "route": "agent:nobody"}, "route", "no agent"),
    ({"e164": NUMBER, "route": "group:nope"}, "route", "no group"),
    ({"e164": NUMBER, "route": "queue:x"}, "route", "unknown route"),
    ({"e164": NUMBER, "route": "agent"}, "route", "needs a target"),
    ({"e164": NUMBER, "fallback": "external:0570-000-111"}, "fallback", "Navi Dial"),
    ({"e164": NUMBER, "route": "external:0120-444-444"}, "route", "free-dial"),
    ({"e164": NUMBER, "transfer_caller_id": "03-9999-9999"}, "transfer_caller_id", "our numbers"),
    ({"e164": NUMBER, "transfer_caller_id": "0399"}, "transfer_caller_id", "too short"),
    ({"e164": NUMBER, "recording": "yes"}, "recording", "true or false"),
])
def test_number_settings_checked_field_by_field(admin, body, field, says):
    client, auth = admin
    response = client.post("/api/admin/numbers", headers=auth, json=body)
    assert response.status_code == 422
    problem = response.get_json()["error"]["details"]["fields"][field]
    assert says.lower() in problem.lower()


def test_admin_role_required(admin, env):
    client, _ = admin
    agent = env.login("sato")
    assert client.get("/api/admin/numbers", headers=agent).status_code == 403
    assert client.get("/api/admin/number-lists/block", headers=agent).status_code == 403
    assert client.get("/api/admin/numbers").status_code == 401


def test_groups_and_members(admin):
    client, auth = admin
    created = client.post("/api/admin/groups", headers=auth, json={
        "name": "support", "display_name": "サポート", "members": ["ito", "SATO"]})
    assert created.status_code == 201
    assert created.get_json()["group"]["members"] == ["ito", "sato"]
    bad = client.post("/api/admin/groups", headers=auth,
                      json={"name": "x y", "members": ["ghost"]})
    assert bad.status_code == 422
    unknown = client.patch("/api/admin/groups/support", headers=auth, json={"members": ["ghost"]})
    assert "ghost" in unknown.get_json()["error"]["details"]["fields"]["members"]
    client.post("/api/admin/numbers", headers=auth, json={"e164": NUMBER,
                                                          "route": "group:support"})
    in_use = client.delete("/api/admin/groups/support", headers=auth)
    assert in_use.status_code == 409 and NUMBER in in_use.get_json()["error"]["message"]
    client.patch("/api/admin/groups/support", headers=auth, json={"members": ["sato"]})
    assert client.get("/api/admin/groups/support", headers=auth).get_json()["group"][
        "members"] == ["sato"]


def test_agent_caller_ids(admin, env):
    client, auth = admin
    for e164 in (MAIN, NUMBER):
        client.post("/api/admin/numbers", headers=auth, json={"e164": e164, "label": e164[-4:]})
    put = client.put("/api/admin/agents/sato/caller-ids", headers=auth,
                     json={"numbers": [MAIN, "050-1234-5678"], "default": "050-1234-5678"})
    assert [(c["e164"], c["default"]) for c in put.get_json()["caller_ids"]] == [
        (NUMBER, True), (MAIN, False)]
    mine = client.get("/api/me/caller-ids", headers=env.login("sato")).get_json()
    assert mine[0]["e164"] == NUMBER
    wrong = client.put("/api/admin/agents/sato/caller-ids", headers=auth,
                       json={"numbers": ["+81611112222"]})
    assert wrong.status_code == 422
    assert client.get("/api/admin/agents/ghost/caller-ids", headers=auth).status_code == 404


def test_number_lists_add_list_delete(admin):
    client, auth = admin
    added = client.post("/api/admin/number-lists/block", headers=auth,
                        json={"pattern": "０９０-１２３４-５６７８", "note": "迷惑電話"})
    assert added.status_code == 201
    rule = added.get_json()["rule"]
    assert (rule["pattern"], rule["kind"], rule["note"]) == ("+819012345678", "exact", "迷惑電話")
    same = client.post("/api/admin/number-lists/block", headers=auth,
                       json={"pattern": "+81 90 1234 5678"})
    assert same.status_code == 200 and same.get_json()["created"] is False
    bad = client.post("/api/admin/number-lists/block", headers=auth, json={"pattern": "12*"})
    assert bad.status_code == 422 and bad.get_json()["error"]["details"]["code"] == "invalid_prefix"
    listed = client.get("/api/admin/number-lists/block", headers=auth).get_json()
    assert listed["label"] == "着信拒否" and len(listed["rules"]) == 1
    assert client.get("/api/admin/number-lists/restrict", headers=auth).get_json()["rules"] == []
    assert client.get("/api/admin/number-lists/other", headers=auth).status_code == 404
    gone = client.delete(f"/api/admin/number-lists/block/{rule['id']}", headers=auth)
    assert gone.status_code == 204
    assert client.delete(f"/api/admin/number-lists/block/{rule['id']}",
                         headers=auth).status_code == 404


def test_csv_import_reports_bad_rows_and_keeps_the_good_ones(admin):
    client, auth = admin
    client.post("/api/admin/number-lists/restrict", headers=auth, json={"pattern": "0570*"})
    csv_text = ("電話番号,備考\n0570*,ナビダイヤル\n090-1111-2222,取引停止\nabc,壊れた行\n"
                "0120*,フリーダイヤル\n090-1111-2222,重複\n")
    data = {"file": (io.BytesIO(csv_text.encode("cp932")), "list.csv")}
    response = client.post("/api/admin/number-lists/restrict/import", headers=auth, data=data,
                           content_type="multipart/form-data")
    report = response.get_json()
    assert response.status_code == 200
    assert (report["added"], report["existing"]) == (2, 1)
    assert [(e["row"], e["code"]) for e in report["errors"]] == [
        (4, "invalid_characters"), (6, "duplicate")]
    assert report["errors"][0]["message_ja"].startswith("4行目")
    rules = client.get("/api/admin/number-lists/restrict", headers=auth).get_json()["rules"]
    assert [r["pattern"] for r in rules] == ["+81570*", "+819011112222", "+81120*"]
    raw = client.post("/api/admin/number-lists/block/import", headers=auth,
                      data=b"03-1234-5678\n", content_type="text/csv")
    assert raw.get_json()["added"] == 1
    empty = client.post("/api/admin/number-lists/block/import", headers=auth)
    assert empty.status_code == 400


def test_list_changes_reach_the_webhook_cache_at_once(env, admin):
    """A process caches compiled lists; a change elsewhere is seen on the next call."""
    from connector import db
    from connector.voice import get_runtime

    client, auth = admin
    cache = get_runtime(env.app).cache
    with db.get_engine(env.app).connect() as conn:
        first = cache.refresh(conn)
        assert first.block.match("+819012345678") is None
        assert cache.refresh(conn) is first  # no reload without a change
    client.post("/api/admin/number-lists/block", headers=auth, json={"pattern": "090*"})
    client.post("/api/admin/numbers", headers=auth, json={"e164": NUMBER, "route": "voicemail"})
    with db.get_engine(env.app).connect() as conn:
        second = cache.refresh(conn)
        assert second.block.match("+819012345678").pattern == "+8190*"
        assert second.routing.numbers[NUMBER].route.type == "voicemail"
        assert second.restrict is first.restrict  # unchanged pieces are kept
