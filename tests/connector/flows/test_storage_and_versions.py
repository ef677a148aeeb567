"""Flows, overrides, audio and voicemail on SQLite and PostgreSQL; calls keep their version."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector import db
from connector.flows import store, voicemail
from voice.flows import tomlio
from voice.simulator import CallerScript

from ..voice.conftest import CALLER, NUMBER, make_env
from .conftest import EXAMPLE, FlowEnv
from .test_crm_and_audio import wav_bytes

MENU = """
[flow]
name = "menu"
entry = "m"

[nodes.m]
kind = "menu"
say = "1を押してください。"
keys = { 1 = "a" }

[nodes.a]
kind = "announcement"
say = "{text}"
"""


@pytest.fixture
def any_env(tmp_path, database_url):
    voice_env = make_env(tmp_path, database_url)
    voice_env.__class__ = FlowEnv
    yield voice_env
    db.get_engine(voice_env.app).dispose()


def test_everything_is_stored_alike_on_both_databases(any_env):
    env = any_env
    env.add_group("sales", [])
    env.add_group("support", [])
    first = env.import_flow(EXAMPLE.read_text())
    changed = env.import_flow(EXAMPLE.read_text().replace('timeout = 5', 'timeout = 7'))
    with db.get_engine(env.app).begin() as conn:
        assert (first.version, changed.version) == (1, 2)
        assert store.get_flow(conn, "main", 1).flow == tomlio.load(EXAMPLE.read_text())
        assert store.latest(conn, "main").flow.node("welcome").get("timeout") == 7
        until = env.now + timedelta(hours=2)
        store.set_override(conn, "main", "hours", "closed", until, now=env.now, note="外出中")
        assert store.overrides(conn)["main"]["hours"].until == until
        data = wav_bytes()
        store.save_audio(conn, "a.wav", "audio/wav", "WAV", data, now=env.now)
        assert store.audio_data(conn, "a.wav") == ("audio/wav", data)
        assert voicemail.record_left(conn, "CA1", "main", "voicemail", "代表",
                                     ("a@example.co.jp",), env.now)
        assert not voicemail.record_left(conn, "CA1", "main", "voicemail", "代表", (), env.now)


def test_a_call_in_a_menu_finishes_on_the_version_it_started_with(env):
    env.import_flow(MENU.replace("{text}", "古い案内です。"))
    env.add_number(NUMBER, "flow:menu")

    def press_after_reimport(prompt):
        env.import_flow(MENU.replace("{text}", "新しい案内です。"))
        return "1"

    call = env.sim.place_inbound_call(CALLER, NUMBER,
                                      caller=CallerScript(digits=press_after_reimport))
    env.sim.run_until_idle()
    assert call.heard == ["1を押してください。", "古い案内です。"]
    again = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(digits=["1"]))
    env.sim.run_until_idle()
    assert again.heard == ["1を押してください。", "新しい案内です。"]
