"""Sign in with Salesforce: the server flow end to end against the fake org, over real HTTP.

A ``requests.Session`` plays the popup window: it follows the redirects app → Salesforce → app
and keeps the popup's cookie, like a browser.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
import responses
from sqlalchemy import func, select, update

from connector import db, doctor
from connector.auth.salesforce_oauth import SalesforceSignInClient, SignInError
from connector.config import ConfigError, SalesforceSignInSettings, settings_from_mapping
from connector.schema import agents, auth_sessions
from tests.connector.salesforce_signin_fixtures import (  # noqa: F401  (fixtures)
    CALLBACK_PATH,
    make_site,
    org,
    posted_message,
    signin_key_pair,
    target_origin,
)

START_PATH = "/auth/salesforce/start"
SF_USER = "taro.yamada@acme.example"


def sign_in(site, browser: requests.Session | None = None) -> requests.Response:
    """Open the popup and follow it to the end."""
    browser = browser or requests.Session()
    return browser.get(site.url + START_PATH, timeout=10)


def session_count(site) -> int:
    with db.get_engine(site.app).connect() as conn:
        return conn.execute(select(func.count()).select_from(auth_sessions)).scalar_one()


@pytest.fixture
def site(make_site, org):  # noqa: F811
    site = make_site()
    site.add_agent("agent1", crm_user=SF_USER, email="agent1@acme.example")
    org.sign_in_browser(org.add_user(SF_USER, "taro@acme.example"))
    return site


def test_agent_signed_into_salesforce_gets_tokens_in_one_pass(site, org):  # noqa: F811
    page = sign_in(site)

    assert page.status_code == 200
    assert urlsplit(page.url).path == CALLBACK_PATH
    message = posted_message(page.text)
    assert message["type"] == "cti:signin" and message["ok"] is True
    tokens = message["session"]
    assert tokens["agent"]["username"] == "agent1"
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "agent"}
    assert target_origin(page.text) == site.url  # the softphone's origin, never "*"
    me = requests.get(site.url + "/api/auth/me", timeout=5,
                      headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["agent"]["username"] == "agent1"
    refreshed = requests.post(site.url + "/api/auth/refresh", timeout=5,
                              json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200


def test_authorize_request_carries_state_and_s256_challenge(site, org):  # noqa: F811
    start = requests.get(site.url + START_PATH, allow_redirects=False, timeout=5)

    assert start.status_code == 302
    location = urlsplit(start.headers["Location"])
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        org.url + "/services/oauth2/authorize")
    assert params["response_type"] == "code" and params["client_id"] == org.consumer_key
    assert params["redirect_uri"] == site.url + CALLBACK_PATH
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 32 and params["scope"] == "id"
    assert params["display"] == "popup"
    cookie = start.cookies.get("cti_sf_signin")
    assert cookie and "HttpOnly" in start.headers["Set-Cookie"]
    assert "SameSite=Lax" in start.headers["Set-Cookie"]
    assert cookie not in start.headers["Location"]  # the binding never goes to Salesforce


def test_replayed_callback_is_refused(site, org):  # noqa: F811
    browser = requests.Session()
    page = sign_in(site, browser)
    callback_url = page.url
    assert posted_message(page.text)["ok"] is True
    sessions = session_count(site)

    replay = browser.get(callback_url, timeout=5)

    assert replay.status_code == 400
    assert posted_message(replay.text)["error"]["code"] == "expired"
    assert session_count(site) == sessions


def test_code_issued_for_another_challenge_is_refused(site, org):  # noqa: F811
    """PKCE: a code bound to someone else's challenge cannot be redeemed with our verifier."""
    browser = requests.Session()
    start = browser.get(site.url + START_PATH, allow_redirects=False, timeout=5)
    parts = urlsplit(start.headers["Location"])
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    params["code_challenge"] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 App. B
    intercepted = urlunsplit(parts._replace(query=urlencode(params)))

    page = browser.get(intercepted, timeout=10)

    assert page.status_code == 400
    assert posted_message(page.text)["error"]["code"] == "code_refused"
    assert session_count(site) == 0


