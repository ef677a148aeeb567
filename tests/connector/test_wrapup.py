"""POST /api/calls/<CallSid>/wrapup — before or after the final status, once in the CRM."""

import pytest
from sqlalchemy import insert, select

from connector import db, phone_index
from connector.schema import calls
from crm_adapters.base import Customer
from tests.connector.crm_fixtures import add_call, run_jobs, sid
from tests.connector.test_auth import add_agent, bearer, login


def agent_token(app, username="agent1", role="agent"):
    agent = add_agent(app, username=username, role=role)
    return agent, login(app.test_client(), username=username).get_json()["access_token"]


def wrapup(app, call_sid, token, language=None, **body):
    headers = {**bearer(token), **({"Accept-Language": language} if language else {})}
    return app.test_client().post(f"/api/calls/{call_sid}/wrapup", json=body, headers=headers)


def test_wrapup_before_the_call_ends_goes_out_with_the_first_write(crm_app, fake_crm, clock):
    agent, token = agent_token(crm_app)
    add_call(crm_app, sid(1), clock=clock, agent_id=agent.id, final=False)
    response = wrapup(crm_app, sid(1), token, disposition="対応完了", notes="見積を送付")
    assert response.status_code == 200
    assert response.get_json()["final"] is False
    run_jobs(crm_app)
    assert fake_crm.logs_for(sid(1)) == []  # nothing is written before the call ends
    with db.get_engine(crm_app).begin() as conn:
        from sqlalchemy import update

        conn.execute(update(calls).where(calls.c.call_sid == sid(1)).values(
            status="completed", finalized_at=clock(), talk_seconds=30, duration_seconds=40))
    with crm_app.app_context():
        from connector import writeback

        writeback.call_finished(sid(1))
    run_jobs(crm_app)
    (log,) = fake_crm.logs_for(sid(1))
    assert log["disposition"] == "対応完了" and log["notes"] == "見積を送付"
    assert log["agent_username"] == "agent1"


def test_wrapup_after_the_call_ended_rewrites_the_same_log(crm_app, fake_crm, clock):
    agent, token = agent_token(crm_app)
    contact = fake_crm.add_contact("山田 太郎", ["03-1234-5678"])
    add_call(crm_app, sid(2), clock=clock, agent_id=agent.id, customer={
        "matches": [{"adapter": "example", "id": contact}], "selected": None})
    with crm_app.app_context():
        from connector import writeback

        writeback.call_finished(sid(2))
    run_jobs(crm_app)
    first = fake_crm.logs_for(sid(2))[0]
    assert first["notes"] == ""
    response = wrapup(crm_app, sid(2), token, notes="折り返し希望",
                      customer={"adapter": "example", "id": contact, "name": "山田 太郎"})
    assert response.get_json()["writeback"] == "queued"
    run_jobs(crm_app)
    (log,) = fake_crm.logs_for(sid(2))
    assert log["id"] == first["id"]  # the same CRM record, updated
    assert log["notes"] == "折り返し希望" and log["customer_record_id"] == contact
    assert fake_crm.writes[sid(2)] == 2
    # The choice is remembered: this record comes first for this number from now on.
    with db.get_engine(crm_app).connect() as conn:
        from crm_adapters.base import Customer

        ordered = phone_index.order(conn, "+81312345678", [
            Customer("example", "OTHER", "別人", updated_at="2030-01-01T00:00:00Z"),
            Customer("example", contact, "山田 太郎")])
    assert ordered[0].record_id == contact


def test_wrapup_on_the_browser_leg_updates_the_parent_call(crm_app, clock):
    agent, token = agent_token(crm_app)
    add_call(crm_app, sid(3), clock=clock, agent_id=agent.id, final=False)
    with db.get_engine(crm_app).begin() as conn:
        conn.execute(insert(calls).values(
            call_sid=sid(4), parent_call_sid=sid(3), direction="inbound", status="in-progress",
            started_at=clock(), created_at=clock(), updated_at=clock()))
    assert wrapup(crm_app, sid(4), token, disposition="折り返し予定").status_code == 200
    with db.get_engine(crm_app).connect() as conn:
        parent = conn.execute(select(calls.c.disposition).where(
            calls.c.call_sid == sid(3))).scalar_one()
    assert parent == "折り返し予定"


def test_wrapup_refusals_name_the_problem(crm_app, clock):
    agent, token = agent_token(crm_app)
    other, other_token = agent_token(crm_app, username="agent2")
    _boss, boss_token = agent_token(crm_app, username="boss", role="supervisor")
    add_call(crm_app, sid(5), clock=clock, agent_id=agent.id)
    assert wrapup(crm_app, "CAnope", token).status_code == 404
    assert wrapup(crm_app, sid(5), other_token, notes="x").status_code == 404  # as reading
    assert wrapup(crm_app, sid(5), boss_token, notes="supervisor note").status_code == 200
    bad = wrapup(crm_app, sid(5), token, disposition="対応完了",
                 customer={"adapter": "nosuch", "id": ""})
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["details"]["fields"]
    assert set(fields) == {"customer.adapter", "customer.id"}
    unknown = wrapup(crm_app, sid(5), token, language="en", outcome="x")
    assert unknown.get_json()["error"]["details"]["fields"] == {"outcome": "unknown field"}
    assert crm_app.test_client().post(f"/api/calls/{sid(5)}/wrapup", json={}).status_code == 401


