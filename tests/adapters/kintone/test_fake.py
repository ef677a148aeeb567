"""The fake kintone enforces the documented limits, so tests passing against it mean something."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes.kintone import CRM_TOKEN, HISTORY_TOKEN, FakeKintone
from tests.fakes.server import LiveServer


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def call(http: requests.Session, server: LiveServer, method: str, api: str, *,
         token: str = HISTORY_TOKEN, space: int | None = None, **body: Any) -> requests.Response:
    prefix = f"/k/guest/{space}/v1" if space else "/k/v1"
    return http.request(method, f"{server.url}{prefix}/{api}.json", json=body,
                        headers={"X-Cybozu-API-Token": token}, timeout=5)


def code(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("code", "")


def test_read_limits(http: requests.Session, server: LiveServer, fake: FakeKintone) -> None:
    app = fake.call_history_app_id
    ok = call(http, server, "GET", "records", app=app, query="limit 500 offset 10000")
    assert ok.status_code == 200
    assert code(call(http, server, "GET", "records", app=app, query="limit 501")) == (
        400, "CB_VA01")
    assert code(call(http, server, "GET", "records", app=app, query="offset 10001")) == (
        400, "CB_VA01")
    assert code(call(http, server, "GET", "records", app=app, query="無い = \"x\"")) == (
        400, "GAIA_IQ11")


def test_write_limits_and_all_or_nothing(http: requests.Session, server: LiveServer,
                                         fake: FakeKintone) -> None:
    app = fake.call_history_app_id
    many = [{"CallSid": {"value": f"CA{i}"}} for i in range(101)]
    assert code(call(http, server, "POST", "records", app=app, records=many)) == (400, "CB_VA01")
    batch = [{"CallSid": {"value": "CA1"}},
             {"CallSid": {"value": "CA2"}, "通話時間": {"value": "x"}}]
    answer = call(http, server, "POST", "records", app=app, records=batch)
    assert code(answer) == (400, "CB_VA01")
    assert list(answer.json()["errors"]) == ["records[1].通話時間.value"]
    assert fake.records(app) == []


def test_update_key_must_be_unique(http: requests.Session, server: LiveServer,
                                   fake: FakeKintone) -> None:
    entry = {"updateKey": {"field": "メモ", "value": "x"}, "record": {}}
    answer = call(http, server, "PUT", "records", app=fake.call_history_app_id, upsert=True,
                  records=[entry])
    assert code(answer) == (400, "CB_VA01")
    assert "records[0].updateKey.field" in answer.json()["errors"]


def test_cursor_limits(http: requests.Session, server: LiveServer, fake: FakeKintone) -> None:
    app = fake.crm_app_id
    too_big = call(http, server, "POST", "records/cursor", token=CRM_TOKEN, app=app, size=501)
    assert code(too_big) == (400, "CB_VA01")
    with_limit = call(http, server, "POST", "records/cursor", token=CRM_TOKEN, app=app,
                      query="limit 10")
    assert code(with_limit) == (400, "CB_VA01")
    for _ in range(10):
        assert call(http, server, "POST", "records/cursor", token=CRM_TOKEN,
                    app=app).status_code == 200
    assert code(call(http, server, "POST", "records/cursor", token=CRM_TOKEN, app=app)) == (
        429, "GAIA_TM12")


def test_authentication(http: requests.Session, server: LiveServer, fake: FakeKintone) -> None:
    app = fake.call_history_app_id
    assert code(call(http, server, "GET", "records", token="", app=app)) == (401, "CB_AU01")
    assert code(call(http, server, "GET", "records", token="nope", app=app)) == (400,
                                                                                  "GAIA_IA02")
    assert code(call(http, server, "GET", "records", token=CRM_TOKEN, app=app)) == (
        403, "GAIA_NO01")
    fake.tokens[HISTORY_TOKEN] = (app, frozenset({"view", "edit"}))
    upsert = call(http, server, "PUT", "records", app=app, upsert=True,
                  records=[{"updateKey": {"field": "CallSid", "value": "CA1"}}])
    assert code(upsert) == (403, "GAIA_NO01")  # upsert needs add as well as edit


class TestGuestSpaceAndBasicAuth:
    @pytest.fixture
    def fake_options(self) -> dict[str, Any]:
        return {"guest_space_id": 5, "basic_auth": ("u", "p")}

    def test_basic_auth_comes_first(self, http: requests.Session, server: LiveServer,
                                    fake: FakeKintone) -> None:
        answer = call(http, server, "GET", "records", space=5, app=fake.crm_app_id)
        assert answer.status_code == 401
        assert answer.headers["WWW-Authenticate"].startswith("Basic")

    def test_guest_apps_answer_only_in_their_space(self, http: requests.Session,
                                                   server: LiveServer,
                                                   fake: FakeKintone) -> None:
        http.auth = ("u", "p")
        app = fake.crm_app_id
        assert call(http, server, "GET", "records", token=CRM_TOKEN, space=5,
                    app=app).status_code == 200
        assert code(call(http, server, "GET", "records", token=CRM_TOKEN, app=app)) == (
            400, "GAIA_IL23")
