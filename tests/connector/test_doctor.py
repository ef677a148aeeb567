"""cti doctor and GET /api/admin/doctor: a verdict for every external link."""

from tests.connector.crm_fixtures import registered_worker
from tests.connector.test_auth import add_agent, bearer, login
from tests.connector.test_integrations_cli import invoke


def test_doctor_reports_every_link(crm_app, fake_crm):
    with registered_worker(crm_app):
        result = invoke(crm_app, "doctor")
    assert result.exit_code == 0, result.output
    assert "OK  workers: 1 worker(s) running" in result.output
    assert "OK  database:" in result.output and "OK  redis:" in result.output
    assert "OK  crm.example: connection: signed in to the Example CRM API" in result.output


def test_doctor_says_what_is_wrong(crm_app, fake_crm):
    fake_crm.token = "rotated"  # the configured token no longer works
    result = invoke(crm_app, "doctor")
    assert result.exit_code == 1
    assert "NG  crm.example: connection: cannot use the Example CRM API" in result.output
    assert "HTTP 401" in result.output


def test_doctor_through_the_admin_api(crm_app, fake_crm):
    add_agent(crm_app, username="root1", role="admin")
    add_agent(crm_app, username="agent1")
    client = crm_app.test_client()
    admin = login(client, username="root1").get_json()["access_token"]
    agent = login(client, username="agent1").get_json()["access_token"]
    assert client.get("/api/admin/doctor", headers=bearer(agent)).status_code == 403
    with registered_worker(crm_app):
        body = client.get("/api/admin/doctor", headers=bearer(admin)).get_json()
    assert body["ok"] is True, body
    names = [v["name"] for v in body["verdicts"]]
    assert names[:2] == ["database", "redis"] and "crm.example: connection" in names
