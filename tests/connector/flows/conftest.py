"""Flows end to end: the voice test app and simulator, plus flow import and groups."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import db
from connector.flows import store
from connector.voice import groups
from tests.connector.voice.conftest import VoiceEnv, make_env

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "main-flow.toml"


class FlowEnv(VoiceEnv):
    def import_flow(self, text: str) -> store.StoredFlow:
        with db.get_engine(self.app).begin() as conn:
            stored, _ = store.import_flow(conn, text, now=self.now)
        return stored

    def add_group(self, name: str, members: list[str]) -> None:
        with db.get_engine(self.app).begin() as conn:
            groups.save_group(conn, name, display_name=name, members=members, now=self.now)


@pytest.fixture
def env(tmp_path, sqlite_url) -> Iterator[FlowEnv]:
    voice_env = make_env(tmp_path, sqlite_url)
    voice_env.__class__ = FlowEnv
    yield voice_env  # type: ignore[misc]
    db.get_engine(voice_env.app).dispose()