def test_callback_in_another_browser_is_refused(site, org):  # noqa: F811
    started = requests.Session()
    start = started.get(site.url + START_PATH, allow_redirects=False, timeout=5)
    to_callback = started.get(start.headers["Location"], allow_redirects=False, timeout=5)
    assert urlsplit(to_callback.headers["Location"]).path == CALLBACK_PATH

    elsewhere = requests.get(to_callback.headers["Location"], timeout=5)

    assert elsewhere.status_code == 400
    assert posted_message(elsewhere.text)["error"]["code"] == "other_browser"
    assert session_count(site) == 0


def test_unmapped_salesforce_user_is_refused(site, org):  # noqa: F811
    org.sign_in_browser(org.add_user("hanako@acme.example", "hanako@acme.example"))

    page = sign_in(site)

    assert page.status_code == 403
    error = posted_message(page.text)["error"]
    assert error["code"] == "not_mapped"
    assert "hanako@acme.example" in error["message"]
    assert "hanako@acme.example" in page.text  # shown to the agent, not only posted
    assert session_count(site) == 0


def test_disabled_agent_is_refused(site, org):  # noqa: F811
    with db.get_engine(site.app).begin() as conn:
        conn.execute(update(agents).values(active=False))

    page = sign_in(site)

    assert page.status_code == 403
    assert posted_message(page.text)["error"]["code"] == "agent_disabled"
    assert session_count(site) == 0


def test_user_of_another_org_is_refused(make_site, org):  # noqa: F811
    site = make_site(org_id="00D000000000099AAA")
    site.add_agent("agent1", crm_user=SF_USER)
    org.sign_in_browser(org.add_user(SF_USER))

    page = sign_in(site)

    assert page.status_code == 403
    assert posted_message(page.text)["error"]["code"] == "other_org"


def test_two_agents_mapped_to_one_user_is_refused(site, org):  # noqa: F811
    site.add_agent("agent2", crm_user=SF_USER.upper())  # case does not tell them apart

    page = sign_in(site)

    assert page.status_code == 409
    assert posted_message(page.text)["error"]["code"] == "ambiguous"


def test_email_match_uses_the_agents_email_and_needs_it_verified(make_site, org):  # noqa: F811
    site = make_site(sections={"crm": {"adapters": ["salesforce"], "salesforce": {
        "logging_path": "browser", "agent_match": "email"}}})
    site.add_agent("agent3", email="Jiro@Acme.example")  # no mapping: the e-mail is the user
    user = org.add_user("jiro.sf@acme.example", "jiro@acme.example")
    org.sign_in_browser(user)

    assert posted_message(sign_in(site).text)["session"]["agent"]["username"] == "agent3"

    org.records["User"][user]["EmailVerified"] = False
    page = sign_in(site)
    assert posted_message(page.text)["error"]["code"] == "email_unverified"


def test_consumer_secret_is_sent_when_configured(make_site, org):  # noqa: F811
    org.client_secret = "correct-horse-battery-staple"
    site = make_site(consumer_secret="correct-horse-battery-staple")
    site.add_agent("agent1", crm_user=SF_USER)
    org.sign_in_browser(org.add_user(SF_USER))
    assert posted_message(sign_in(site).text)["ok"] is True

    wrong = make_site(consumer_secret="wrong-secret")  # same database, same agent
    assert posted_message(sign_in(wrong).text)["error"]["code"] == "code_refused"


def test_salesforce_error_redirect_is_shown(site, org):  # noqa: F811
    browser = requests.Session()
    start = browser.get(site.url + START_PATH, allow_redirects=False, timeout=5)
    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]

    page = browser.get(site.url + CALLBACK_PATH, timeout=5, params={
        "error": "access_denied", "error_description": "end-user denied authorization",
        "state": state})

    assert page.status_code == 400
    error = posted_message(page.text)["error"]
    assert error["code"] == "salesforce_denied"
    assert "end-user denied authorization" in error["message"]


