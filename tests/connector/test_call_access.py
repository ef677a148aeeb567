"""One rule for who sees a call (issue 17): the calls API, wrap-up and the built-in CRM's
per-customer history agree for every role — agents their own calls (answered, made, or that
rang them), supervisors and admins every call."""

import pytest
from sqlalchemy import insert

from connector import db
from connector.builtin_crm import store
from connector.builtin_crm.model import parse_customer
from connector.schema import calls, customer_call_logs
from tests.connector.crm_fixtures import add_call, sid
from tests.connector.test_auth import add_agent, bearer, login

ROLES = {"alice": "agent", "bob": "agent", "sue": "supervisor", "ada": "admin"}


@pytest.fixture
def world(any_db_app, clock):
    app = any_db_app
    ids = {name: add_agent(app, username=name, role=role).id for name, role in ROLES.items()}
    with db.get_engine(app).begin() as conn:
        customer = store.create_customer(conn, parse_customer(
            {"name": "山田 太郎", "phones": ["03-1234-5678"]}), clock())
    add_call(app, sid(1), clock=clock, agent_id=ids["alice"])  # alice answered
    add_call(app, sid(2), clock=clock, agent_id=ids["bob"])  # bob answered
    add_call(app, sid(3), clock=clock, agent_id=None)  # missed: voicemail
    add_call(app, sid(4), clock=clock, agent_id=ids["bob"])  # rang alice too (a leg)
    now = clock()
    with db.get_engine(app).begin() as conn:
        conn.execute(insert(calls).values(
            call_sid=sid(40), parent_call_sid=sid(4), direction="inbound", leg="agent",
            agent_id=ids["alice"], status="no-answer", started_at=now, created_at=now,
            updated_at=now))
        for n in (1, 2, 3, 4):
            conn.execute(insert(customer_call_logs).values(
                call_sid=sid(n), customer_id=customer, direction="inbound", status="completed",
                from_number="+81312345678", to_number="+815012345678",
                customer_number="+81312345678", started_at=now, duration_seconds=60,
                talk_seconds=30, agent_username="", agent_name="", disposition="",
                notes=f"note {n}", recording_url="", created_at=now, updated_at=now))
    tokens = {name: login(app.test_client(), username=name).get_json()["access_token"]
              for name in ROLES}
    return app, customer, tokens


EXPECTED = {"alice": {1, 4}, "bob": {2, 4}, "sue": {1, 2, 3, 4}, "ada": {1, 2, 3, 4}}


@pytest.mark.parametrize("name", list(ROLES))
def test_calls_api_history_and_wrapup_follow_one_rule(world, name):
    app, customer, tokens = world
    client, headers = app.test_client(), bearer(tokens[name])
    expected = {sid(n) for n in EXPECTED[name]}

    listed = {c["call_sid"] for c in client.get("/api/calls", headers=headers).get_json()[
        "calls"]}
    readable = {sid(n) for n in (1, 2, 3, 4)
                if client.get(f"/api/calls/{sid(n)}", headers=headers).status_code == 200}
    history = client.get(f"/api/crm/customers/{customer}/calls", headers=headers).get_json()
    in_history = {c["call_sid"] for c in history["calls"]}
    wrapped = set()
    for n in (1, 2, 3, 4):
        response = client.post(f"/api/calls/{sid(n)}/wrapup", json={"notes": f"by {name}"},
                               headers=headers)
        assert response.status_code in (200, 404), response.get_json()
        if response.status_code == 200:
            wrapped.add(sid(n))

    assert listed == readable == in_history == wrapped == expected
    assert history["total"] == len(expected)


def test_an_agent_cannot_change_a_missed_call(world):
    app, _customer, tokens = world
    client = app.test_client()
    refused = client.post(f"/api/calls/{sid(3)}/wrapup", headers=bearer(tokens["alice"]),
                          json={"notes": "overwritten", "disposition": "対応完了"})
    assert refused.status_code == 404
    assert refused.get_json()["error"]["code"] == "unknown_call"  # as for no call at all
    with db.get_engine(app).connect() as conn:
        row = conn.execute(calls.select().where(calls.c.call_sid == sid(3))).first()
    assert row.notes != "overwritten" and row.disposition != "対応完了"
