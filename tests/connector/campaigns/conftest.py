"""A connector app on the Twilio simulator (shared virtual time) with campaign helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from connector import db
from connector.campaigns import dialer
from tests.connector.voice.conftest import MAIN, VoiceEnv, make_env


@dataclass
class CampaignEnv:
    voice: VoiceEnv
    admin: dict[str, str]

    @property
    def app(self) -> Any:
        return self.voice.app

    @property
    def sim(self) -> Any:
        return self.voice.sim

    def client(self) -> Any:
        return self.app.test_client()

    def create(self, name: str = "秋の見直し", **settings: Any) -> dict[str, Any]:
        body = {"name": name, "settings": {"caller_id": MAIN, **settings}}
        answer = self.client().post("/api/campaigns", json=body, headers=self.admin)
        assert answer.status_code == 201, answer.get_json()
        return answer.get_json()["campaign"]

    def upload(self, campaign_id: int, data: bytes, **query: str) -> Any:
        return self.client().post(f"/api/campaigns/{campaign_id}/contacts/import",
                                  data=data, query_string=query, headers=self.admin,
                                  content_type="text/csv")

    def action(self, campaign_id: int, action: str) -> Any:
        return self.client().post(f"/api/campaigns/{campaign_id}/{action}", headers=self.admin)

    def tick(self) -> int:
        with self.app.app_context():
            return dialer.tick(self.app)

    def contacts(self, campaign_id: int) -> list[dict[str, Any]]:
        answer = self.client().get(f"/api/campaigns/{campaign_id}/contacts?limit=1000",
                                   headers=self.admin)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()["contacts"]


def _env(tmp_path, database_url: str) -> CampaignEnv:
    voice = make_env(tmp_path, database_url, softphone={"acw_seconds": 0})
    voice.add_number(MAIN, label="営業")
    voice.add_agent("boss", role="admin", available=False)
    return CampaignEnv(voice, voice.login("boss"))


@pytest.fixture
def campaign_env(tmp_path, sqlite_url) -> Iterator[CampaignEnv]:
    env = _env(tmp_path, sqlite_url)
    yield env
    db.get_engine(env.app).dispose()


@pytest.fixture
def any_db_campaign_env(tmp_path, database_url) -> Iterator[CampaignEnv]:
    """The same on SQLite and (a second run) PostgreSQL."""
    env = _env(tmp_path, database_url)
    yield env
    db.get_engine(env.app).dispose()