def test_the_target_of_a_transfer_may_wrap_up(crm_app, clock):
    first, _ = agent_token(crm_app)
    target, target_token = agent_token(crm_app, username="agent3")
    add_call(crm_app, sid(8), clock=clock, agent_id=first.id)
    assert wrapup(crm_app, sid(8), target_token, notes="x").status_code == 404
    with db.get_engine(crm_app).begin() as conn:  # the call was transferred to agent3
        conn.execute(insert(calls).values(
            call_sid=sid(9), parent_call_sid=sid(8), direction="inbound", leg="agent",
            agent_id=target.id, status="completed", started_at=clock(), created_at=clock(),
            updated_at=clock()))
    assert wrapup(crm_app, sid(8), target_token, notes="引き継ぎ後に対応").status_code == 200


def test_too_long_notes_are_refused_with_the_reason_in_both_languages(crm_app, clock):
    agent, token = agent_token(crm_app)
    add_call(crm_app, sid(10), clock=clock, agent_id=agent.id)
    response = wrapup(crm_app, sid(10), token, disposition="対応完了", notes="あ" * 33000)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_fields"
    assert error["message"] == "メモは32000文字以内にしてください（今は33000文字です）。"
    assert error["details"]["message_en"] == (
        "Notes may have at most 32000 characters (these have 33000).")
    assert error["details"]["codes"] == {"notes": "too_long"}
    english = wrapup(crm_app, sid(10), token, "en", notes="あ" * 33000).get_json()["error"]
    assert english["message"].startswith("Notes may have at most 32000 characters")
    with db.get_engine(crm_app).connect() as conn:  # nothing was stored
        assert conn.execute(select(calls.c.notes).where(
            calls.c.call_sid == sid(10))).scalar_one() == ""
    assert wrapup(crm_app, sid(10), token, notes="あ" * 32000).status_code == 200


def test_a_disposition_must_be_one_of_the_configured_results(crm_app, clock):
    agent, token = agent_token(crm_app)
    add_call(crm_app, sid(11), clock=clock, agent_id=agent.id)
    response = wrapup(crm_app, sid(11), token, disposition="勝手な結果", notes="メモ")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["details"]["codes"] == {"disposition": "unknown_disposition"}
    assert error["message"].startswith("結果「勝手な結果」は設定された結果の一覧にありません。")
    assert "対応完了、折り返し予定" in error["message"]
    assert 'The result "勝手な結果" is not one of' in error["details"]["message_en"]
    with db.get_engine(crm_app).connect() as conn:
        row = conn.execute(select(calls.c.disposition, calls.c.notes).where(
            calls.c.call_sid == sid(11))).one()
    assert tuple(row) == ("", "")  # refused as a whole
    assert wrapup(crm_app, sid(11), token, disposition=" その他 ").status_code == 200
    assert wrapup(crm_app, sid(11), token, disposition="").status_code == 200  # clears it


def test_softphone_config_gives_the_notes_limit(crm_app):
    config = crm_app.test_client().get("/softphone/config.json").get_json()
    assert config["notes_max_length"] == 32000


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_the_attached_record_must_be_the_calls_or_one_the_agent_can_see(crm_app, clock, role):
    agent, token = agent_token(crm_app, username=f"u{role}", role=role)
    add_call(crm_app, sid(20), clock=clock, agent_id=agent.id, customer={
        "matches": [{"adapter": "example", "id": "C-MATCHED"}],
        "selected": {"adapter": "example", "id": "C-CLICKED"}})
    with db.get_engine(crm_app).begin() as conn:
        phone_index.upsert_customers(conn, "example", [Customer(
            "example", "C-SYNCED", "鈴木 一郎", phone_numbers=("+81661234567",))], clock())
    for known in ("C-MATCHED", "C-CLICKED", "C-SYNCED"):
        ok = wrapup(crm_app, sid(20), token, customer={"adapter": "example", "id": known})
        assert ok.status_code == 200, ok.get_json()
        assert ok.get_json()["customer"]["id"] == known
    # From the agent's own CRM screen (searched or created there): accepted.
    assert wrapup(crm_app, sid(20), token, customer={"adapter": "example",
                                                      "id": "ON-SCREEN"}).status_code == 200
    with crm_app.app_context():  # the built-in CRM is checked here: a deleted/unknown id fails
        from connector import crm as crm_layer

        adapters = crm_layer.get_layer().adapters
    if "builtin" not in adapters:
        return
    refused = wrapup(crm_app, sid(20), token, language="en", notes="kept?",
                     customer={"adapter": "builtin", "id": "999999"})
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["details"]["codes"] == {"customer.id": "unknown_record"}
    assert "customer.id" in error["message"]
    with db.get_engine(crm_app).connect() as conn:
        row = conn.execute(select(calls).where(calls.c.call_sid == sid(20))).first()
    assert row.notes != "kept?"
