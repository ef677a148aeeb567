"""Call lists from the CRMs through the admin API: the built-in CRM's search, a kintone view
and a Salesforce list view or SOQL (the fakes on loopback ports), every refused record
reported, nothing half-imported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector import crm, db
from connector.builtin_crm import store as builtin_store
from connector.builtin_crm.model import CustomerInput, Phone
from connector.voice import number_lists
from crm_adapters.base import AdapterEnvironment, LocalLimiter
from crm_adapters.http import TimeoutSession
from crm_adapters.kintone import KintoneAdapter, KintoneSettings
from crm_adapters.salesforce import SalesforceAdapter, SalesforceSettings
from crm_adapters.settings import parse_settings
from tests.adapters.salesforce.conftest import (
    AUDIENCE,
    HTTP_TIMEOUT,
    ORG_HOST,
    make_key_pair,
    settings_table,
)
from tests.connector.campaigns.conftest import CampaignEnv
from tests.fakes.kintone import CRM_TOKEN, FakeKintone, standard_kintone, standard_settings
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.server import LiveServer, behind_tls_proxy, route_hosts

URL = "/api/campaigns/{}/contacts/import-crm"


def _customer(env: CampaignEnv, name: str, number: str, e164: str, tags=("秋",)) -> int:
    phones = (Phone(number, e164),) if number else ()
    data = CustomerInput(name=name, company="山田商事", tags=tuple(tags), phones=phones,
                         present=frozenset({"name", "company", "tags", "phones"}))
    with db.get_engine(env.app).begin() as conn:
        return builtin_store.create_customer(conn, data, env.voice.now)


def test_builtin_crm_list_is_checked_record_by_record(any_db_campaign_env: CampaignEnv):
    env = any_db_campaign_env
    with db.get_engine(env.app).begin() as conn:
        number_lists.add_rule(conn, "restrict", "090-9999-0000", "苦情", now=env.voice.now)
        number_lists.add_rule(conn, "block", "090-8888-0000", "いたずら", now=env.voice.now)
    ok = _customer(env, "あ 山田", "090-1111-2222", "+819011112222")
    restricted = _customer(env, "い 鈴木", "090-9999-0000", "+819099990000")
    blocked = _customer(env, "う 佐藤", "090-8888-0000", "+819088880000")
    _customer(env, "え 田中", "090-3333-4444", "+819033334444", tags=("冬",))  # not in the tag
    no_phone = _customer(env, "お 高橋", "", "")
    campaign = env.create()
    env.upload(campaign["id"], b"09055556666\n")
    dup = _customer(env, "か 伊藤", "090-5555-6666", "+819055556666")

    refused = env.client().post(URL.format(campaign["id"]), headers=env.admin,
                                json={"source": "builtin", "tag": "秋"})
    assert refused.status_code == 422
    details = refused.get_json()["error"]["details"]
    assert [(r["record"], r["code"]) for r in details["rejected"]] == [
        (str(restricted), "restricted"), (str(blocked), "blocked"), (str(no_phone), "empty"),
        (str(dup), "duplicate")]
    assert (details["records"], details["valid"], details["imported"]) == (5, 1, 0)
    assert len(env.contacts(campaign["id"])) == 1  # only the earlier CSV row

    kept = env.client().post(URL.format(campaign["id"]), headers=env.admin,
                             json={"source": "builtin", "tag": "秋", "skip_invalid": True})
    assert kept.status_code == 200 and kept.get_json()["imported"] == 1
    added = [c for c in env.contacts(campaign["id"]) if c["crm_id"]]
    assert [(c["e164"], c["name"], c["company"], c["crm_id"]) for c in added] == [
        ("+819011112222", "あ 山田", "山田商事", str(ok))]


def test_unknown_or_disabled_sources_are_named(campaign_env: CampaignEnv):
    env = campaign_env
    campaign = env.create()
    answer = env.client().post(URL.format(campaign["id"]), headers=env.admin,
                               json={"source": "excel"})
    assert answer.get_json()["error"]["details"]["codes"] == {"source": "unknown_source"}
    answer = env.client().post(URL.format(campaign["id"]), headers=env.admin,
                               json={"source": "salesforce", "soql": "SELECT Id FROM Contact"})
    assert answer.get_json()["error"]["details"]["codes"] == {"source": "not_enabled"}
    agent = env.voice.login(env.voice.add_agent("sato").username)
    assert env.client().post(URL.format(campaign["id"]), headers=agent,
                             json={"source": "builtin"}).status_code == 403


@pytest.fixture
def kintone(campaign_env: CampaignEnv) -> Iterator[FakeKintone]:
    """The fake kintone as the app's kintone adapter (as if enabled in crm.adapters)."""
    fake = standard_kintone()
    fake.tokens[CRM_TOKEN] = (fake.crm_app_id, frozenset({"view", "admin"}))
    with LiveServer(fake) as live:
        settings = parse_settings(KintoneSettings, standard_settings(live.url, fake),
                                  where="crm.kintone")
        adapter = KintoneAdapter(settings, http=TimeoutSession(timeout=(1.0, 1.0)),
                                 env=AdapterEnvironment(limiter=LocalLimiter()))
        crm.get_layer(campaign_env.app).adapters["kintone"] = adapter
        yield fake


