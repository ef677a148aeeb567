"""JWT bearer login: the assertion, the audience, token reuse, re-login, and token errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from crm_adapters.errors import AdapterAuthError, AdapterConfigError
from crm_adapters.salesforce import SalesforceAdapter, SalesforceSettings
from crm_adapters.salesforce.auth import jwt_audience
from crm_adapters.settings import Secret
from tests.fakes.salesforce import FakeSalesforce

from .conftest import AUDIENCE, ORG_HOST, ORG_URL, KeyPair, make_key_pair

Build = Callable[..., SalesforceAdapter]


def test_assertion_claims_and_signature(adapter: SalesforceAdapter, key_pair: KeyPair,
                                        sf: FakeSalesforce) -> None:
    sent_before = time.time()
    adapter.lookup_by_phone("+81312345678")
    (token,) = sf.assertions
    public_key = x509.load_pem_x509_certificate(key_pair.certificate_pem).public_key()
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience=AUDIENCE)
    assert {k: claims[k] for k in ("iss", "sub", "aud")} == {
        "iss": sf.consumer_key, "sub": "integration@example.com", "aud": AUDIENCE}
    # simple-salesforce: three minutes ahead, as a numeric string.
    assert sent_before + 170 <= float(claims["exp"]) <= time.time() + 190
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_login_goes_to_the_login_host_and_data_to_the_instance(adapter: SalesforceAdapter,
                                                               sf: FakeSalesforce) -> None:
    asked: list[str] = []
    adapter.http.hooks["response"].append(
        lambda r, *a, **k: asked.append(r.request.headers["X-Forwarded-Host"]))
    adapter.lookup_by_phone("+81312345678")
    assert asked == [ORG_HOST, ORG_HOST]  # token, then search
    session = adapter.auth.cached
    assert session is not None and session.instance_url == ORG_URL


@pytest.mark.parametrize(("login_url", "audience"), [
    ("https://login.salesforce.com", "https://login.salesforce.com"),
    ("https://test.salesforce.com", "https://test.salesforce.com"),
    ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
    ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
])
def test_audience_follows_the_login_url(login_url: str, audience: str) -> None:
    settings = SalesforceSettings(login_url=login_url, consumer_key="k", username="u",
                                  private_key=Secret("-----BEGIN PRIVATE KEY-----"))
    assert jwt_audience(settings) == audience


def test_explicit_audience_wins() -> None:
    settings = SalesforceSettings(login_url="https://acme.my.salesforce.com", consumer_key="k",
                                  username="u", jwt_audience="https://test.salesforce.com/",
                                  private_key=Secret("-----BEGIN PRIVATE KEY-----"))
    assert jwt_audience(settings) == "https://test.salesforce.com"


def test_token_is_reused_across_calls(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    sf.add_customer("山田 太郎", "03-1234-5678")
    for _ in range(3):
        assert adapter.lookup_by_phone("+81312345678")
    assert sf.token_requests == 1


def test_expired_session_logs_in_again_once(adapter: SalesforceAdapter,
                                            sf: FakeSalesforce) -> None:
    record_id = sf.add_customer("山田 太郎", "03-1234-5678")
    adapter.lookup_by_phone("+81312345678")
    sf.expire_tokens()
    assert [c.record_id for c in adapter.lookup_by_phone("+81312345678")] == [record_id]
    assert sf.token_requests == 2
    assert sf.count("GET", "search") == 2  # the refused request is not counted by the org


def test_second_refusal_is_an_auth_error(adapter: SalesforceAdapter, sf: FakeSalesforce) -> None:
    sf.fail_next("401", times=2)
    with pytest.raises(AdapterAuthError, match="401"):
        adapter.lookup_by_phone("+81312345678")
    assert sf.token_requests == 2


@pytest.mark.parametrize(("error", "description", "error_class", "advice"), [
    ("invalid_client_id", "client identifier invalid", AdapterConfigError, "consumer_key"),
    ("invalid_grant", "user hasn't approved this consumer", AdapterConfigError,
     "pre-authorised"),
    ("invalid_grant", "audience is invalid", AdapterConfigError, "jwt_audience"),
    ("invalid_grant", "invalid assertion", AdapterConfigError, "private_key must match"),
    ("invalid_grant", "inactive user", AdapterAuthError, "reactivate"),
    ("invalid_grant", "something new", AdapterAuthError, "refused the login"),
])
def test_token_errors_say_what_to_fix(adapter: SalesforceAdapter, sf: FakeSalesforce,
                                      error: str, description: str, error_class: type,
                                      advice: str) -> None:
    sf.fail_token(error, description)
    with pytest.raises(error_class) as caught:
        adapter.lookup_by_phone("+81312345678")
    assert advice in str(caught.value) and description in str(caught.value)


def test_fake_checks_the_real_claims(make_adapter: Build, sf: FakeSalesforce) -> None:
    with pytest.raises(AdapterConfigError, match="consumer_key"):
        make_adapter(consumer_key="3MVGwrong").lookup_by_phone("+81312345678")
    with pytest.raises(AdapterConfigError, match="pre-authorised"):
        make_adapter(username="someone@example.com").lookup_by_phone("+81312345678")
    with pytest.raises(AdapterConfigError, match="audience"):
        make_adapter(jwt_audience="https://test.salesforce.com").lookup_by_phone("+81312345678")
    with pytest.raises(AdapterConfigError, match="private_key must match"):
        make_adapter(private_key=make_key_pair().private_pem).lookup_by_phone("+81312345678")


def test_unusable_private_key_is_a_config_error(make_adapter: Build) -> None:
    broken = "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----"
    with pytest.raises(AdapterConfigError, match="private_key: cannot sign") as caught:
        make_adapter(private_key=broken).lookup_by_phone("+81312345678")
    assert "not base64" not in str(caught.value)


@pytest.mark.parametrize(("key", "says"), [
    (ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode(), "must be an RSA key"),
    (rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")).decode(), "unencrypted RSA"),
])
def test_key_that_cannot_sign_rs256_is_refused_before_login(make_adapter: Build,
                                                            sf: FakeSalesforce, key: str,
                                                            says: str) -> None:
    with pytest.raises(AdapterConfigError, match=says):
        make_adapter(private_key=key).lookup_by_phone("+81312345678")
    assert sf.token_requests == 0


def test_access_token_never_logged(adapter: SalesforceAdapter, sf: FakeSalesforce,
                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sf.add_customer("山田 太郎", "03-1234-5678")
    adapter.lookup_by_phone("+81312345678")
    sf.expire_tokens()
    adapter.lookup_by_phone("+81312345678")
    session = adapter.auth.cached
    assert session is not None and session.access_token not in caplog.text
    assert session.access_token not in repr(session)
    # Our own log lines mask the number and leave the SOSL query out. (urllib3's DEBUG lines
    # show request URLs; the connector keeps that logger at INFO.)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("cti.")]
    assert any("+8131234****" in line for line in ours)
    assert not any("5678" in line for line in ours)
