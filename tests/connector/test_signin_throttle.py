"""The sign-in throttle in one process: windows, Retry-After, every way in, Redis down."""

import pytest

from connector.auth.throttle import Attempt, SignInThrottle, Throttled
from connector.config import AuthSettings, ThrottleSettings
from tests.connector.test_auth import PASSWORD, add_agent, login

pytestmark = pytest.mark.redis


def _throttle(redis_client, **throttle):
    policy = AuthSettings(max_failed_attempts=3, throttle=ThrottleSettings(**throttle))
    return SignInThrottle(redis_client, policy, prefix="cti:test-throttle")


def test_windows_grow_and_success_clears(redis_client):
    throttle = _throttle(redis_client, per_account_address="2/minute;3/hour")
    attempt = Attempt("password", "agent1", "192.0.2.1")
    throttle.before(attempt)
    throttle.before(attempt)
    with pytest.raises(Throttled) as first:
        throttle.before(attempt)
    assert first.value.scope == "account_address" and 1 <= first.value.retry_after <= 60
    throttle.succeeded(attempt)
    throttle.before(attempt)  # cleared: tries again at once
    other = Attempt("password", "agent1", "192.0.2.2")
    throttle.before(other)  # another address has its own windows
    throttle.before(other)
    with pytest.raises(Throttled):
        throttle.before(other)


def test_per_address_counts_failures_over_all_accounts(redis_client):
    throttle = _throttle(redis_client, per_address="3/minute", per_account_address="50/minute")
    for name in ("a1", "a2", "a3"):
        attempt = Attempt("password", name, "192.0.2.7")
        throttle.before(attempt)
        throttle.failed(attempt)
    with pytest.raises(Throttled) as refused:
        throttle.before(Attempt("password", "a4", "192.0.2.7"))
    assert refused.value.scope == "address"
    throttle.before(Attempt("password", "a4", "192.0.2.8"))


def test_lock_needs_two_addresses(redis_client):
    throttle = _throttle(redis_client, per_account_address="50/minute")
    alone = [throttle.failed(Attempt("password", "agent1", "192.0.2.1"), lockable=True)
             for _ in range(10)]
    assert not any(alone)
    assert throttle.failed(Attempt("password", "agent1", "192.0.2.2"), lockable=True)
    assert not throttle.failed(Attempt("password", "agent9", "192.0.2.3"), lockable=False)


def test_login_429_names_the_wait(make_app, redis_url):
    app = make_app(redis_url=redis_url, auth={"throttle": {"per_account_address": "2/minute"}})
    add_agent(app)
    client = app.test_client()
    for _ in range(2):
        assert login(client, password="Wrong-password-1").status_code == 401
    refused = login(client)
    assert refused.status_code == 429
    body = refused.get_json()["error"]
    assert body["code"] == "too_many_attempts"
    assert int(refused.headers["Retry-After"]) == body["details"]["retry_after"] >= 1
    assert str(body["details"]["retry_after"]) in body["details"]["message_en"]


def test_salesforce_callback_is_throttled(make_app, redis_url):
    app = make_app(redis_url=redis_url, auth={"throttle": {"per_address": "3/minute"}})
    client = app.test_client()
    statuses = [client.get("/auth/salesforce/callback?state=forged&code=x").status_code
                for _ in range(4)]
    assert statuses[:3] != [429] * 3 and statuses[3] == 429


def test_redis_down_refuses_sign_in_with_503(make_app):
    app = make_app(redis_url="redis://127.0.0.1:1/0")
    add_agent(app)
    response = login(app.test_client(), password=PASSWORD)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "signin_unavailable"
