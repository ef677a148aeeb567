"""The kintone pages the softphone's kintone bridge opens itself, and how it learns them
(``/softphone/config.json``, ``crm_links``)."""

from __future__ import annotations

from typing import Any

import pytest

from crm_adapters.kintone import KintoneAdapter
from tests.fakes.kintone import FakeKintone, standard_kintone, standard_settings


def test_links_for_a_normal_app(adapter: KintoneAdapter, fake: FakeKintone, server: Any) -> None:
    app = fake.crm_app_id
    assert adapter.browser_links() == {
        "record_url": f"{server.url}/k/{{app}}/show#record={{id}}",
        "new_record_url": f"{server.url}/k/{app}/edit",
        "crm_app_id": str(app)}
    assert fake.request_log == []  # addresses only: no request to kintone


class TestGuestSpace:
    @pytest.fixture
    def fake_options(self) -> dict[str, Any]:
        return {"guest_space_id": 42}

    def test_links_use_the_guest_space(self, adapter: KintoneAdapter, fake: FakeKintone,
                                       server: Any) -> None:
        links = adapter.browser_links()
        assert links["record_url"] == f"{server.url}/k/guest/42/{{app}}/show#record={{id}}"
        assert links["new_record_url"] == f"{server.url}/k/guest/42/{fake.crm_app_id}/edit"


def test_the_softphone_learns_them_from_its_boot_config(make_app) -> None:
    fake = standard_kintone(crm_app_id=3)
    app = make_app(crm={"adapters": ["kintone"],
                        "kintone": standard_settings("https://acme.cybozu.com", fake)})
    body = app.test_client().get("/softphone/config.json").get_json()
    assert body["crm_links"] == {"kintone": {
        "record_url": "https://acme.cybozu.com/k/{app}/show#record={id}",
        "new_record_url": "https://acme.cybozu.com/k/3/edit", "crm_app_id": "3"}}
    assert "token" not in str(body).lower()


def test_no_links_without_a_crm_that_has_them(make_app) -> None:
    body = make_app().test_client().get("/softphone/config.json").get_json()
    assert body["crm_links"] == {}