def test_nobody_signed_into_salesforce_sees_its_login_page(site, org):  # noqa: F811
    org.sign_in_browser(None)

    page = sign_in(site)

    assert "Login | Salesforce" in page.text
    assert urlsplit(page.url).path == "/services/oauth2/authorize"


def test_disabled_feature_answers_a_clear_page(make_app):
    client = make_app().test_client()

    for path in (START_PATH, CALLBACK_PATH + "?state=x&code=y"):
        page = client.get(path)
        assert page.status_code == 404
        assert posted_message(page.get_data(as_text=True))["error"]["code"] == "not_enabled"


def test_pages_allow_only_their_own_nonce_script(site, org):  # noqa: F811
    page = sign_in(site)

    csp = page.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'nonce-" in script_src
    nonce = script_src.split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_no_token_or_secret_is_logged(make_site, org, caplog):  # noqa: F811
    org.client_secret = "correct-horse-battery-staple"
    site = make_site(consumer_secret="correct-horse-battery-staple")
    site.add_agent("agent1", crm_user=SF_USER)
    org.sign_in_browser(org.add_user(SF_USER))
    caplog.set_level(logging.DEBUG)

    tokens = posted_message(sign_in(site).text)["session"]
    org.sign_in_browser(org.add_user("nobody@acme.example"))
    assert posted_message(sign_in(site).text)["ok"] is False  # the warning path too

    hidden = [tokens["access_token"], tokens["refresh_token"], "correct-horse-battery-staple",
              *org._user_tokens, *(e["code_verifier"] for e in org.code_exchanges)]
    assert len(hidden) == 7
    logged = caplog.text
    assert "signed in with Salesforce" in logged and "not_mapped" in logged
    for value in hidden:
        assert value not in logged


def pickup_pair() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, hashlib.sha256(secret.encode()).hexdigest()


def test_outcome_can_be_picked_up_once_by_the_secret_holder(site, org):  # noqa: F811
    """For a popup that lost window.opener: the softphone collects the outcome itself."""
    secret, digest = pickup_pair()
    result_url = site.url + "/auth/salesforce/result"
    assert requests.post(result_url, json={"pickup": secret}, timeout=5).status_code == 202

    page = requests.get(site.url + START_PATH, params={"pickup": digest}, timeout=10)

    assert requests.post(result_url, json={"pickup": digest}, timeout=5).status_code == 202
    picked = requests.post(result_url, json={"pickup": secret}, timeout=5)
    assert picked.status_code == 200 and picked.headers["Cache-Control"] == "no-store"
    assert picked.json() == posted_message(page.text)
    assert picked.json()["session"]["agent"]["username"] == "agent1"
    assert requests.post(result_url, json={"pickup": secret}, timeout=5).status_code == 202
    assert digest not in page.text and secret not in page.url


def test_refusal_can_be_picked_up_too(site, org):  # noqa: F811
    org.sign_in_browser(org.add_user("hanako@acme.example"))
    secret, digest = pickup_pair()

    requests.get(site.url + START_PATH, params={"pickup": digest}, timeout=10)

    picked = requests.post(site.url + "/auth/salesforce/result", json={"pickup": secret},
                           timeout=5)
    assert picked.json()["ok"] is False and picked.json()["error"]["code"] == "not_mapped"


def test_doctor_names_the_callback_url_and_wants_https(make_app):
    table = {"enabled": True, "consumer_key": "k", "org_id": "00D000000000042"}
    plain = make_app(server={"public_base_url": "http://cti.internal:8000"},
                     auth={"salesforce": table})
    secure = make_app(auth={"salesforce": table})

    bad = next(v for v in doctor.run(plain) if v.name == "auth.salesforce")
    good = next(v for v in doctor.run(secure) if v.name == "auth.salesforce")

    assert not bad.ok and "not https" in bad.message
    assert good.ok and "https://cti.example.com/auth/salesforce/callback" in good.message
    assert not [v for v in doctor.run(make_app()) if v.name == "auth.salesforce"]


