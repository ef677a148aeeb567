"""The transport on simple-salesforce, where the fake org cannot reach: answers that are not
Salesforce's (proxy and outage pages), the session's timeouts on every call, one re-login.

Played by ``responses`` at the documented URLs; the adapter gets a plain ``TimeoutSession``.
"""

from __future__ import annotations

import json
import warnings

import pytest
import responses

from crm_adapters.errors import (
    AdapterAuthError,
    AdapterConfigError,
    AdapterPermanentError,
    AdapterTemporaryError,
)
from crm_adapters.http import TimeoutSession
from crm_adapters.salesforce import SalesforceAdapter, SalesforceSettings
from crm_adapters.settings import Secret
from crm_adapters.testing import sample_log

from .conftest import KeyPair

LOGIN = "https://acme.my.salesforce.com"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
INSTANCE = "https://acme.my.salesforce.com"
DATA = f"{INSTANCE}/services/data/v62.0"
TIMEOUT = (1.5, 2.5)
HTML = "<html><body>Down for maintenance</body></html>"


@pytest.fixture
def adapter(key_pair: KeyPair) -> SalesforceAdapter:
    settings = SalesforceSettings(login_url=LOGIN, consumer_key="3MVGkey",
                                  username="integration@example.com",
                                  private_key=Secret(key_pair.private_pem))
    return SalesforceAdapter(settings, http=TimeoutSession(TIMEOUT))


def token_answer(token: str = "00Dtoken") -> responses.Response:
    return responses.Response("POST", TOKEN_URL, json={
        "access_token": token, "instance_url": INSTANCE, "token_type": "Bearer"})


def search_answer() -> responses.Response:
    return responses.Response("GET", f"{DATA}/search/", json={"searchRecords": []},
                              headers={"Sforce-Limit-Info": "api-usage=12/15000"})


@responses.activate
def test_every_call_has_the_sessions_timeout(adapter: SalesforceAdapter) -> None:
    responses.add(token_answer())
    responses.add(search_answer())
    responses.add("PATCH", f"{DATA}/composite/sobjects/Task/CTI_CallSid__c",
                  json=[{"id": "00T1", "success": True, "errors": [], "created": True}])
    assert adapter.lookup_by_phone("+81312345678") == []
    assert adapter.write_call_logs([sample_log()])[0].record_id == "00T1"
    assert [c.request.req_kwargs["timeout"] for c in responses.calls] == [TIMEOUT] * 3
    assert adapter.api_usage is not None and adapter.api_usage.used == 12


@responses.activate
def test_collection_upsert_sends_the_documented_body(adapter: SalesforceAdapter) -> None:
    responses.add(token_answer())
    responses.add("PATCH", f"{DATA}/composite/sobjects/Task/CTI_CallSid__c",
                  json=[{"id": "00T1", "success": True, "errors": [], "created": True}])
    adapter.write_call_logs([sample_log()])
    upsert = responses.calls[-1].request
    body = json.loads(upsert.body)
    assert body["allOrNone"] is False and body["records"][0]["attributes"] == {"type": "Task"}
    assert upsert.headers["Authorization"] == "Bearer 00Dtoken"
    assert upsert.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("status", "error", "words"), [
    (503, AdapterTemporaryError, "token endpoint unavailable"),
    (500, AdapterTemporaryError, "HTTP 500"),
    (429, AdapterTemporaryError, "HTTP 429"),
    (404, AdapterConfigError, "no OAuth token endpoint"),
    (403, AdapterAuthError, "HTTP 403"),
    (200, AdapterTemporaryError, "without JSON"),
])
@responses.activate
def test_token_answer_that_is_not_json(adapter: SalesforceAdapter, status: int, error: type,
                                       words: str) -> None:
    responses.add("POST", TOKEN_URL, body=HTML, status=status, content_type="text/html")
    with pytest.raises(error, match=words) as caught:
        adapter.lookup_by_phone("+81312345678")
    assert "maintenance" not in str(caught.value)  # no page dumps in error messages


@responses.activate
def test_token_answer_without_instance_url_is_temporary(adapter: SalesforceAdapter) -> None:
    responses.add("POST", TOKEN_URL, json={"access_token": "00Dtoken"})
    with pytest.raises(AdapterTemporaryError, match="without access_token or instance_url"):
        adapter.lookup_by_phone("+81312345678")


@responses.activate
def test_unapproved_user_gives_our_advice_and_no_library_warning(
        adapter: SalesforceAdapter) -> None:
    responses.add("POST", TOKEN_URL, status=400, json={
        "error": "invalid_grant", "error_description": "user hasn't approved this consumer"})
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with pytest.raises(AdapterConfigError, match="pre-authorised"):
            adapter.lookup_by_phone("+81312345678")
    # simple-salesforce's "browse to .../authorize" advice is for other flows.
    assert [str(w.message) for w in shown] == []


@responses.activate
def test_refused_session_with_a_non_json_body_logs_in_again_once(
        adapter: SalesforceAdapter) -> None:
    # simple-salesforce's own re-login reads the 401 body as a JSON array and retries three
    # times; the adapter logs in again exactly once, whatever the body.
    responses.add(token_answer("00Dold"))
    responses.add("GET", f"{DATA}/search/", status=401, body=HTML, content_type="text/html")
    responses.add(token_answer("00Dnew"))
    responses.add("GET", f"{DATA}/search/", status=401, body=HTML, content_type="text/html")
    with pytest.raises(AdapterAuthError, match="HTTP 401 from GET search/"):
        adapter.lookup_by_phone("+81312345678")
    sent = [(c.request.method, c.request.url.split("?")[0]) for c in responses.calls]
    assert sent == [("POST", TOKEN_URL), ("GET", f"{DATA}/search/")] * 2
    assert responses.calls[3].request.headers["Authorization"] == "Bearer 00Dnew"


@pytest.mark.parametrize(("status", "error"), [
    (502, AdapterTemporaryError), (503, AdapterTemporaryError),
    (300, AdapterPermanentError), (404, AdapterPermanentError),
])
@responses.activate
def test_data_errors_by_status(adapter: SalesforceAdapter, status: int, error: type) -> None:
    responses.add(token_answer())
    responses.add("GET", f"{DATA}/search/", status=status, body=HTML, content_type="text/html")
    with pytest.raises(error, match=f"HTTP {status} from GET search/") as caught:
        adapter.lookup_by_phone("+81312345678")
    assert "+81" not in str(caught.value) and "q=" not in str(caught.value)


@responses.activate
def test_versions_are_listed_without_a_data_call(adapter: SalesforceAdapter) -> None:
    responses.add(token_answer())
    responses.add("GET", f"{INSTANCE}/services/data/",
                  json=[{"version": "61.0"}, {"version": "62.0"}])
    assert adapter.rest.versions() == ["61.0", "62.0"]
    assert adapter.rest.data_requests == 0
