"""``/healthz`` details (Redis location, schema revision…) only for this machine and admins."""

import pytest

from tests.connector.test_auth import add_agent, bearer, login

DETAIL_KEYS = {"version", "checks", "problems", "twilio"}


def _health(client, address, **headers):
    return client.get("/healthz", environ_base={"REMOTE_ADDR": address}, headers=headers)


@pytest.fixture
def app(make_app, redis_url):
    app = make_app(redis_url=redis_url)
    for role in ("agent", "supervisor", "admin"):
        add_agent(app, username=role, role=role)
    return app


def _token(app, role):
    return login(app.test_client(), username=role).get_json()["access_token"]


def test_local_requests_see_the_details(app):
    for address in ("127.0.0.1", "::1"):
        body = _health(app.test_client(), address).get_json()
        assert DETAIL_KEYS <= set(body) and "redis" in body["checks"]


def test_others_get_the_status_only(app):
    response = _health(app.test_client(), "203.0.113.9")
    assert response.get_json() == {"status": response.get_json()["status"]}
    assert response.get_json()["status"] in ("ok", "degraded")
    assert response.status_code == 200
    assert "redis" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("role", "sees"), [("agent", False), ("supervisor", False),
                                            ("admin", True)])
def test_signed_in_admins_see_the_details_from_anywhere(app, role, sees):
    body = _health(app.test_client(), "203.0.113.9", **bearer(_token(app, role))).get_json()
    assert (DETAIL_KEYS <= set(body)) is sees
    assert "status" in body


def test_a_bad_token_still_gets_the_status(app):
    body = _health(app.test_client(), "203.0.113.9", Authorization="Bearer nonsense").get_json()
    assert set(body) == {"status"}


def test_a_local_proxy_does_not_make_everyone_local(app, make_app, redis_url):
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert set(_health(app.test_client(), "127.0.0.1", **forwarded).get_json()) == {"status"}
    proxied = make_app(redis_url=redis_url, server={"proxy_hops": 1})
    assert set(_health(proxied.test_client(), "127.0.0.1", **forwarded).get_json()) == {
        "status"}
    local = _health(proxied.test_client(), "127.0.0.1", **{"X-Forwarded-For": "127.0.0.1"})
    assert DETAIL_KEYS <= set(local.get_json())