def test_kintone_view_list_through_a_cursor(campaign_env: CampaignEnv, kintone: FakeKintone):
    env = campaign_env
    for n in range(1, 1203):
        kintone.add_customer(f"顧客{n:04d}", f"090-{1000 + n}-{n:04d}", company="東京商事")
    kintone.add_customer("ナビ", "0570-000-111", company="東京商事")
    kintone.add_customer("大阪の方", "090-0000-9999", company="大阪物産")
    kintone.add_view(kintone.crm_app_id, "東京", '会社名 = "東京商事"')
    campaign = env.create()
    refused = env.client().post(URL.format(campaign["id"]), headers=env.admin,
                                json={"source": "kintone", "view": "東京"})
    details = refused.get_json()["error"]["details"]
    assert [(r["line"], r["code"], r["value"]) for r in details["rejected"]] == [
        (1203, "forbidden_navi_dial", "0570-000-111")]
    assert env.contacts(campaign["id"]) == [] and kintone.cursors == {}
    kept = env.client().post(URL.format(campaign["id"]), headers=env.admin,
                             json={"source": "kintone", "view": "東京", "skip_invalid": True})
    assert kept.get_json()["imported"] == 1202
    assert len(kintone.requests("POST", "records/cursor")) == 2

    unknown = env.client().post(URL.format(campaign["id"]), headers=env.admin,
                                json={"source": "kintone", "view": "名古屋"})
    assert unknown.status_code == 422 and unknown.get_json()["error"]["code"] == "crm_refused"
    kintone.fail_next("401")
    failed = env.client().post(URL.format(campaign["id"]), headers=env.admin,
                               json={"source": "kintone", "condition": '会社名 = "大阪物産"'})
    assert failed.status_code == 502 and failed.get_json()["error"]["code"] == "crm_unavailable"
    stats = env.client().get(f"/api/campaigns/{campaign['id']}/stats", headers=env.admin)
    assert stats.get_json()["campaign"]["contacts"] == 1202  # the failed read added nothing


@pytest.fixture
def salesforce(campaign_env: CampaignEnv) -> Iterator[FakeSalesforce]:
    """The fake Salesforce org as the app's Salesforce adapter (as if enabled)."""
    keys = make_key_pair()
    fake = FakeSalesforce(keys.certificate_pem, audience=AUDIENCE)
    with LiveServer(behind_tls_proxy(fake)) as live:
        fake.url = live.url  # type: ignore[attr-defined]
        settings = parse_settings(SalesforceSettings, settings_table(fake, keys),
                                  where="crm.salesforce")
        http = route_hosts(TimeoutSession(HTTP_TIMEOUT), live.url, ORG_HOST)
        crm.get_layer(campaign_env.app).adapters["salesforce"] = SalesforceAdapter(
            settings, http=http, env=AdapterEnvironment(timezone="Asia/Tokyo"))
        yield fake


def test_salesforce_list_view_and_soql(campaign_env: CampaignEnv, salesforce: FakeSalesforce):
    env = campaign_env
    salesforce.page_size = 2
    first = salesforce.add_customer("山田 太郎", "090-1111-2222", company="山田商事")
    salesforce.add_customer("鈴木 一郎", "03-3333-4444")
    twin = salesforce.add_customer("山田 花子", "+81 90-1111-2222")  # the same number
    view = salesforce.add_list_view("Contact", "全員", "SELECT Name FROM Contact ORDER BY Name")
    campaign = env.create()
    refused = env.client().post(URL.format(campaign["id"]), headers=env.admin, json={
        "source": "salesforce", "object": "Contact", "list_view": view})
    assert refused.status_code == 422, refused.get_json()
    details = refused.get_json()["error"]["details"]
    assert [(r["record"], r["code"]) for r in details["rejected"]] == [(twin, "duplicate")]
    kept = env.client().post(URL.format(campaign["id"]), headers=env.admin, json={
        "source": "salesforce", "object": "Contact", "list_view": view, "skip_invalid": True})
    assert kept.get_json()["imported"] == 2
    by_id = {c["crm_id"]: c for c in env.contacts(campaign["id"])}
    assert (by_id[first]["name"], by_id[first]["company"]) == ("山田 太郎", "山田商事")
    assert twin not in by_id and len(by_id) == 2

    other = env.create("別")
    soql = env.client().post(URL.format(other["id"]), headers=env.admin, json={
        "source": "salesforce", "soql": "SELECT Id FROM Contact WHERE Name = '鈴木 一郎'"})
    assert soql.status_code == 200 and soql.get_json()["imported"] == 1
    wrong = env.client().post(URL.format(other["id"]), headers=env.admin, json={
        "source": "salesforce", "soql": "SELECT Id FROM Opportunity"})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "crm_refused"
    assert "Opportunity" in wrong.get_json()["error"]["message"]
