"""Agent statuses over the API (SPEC SP-6): own status, supervisors, stop statuses."""

import pytest


def test_own_status_starts_offline_and_changes(app, sign_in, clock):
    sato = sign_in(app, "sato")
    assert sato.get("/api/agents/me/status").get_json()["status"] == "offline"
    changed = sato.put("/api/agents/me/status", json={"status": "available"})
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["status"], body["label"], body["label_en"]) == ("available", "待機", "Available")
    assert body["since"] == clock().isoformat() and body["updated_by"] == sato.agent.id
    assert sato.get("/api/agents/me/status").get_json()["status"] == "available"


def test_unknown_status_is_named(app, sign_in):
    sato = sign_in(app, "sato")
    response = sato.put("/api/agents/me/status", json={"status": "lunch"})
    assert response.status_code == 422
    assert "unknown status 'lunch'" in response.get_json()["error"]["details"]["fields"]["status"]


def test_pause_with_an_admin_defined_stop_status(app, sign_in):
    admin = sign_in(app, "boss", role="admin")
    sato = sign_in(app, "sato")
    created = admin.post("/api/stop-statuses", json={"name": "昼休憩", "icon": "🍱",
                                                     "color": "#FF9800"})
    assert created.status_code == 201
    stop_id = created.get_json()["id"]
    paused = sato.put("/api/agents/me/status", json={"status": "paused",
                                                     "stop_status_id": stop_id})
    body = paused.get_json()
    assert body["status"] == "paused" and body["label"] == "昼休憩"
    assert body["stop_status"] == {"id": stop_id, "name": "昼休憩", "icon": "🍱",
                                   "color": "#FF9800"}
    wrong = sato.put("/api/agents/me/status", json={"status": "away", "stop_status_id": stop_id})
    assert wrong.status_code == 422
    assert "stop_status_id" in wrong.get_json()["error"]["details"]["fields"]


def test_retired_stop_status_can_no_longer_be_chosen(app, sign_in):
    admin = sign_in(app, "boss", role="admin")
    sato = sign_in(app, "sato")
    stop_id = admin.post("/api/stop-statuses", json={"name": "研修"}).get_json()["id"]
    assert admin.delete(f"/api/stop-statuses/{stop_id}").status_code == 204
    assert sato.get("/api/stop-statuses").get_json()["stop_statuses"] == []
    everything = admin.get("/api/stop-statuses?all=1").get_json()["stop_statuses"]
    assert [(s["name"], s["active"]) for s in everything] == [("研修", False)]
    refused = sato.put("/api/agents/me/status", json={"status": "paused",
                                                      "stop_status_id": stop_id})
    assert refused.status_code == 422


def test_stop_status_crud_is_for_admins_and_validated(app, sign_in):
    admin = sign_in(app, "boss", role="admin")
    sato = sign_in(app, "sato")
    assert sato.post("/api/stop-statuses", json={"name": "x"}).status_code == 403
    bad = admin.post("/api/stop-statuses", json={"name": " ", "color": "red"})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["details"]["fields"]) == {"name", "color"}
    first = admin.post("/api/stop-statuses", json={"name": "会議", "sort_order": 2}).get_json()
    admin.post("/api/stop-statuses", json={"name": "昼休憩", "sort_order": 1})
    assert admin.post("/api/stop-statuses", json={"name": "会議"}).status_code == 409
    renamed = admin.patch(f"/api/stop-statuses/{first['id']}", json={"name": "打合せ"})
    assert renamed.get_json()["name"] == "打合せ"
    names = [s["name"] for s in sato.get("/api/stop-statuses").get_json()["stop_statuses"]]
    assert names == ["昼休憩", "打合せ"]  # by sort order
    assert admin.patch("/api/stop-statuses/999", json={"name": "x"}).status_code == 404


def test_supervisor_sees_and_changes_everyone(app, sign_in):
    boss = sign_in(app, "boss", role="supervisor", display_name="鈴木 課長")
    sato = sign_in(app, "sato")
    sato.put("/api/agents/me/status", json={"status": "available"})
    listed = boss.get("/api/agents").get_json()["agents"]
    by_name = {a["username"]: a for a in listed}
    assert by_name["sato"]["presence"]["status"] == "available"
    assert by_name["boss"]["presence"]["status"] == "offline"
    assert "password_hash" not in by_name["sato"]
    changed = boss.put(f"/api/agents/{sato.agent.id}/status", json={"status": "away"})
    assert changed.get_json()["status"] == "away"
    assert changed.get_json()["updated_by"] == boss.agent.id
    assert sato.get("/api/agents/me/status").get_json()["status"] == "away"
    assert boss.put("/api/agents/999/status", json={"status": "away"}).status_code == 404


@pytest.mark.parametrize("path,method", [("/api/agents", "get"),
                                         ("/api/agents/1/status", "put")])
def test_agents_cannot_use_supervisor_routes(app, sign_in, path, method):
    sato = sign_in(app, "sato")
    response = getattr(sato, method)(path, json={"status": "away"})
    assert response.status_code == 403