# -- the client on its own ---------------------------------------------------------------------

def client_for(login_url: str = "https://acme.my.salesforce.com") -> SalesforceSignInClient:
    settings = SalesforceSignInSettings(enabled=True, login_url=login_url,
                                        consumer_key="3MVG9key", org_id="00D000000000042")
    return SalesforceSignInClient(settings, "https://cti.example.com/auth/salesforce/callback")


@responses.activate
@pytest.mark.parametrize("identity_url", [
    "https://evil.example.com/id/00D000000000042EAA/005000000000001AAA",
    "https://acme.my.salesforce.com.evil.example/id/00D000000000042EAA/005000000000001AAA",
    "http://login.salesforce.com/id/00D000000000042EAA/005000000000001AAA",
    "https://login.salesforce.com/services/data/v62.0/sobjects/User",
    None,
])
def test_token_is_never_sent_to_an_unexpected_identity_url(identity_url):
    body = {"access_token": "00Dx!secret", "token_type": "Bearer", "id": identity_url}
    responses.post("https://acme.my.salesforce.com/services/oauth2/token", json=body)

    with pytest.raises(SignInError) as excinfo:
        client_for().identify("code", "v" * 64)

    assert excinfo.value.code == "salesforce_answer"
    assert len(responses.calls) == 1  # only the token request


@responses.activate
def test_identity_from_login_salesforce_com_is_accepted_for_a_my_domain_login():
    url = "https://login.salesforce.com/id/00D000000000042EAA/005000000000001AAA"
    responses.post("https://acme.my.salesforce.com/services/oauth2/token",
                   json={"access_token": "00Dx!secret", "token_type": "Bearer", "id": url})
    responses.get(url, json={"user_id": "005000000000001AAA", "organization_id":
                             "00D000000000042EAA", "username": "a@acme.example",
                             "email": "a@acme.example", "email_verified": True,
                             "active": True, "display_name": "A"})

    identity = client_for().identify("code", "v" * 64)

    assert identity.username == "a@acme.example" and identity.org_id == "00D000000000042EAA"
    assert responses.calls[1].request.headers["Authorization"] == "Bearer 00Dx!secret"


@responses.activate
def test_unreachable_salesforce_is_a_clear_error():
    responses.post("https://acme.my.salesforce.com/services/oauth2/token", status=503)

    with pytest.raises(SignInError) as excinfo:
        client_for().identify("code", "v" * 64)

    assert excinfo.value.code == "salesforce_unreachable" and excinfo.value.status == 502


@pytest.mark.parametrize(("table", "problem"), [
    ({"enabled": True, "org_id": "00D000000000042"}, "auth.salesforce: consumer_key: required"),
    ({"enabled": True, "consumer_key": "k"}, "auth.salesforce: org_id: required"),
    ({"enabled": True, "consumer_key": "k", "org_id": "005000000000042"},
     "auth.salesforce: org_id: must be the org's 15- or 18-character id"),
    ({"login_url": "http://acme.my.salesforce.com"}, "auth.salesforce: login_url: must be"),
])
def test_settings_name_the_wrong_key(table, problem):
    with pytest.raises(ConfigError) as excinfo:
        settings_from_mapping({"auth": {"salesforce": table}})
    assert any(p.startswith(problem) for p in excinfo.value.problems), excinfo.value.problems


def test_org_id_matches_in_15_or_18_characters():
    settings = SalesforceSignInSettings(enabled=True, consumer_key="k",
                                        org_id="00D000000000042")
    assert settings.same_org("00D000000000042EAA") and settings.same_org("00D000000000042")
    assert not settings.same_org("00D000000000043EAA") and not settings.same_org("")
    assert not settings.same_org("00d000000000042EAA")  # ids are case-sensitive
