"""One active softphone device per agent (SPEC SP-9): refuse, ask, replace; heartbeats."""

import pytest

PC1, PC2 = "browser-pc1-aaaa", "browser-pc2-bbbb"


def register(agent, device_id, **extra):
    return agent.post("/api/agents/me/device", json={"device_id": device_id, **extra})


@pytest.mark.parametrize("policy", ["refuse", "ask", "replace"])
def test_same_browser_may_register_again(make_app, sign_in, policy):
    sato = sign_in(make_app(softphone={"second_device": policy}), "sato")
    assert register(sato, PC1).status_code == 200
    again = register(sato, PC1)  # another tab of the same browser taking over
    assert again.status_code == 200 and again.get_json()["replaced"] is False


def test_refuse_keeps_the_first_device(make_app, sign_in):
    sato = sign_in(make_app(softphone={"second_device": "refuse"}), "sato")
    register(sato, PC1)
    refused = register(sato, PC2, takeover=True)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "device_in_use" and error["details"]["can_take_over"] is False
    assert "別の端末" in error["message"]


def test_ask_lets_the_second_take_over_after_confirming(make_app, sign_in):
    sato = sign_in(make_app(softphone={"second_device": "ask"}), "sato")
    register(sato, PC1)
    asked = register(sato, PC2)
    assert asked.status_code == 409 and asked.get_json()["error"]["details"]["can_take_over"]
    taken = register(sato, PC2, takeover=True)
    assert taken.status_code == 200 and taken.get_json()["replaced"] is True
    old = sato.post("/api/agents/me/device/heartbeat", json={"device_id": PC1})
    assert old.status_code == 409 and old.get_json()["error"]["code"] == "device_replaced"
    new = sato.post("/api/agents/me/device/heartbeat", json={"device_id": PC2})
    assert new.status_code == 200


def test_replace_takes_over_at_once(make_app, sign_in):
    sato = sign_in(make_app(softphone={"second_device": "replace"}), "sato")
    register(sato, PC1)
    assert register(sato, PC2).get_json()["replaced"] is True


def test_silent_device_expires_and_agent_goes_offline(make_app, sign_in, clock):
    app = make_app(softphone={"second_device": "refuse", "device_heartbeat_seconds": 10})
    sato = sign_in(app, "sato")
    tanaka = sign_in(app, "tanaka")
    register(sato, PC1)
    sato.put("/api/agents/me/status", json={"status": "available"})
    clock.advance(seconds=29)
    assert register(sato, PC2).status_code == 409  # still fresh: 3 × 10 s not yet passed
    register(tanaka, PC2)
    clock.advance(seconds=2)
    # Any agent's heartbeat sweeps the vanished browsers.
    assert tanaka.post("/api/agents/me/device/heartbeat",
                       json={"device_id": PC2}).status_code == 200
    assert sato.get("/api/agents/me/status").get_json()["status"] == "offline"
    assert register(sato, "browser-pc3-cccc").status_code == 200


def test_heartbeat_reports_status_changed_by_a_supervisor(app, sign_in):
    sato = sign_in(app, "sato")
    boss = sign_in(app, "boss", role="supervisor")
    register(sato, PC1)
    boss.put(f"/api/agents/{sato.agent.id}/status", json={"status": "away"})
    beat = sato.post("/api/agents/me/device/heartbeat", json={"device_id": PC1}).get_json()
    assert beat["presence"]["status"] == "away"


def test_release_signs_the_agent_off(app, sign_in):
    sato = sign_in(app, "sato")
    register(sato, PC1)
    sato.put("/api/agents/me/status", json={"status": "available"})
    assert sato.delete("/api/agents/me/device", json={"device_id": PC2}).get_json() == {
        "released": False}  # not the active device: nothing happens
    assert sato.get("/api/agents/me/status").get_json()["status"] == "available"
    assert sato.delete("/api/agents/me/device", json={"device_id": PC1}).get_json() == {
        "released": True}
    assert sato.get("/api/agents/me/status").get_json()["status"] == "offline"


def test_device_id_is_checked(app, sign_in):
    sato = sign_in(app, "sato")
    response = register(sato, "bad id!")
    assert response.status_code == 422
    assert "device_id" in response.get_json()["error"]["details"]["fields"]


def test_supervisor_sees_active_devices(app, sign_in):
    sato = sign_in(app, "sato")
    boss = sign_in(app, "boss", role="supervisor")
    register(sato, PC1)
    by_name = {a["username"]: a for a in boss.get("/api/agents").get_json()["agents"]}
    assert by_name["sato"]["device"]["device_id"] == PC1
    assert by_name["boss"]["device"] is None
