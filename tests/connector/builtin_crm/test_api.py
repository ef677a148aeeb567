"""``/api/crm``: customers CRUD, search, history and tags, with roles and field-naming errors."""

from __future__ import annotations

import pytest

from connector import db
from crm_adapters.base import AdapterEnvironment
from crm_adapters.builtin import BuiltinCRMAdapter, BuiltinSettings
from crm_adapters.http import TimeoutSession
from crm_adapters.testing import sample_log

YAMADA = {"name": "山田 太郎", "name_kana": "やまだ たろう", "company": "山田商事",
          "phones": [{"number": "03-1234-5678", "label": "会社"}, "090-1111-2222"],
          "tags": "VIP、法人", "notes": "月末締め"}


@pytest.fixture
def adapter(crm_app):
    url = db.get_engine(crm_app).url.render_as_string(hide_password=False)
    built = BuiltinCRMAdapter(BuiltinSettings(), http=TimeoutSession(),
                              env=AdapterEnvironment(database_url=url))
    yield built
    built.close()


def _names(response):
    assert response.status_code == 200, response.get_json()
    return [c["name"] for c in response.get_json()["customers"]]


# -- reading and searching ---------------------------------------------------------------------

def test_everything_needs_a_bearer_token(crm_app, add_customer):
    customer_id = add_customer("山田 太郎", "03-1234-5678")
    client = crm_app.test_client()
    for path in ("/api/crm/customers", f"/api/crm/customers/{customer_id}",
                 f"/api/crm/customers/{customer_id}/calls", "/api/crm/tags"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "unauthorized"
        assert "山田" not in response.get_data(as_text=True)


def test_customer_json_has_numbers_as_typed_and_normalised(agent_api, add_customer):
    customer_id = add_customer("山田 太郎", {"number": "０３－１２３４－５６７８", "label": "会社"},
                               tags=["VIP"])
    body = agent_api.get(f"/api/crm/customers/{customer_id}").get_json()
    assert body["customer"]["phones"] == [{"number": "０３－１２３４－５６７８",
                                           "e164": "+81312345678", "display": "03-1234-5678",
                                           "label": "会社"}]
    assert body["customer"]["url"] == f"/crm/customers/{customer_id}"
    assert body["permissions"] == {"create": True, "edit": False, "edit_notes": True,
                                   "delete": False, "import": False}


@pytest.mark.parametrize(("query", "expected"), [
    ("山田", ["山田 太郎"]),
    ("山田太郎", ["山田 太郎"]),  # spaces do not matter
    ("ヤマダ\u3000タロウ", ["山田 太郎"]),
    ("やまだ", ["山田 太郎"]),  # hiragana finds the katakana reading
    ("ｽｽﾞｷ", ["鈴木 一郎"]),  # so does half-width katakana
    ("商事", ["山田 太郎"]),
    ("vip", []),  # tags match exactly, not by substring
    ("VIP", ["山田 太郎"]),
    ("０３－１２３４", ["山田 太郎"]),  # the start of a national number, full-width
    ("+8190", ["鈴木 一郎"]),
    ("5678", ["山田 太郎"]),  # digits anywhere
    ("09012340000", ["鈴木 一郎"]),  # a whole number
    ("50%", []),  # LIKE wildcards are taken literally
])
def test_search(agent_api, add_customer, query, expected):
    add_customer("山田 太郎", "03-1234-5678", name_kana="ヤマダ タロウ", company="山田商事",
                 tags=["VIP"])
    add_customer("鈴木 一郎", "090-1234-0000", name_kana="スズキ イチロウ")
    assert _names(agent_api.get("/api/crm/customers", query_string={"q": query})) == expected


def test_list_is_by_reading_and_pages(agent_api, add_customer):
    for name, reading in [("渡辺", "ワタナベ"), ("安藤", "アンドウ"), ("名無し", ""),
                          ("加藤", "カトウ")]:
        add_customer(name, name_kana=reading)
    first = agent_api.get("/api/crm/customers", query_string={"limit": 3}).get_json()
    assert [c["name"] for c in first["customers"]] == ["安藤", "加藤", "渡辺"]
    assert first["total"] == 4
    rest = agent_api.get("/api/crm/customers", query_string={"limit": 3, "offset": 3})
    assert _names(rest) == ["名無し"]


def test_tag_filter_and_tag_counts(agent_api, supervisor_api, add_customer):
    add_customer("山田", tags=["VIP", "法人"])
    add_customer("鈴木", tags=["法人"])
    gone = add_customer("佐藤", tags=["VIP"])
    assert supervisor_api.delete(f"/api/crm/customers/{gone}").status_code == 204
    assert _names(agent_api.get("/api/crm/customers", query_string={"tag": "法人"})) == [
        "山田", "鈴木"]
    assert agent_api.get("/api/crm/tags").get_json()["tags"] == [
        {"tag": "法人", "count": 2}, {"tag": "VIP", "count": 1}]


def test_bad_paging_parameter_is_named(agent_api):
    response = agent_api.get("/api/crm/customers", query_string={"limit": "all"})
    assert response.status_code == 422
    assert "limit" in response.get_json()["error"]["details"]["fields"]


# -- creating ----------------------------------------------------------------------------------

def test_supervisor_creates_a_customer(supervisor_api, agent_api, adapter):
    response = supervisor_api.post("/api/crm/customers", json=YAMADA)
    assert response.status_code == 201, response.get_json()
    customer = response.get_json()["customer"]
    assert response.headers["Location"].endswith(f"/api/crm/customers/{customer['id']}")
    assert customer["name_kana"] == "ヤマダ タロウ"
    assert customer["tags"] == ["VIP", "法人"]
    assert [p["e164"] for p in customer["phones"]] == ["+81312345678", "+819011112222"]
    # The adapter (and so the phone index and screen pops) sees the new customer at once.
    assert [c.record_id for c in adapter.lookup_by_phone("+819011112222")] == [
        str(customer["id"])]


def test_an_agent_registers_an_unknown_caller(agent_api, adapter):
    """[crm.builtin] add_customer_role defaults to "agent": the unknown-caller pop can be saved."""
    response = agent_api.post("/api/crm/customers",
                              json={"name": "新規 花子", "phones": ["+819055556666"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["permissions"]["create"] is True
    assert [c.display_name for c in adapter.lookup_by_phone("+819055556666")] == ["新規 花子"]
    # Adding is not editing: agents still change only the notes of existing customers.
    customer_id = response.get_json()["customer"]["id"]
    renamed = agent_api.patch(f"/api/crm/customers/{customer_id}", json={"name": "別人"})
    assert renamed.status_code == 403


def test_the_role_policy_can_keep_agents_from_adding_customers(make_app):
    from tests.connector.builtin_crm.conftest import _api

    app = make_app(crm={"adapters": ["builtin"], "builtin": {"add_customer_role": "supervisor"}})
    agent, supervisor = _api(app, "agent"), _api(app, "supervisor")
    assert agent.get("/api/crm/permissions").get_json()["permissions"]["create"] is False
    refused = agent.post("/api/crm/customers", json=YAMADA,
                         headers={"Accept-Language": "en"})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["message"] == (
        "Only the supervisor role or above may add customers ([crm.builtin] add_customer_role).")
    assert refused.get_json()["error"]["details"]["message_ja"].startswith(
        "顧客を登録できるのはスーパーバイザー以上です")
    assert supervisor.get("/api/crm/permissions").get_json()["permissions"]["create"] is True
    assert supervisor.post("/api/crm/customers", json=YAMADA).status_code == 201


def test_the_policy_key_is_checked_at_start_up(make_app):
    from connector.config import ConfigError

    with pytest.raises(ConfigError, match="add_customer_role"):
        make_app(crm={"adapters": ["builtin"], "builtin": {"add_customer_role": "everyone"}})


def test_invalid_fields_are_each_named(supervisor_api):
    response = supervisor_api.post("/api/crm/customers", json={
        "name": " ", "phones": ["03-1234-5678", {"number": "312345678"}, {"label": "携帯"}],
        "tags": ["x" * 51], "colour": "red"})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert set(details["fields"]) == {"name", "phones[1].number", "phones[2].number",
                                      "tags[0]", "colour"}
    assert details["codes"]["phones[1].number"] == "missing_leading_zero"
    assert "先頭の0" in details["fields"]["phones[1].number"]
    assert details["codes"]["name"] == "required"


def test_not_json_is_refused(supervisor_api):
    response = supervisor_api.post("/api/crm/customers", data="name=x")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_body"


def test_duplicate_number_needs_confirmation(supervisor_api, add_customer):
    existing = add_customer("山田 花子", "0312345678")
    response = supervisor_api.post("/api/crm/customers", json=YAMADA)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "duplicate_number"
    assert "山田 花子" in error["details"]["fields"]["phones[0].number"]
    assert error["details"]["duplicates"] == [{
        "field": "phones[0].number", "e164": "+81312345678",
        "customers": [{"id": existing, "name": "山田 花子",
                       "url": f"/crm/customers/{existing}"}]}]
    confirmed = supervisor_api.post("/api/crm/customers",
                                    json={**YAMADA, "allow_duplicate_numbers": True})
    assert confirmed.status_code == 201


# -- changing and deleting ---------------------------------------------------------------------

def test_agent_may_change_notes_only(agent_api, add_customer):
    customer_id = add_customer("山田 太郎", "03-1234-5678")
    response = agent_api.patch(f"/api/crm/customers/{customer_id}", json={"notes": "折り返し希望"})
    assert response.status_code == 200
    assert response.get_json()["customer"]["notes"] == "折り返し希望"
    refused = agent_api.patch(f"/api/crm/customers/{customer_id}",
                              json={"notes": "x", "name": "別人", "phones": []})
    assert refused.status_code == 403
    assert set(refused.get_json()["error"]["details"]["fields"]) == {"name", "phones"}


def test_update_replaces_numbers_and_the_index_follows(supervisor_api, add_customer, adapter):
    customer_id = add_customer("山田 太郎", "03-1234-5678")
    response = supervisor_api.patch(f"/api/crm/customers/{customer_id}",
                                    json={"phones": [{"number": "06-6123-4567", "label": "本社"}]})
    assert response.status_code == 200, response.get_json()
    assert adapter.lookup_by_phone("+81312345678") == []
    assert [c.record_id for c in adapter.lookup_by_phone("+81661234567")] == [str(customer_id)]
    (changed,) = adapter.contacts_changed_since(None)
    assert changed.phone_numbers == ("+81661234567",)


def test_stale_update_is_a_conflict(supervisor_api, add_customer):
    customer_id = add_customer("山田 太郎")
    seen = supervisor_api.get(f"/api/crm/customers/{customer_id}").get_json()["customer"]
    first = supervisor_api.patch(f"/api/crm/customers/{customer_id}",
                                 json={"notes": "一人目", "updated_at": seen["updated_at"]})
    assert first.status_code == 200
    # The app's clock stands still in tests; a real second edit would come later.
    second = supervisor_api.patch(f"/api/crm/customers/{customer_id}",
                                  json={"notes": "二人目", "updated_at": "2020-01-01T00:00:00Z"})
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "conflict"
    assert supervisor_api.get(f"/api/crm/customers/{customer_id}").get_json()[
        "customer"]["notes"] == "一人目"


@pytest.mark.parametrize(("body", "field"), [
    ({"notes": "x", "updated_at": "yesterday"}, "updated_at"),
    ({"notes": "x", "updated_at": "2026-01-01T00:00:00"}, "updated_at"),  # no time zone
    ({"notes": 5}, "notes"),
    ({"notes": "x", "allow_duplicate_numbers": "yes"}, "allow_duplicate_numbers"),
    ({}, None),
])
def test_bad_updates_are_named(supervisor_api, add_customer, body, field):
    customer_id = add_customer("山田 太郎")
    response = supervisor_api.patch(f"/api/crm/customers/{customer_id}", json=body)
    assert response.status_code == 422
    fields = response.get_json()["error"]["details"]["fields"]
    assert list(fields) == ([field] if field else [])


def test_update_duplicate_check_ignores_the_customer_itself(supervisor_api, add_customer):
    customer_id = add_customer("山田 太郎", "03-1234-5678")
    response = supervisor_api.patch(f"/api/crm/customers/{customer_id}",
                                    json={"phones": ["03-1234-5678", "090-1111-2222"]})
    assert response.status_code == 200


def test_delete_hides_the_customer_but_keeps_its_history(supervisor_api, agent_api,
                                                         add_customer, adapter):
    customer_id = add_customer("山田 太郎", "03-1234-5678")
    adapter.write_call_logs([sample_log("CA" + "d" * 32, customer_record_id=str(customer_id))])
    assert agent_api.delete(f"/api/crm/customers/{customer_id}").status_code == 403
    assert supervisor_api.delete(f"/api/crm/customers/{customer_id}").status_code == 204
    assert supervisor_api.delete(f"/api/crm/customers/{customer_id}").status_code == 404
    assert agent_api.get(f"/api/crm/customers/{customer_id}").status_code == 404
    assert agent_api.patch(f"/api/crm/customers/{customer_id}",
                           json={"notes": "x"}).status_code == 404
    assert adapter.lookup_by_phone("+81312345678") == []
    with db.get_engine(agent_api.client.application).connect() as conn:
        from connector.schema import customer_call_logs
        (linked,) = conn.execute(customer_call_logs.select()).all()
    assert linked.customer_id == customer_id


# -- history -----------------------------------------------------------------------------------

def test_history_is_newest_first_with_unattributed_calls_by_number(supervisor_api,
                                                                   add_customer, adapter):
    """Seen by a supervisor: agents see their own calls only (tests/connector/
    test_call_access.py), and these logs belong to no recorded call."""
    agent_api = supervisor_api
    yamada = add_customer("山田 太郎", "03-1234-5678")
    other = add_customer("鈴木 一郎", "06-6123-4567")
    adapter.write_call_logs([
        sample_log("CA" + "1" * 32, customer_record_id=str(yamada),
                   started_at="2026-11-18T01:00:00Z"),
        sample_log("CA" + "2" * 32, started_at="2026-11-20T01:00:00Z"),  # by number only
        sample_log("CA" + "3" * 32, customer_record_id=str(other),
                   started_at="2026-11-21T01:00:00Z"),  # same number, someone else's call
        sample_log("CA" + "4" * 32, customer_number="+81661234567",
                   started_at="2026-11-22T01:00:00Z"),
    ])
    body = agent_api.get(f"/api/crm/customers/{yamada}/calls").get_json()
    assert [c["call_sid"][-1] for c in body["calls"]] == ["2", "1"]
    assert [c["linked"] for c in body["calls"]] == [False, True]
    assert body["total"] == 2
    first = body["calls"][0]
    assert first["customer_number_display"] == "03-1234-5678"
    assert first["agent_name"] == "佐藤 花子" and first["disposition"] == "解決"
    paged = agent_api.get(f"/api/crm/customers/{yamada}/calls",
                          query_string={"limit": 1, "offset": 1}).get_json()
    assert [c["call_sid"][-1] for c in paged["calls"]] == ["1"]


def test_history_of_unknown_customer_is_404(agent_api):
    assert agent_api.get("/api/crm/customers/999/calls").status_code == 404
