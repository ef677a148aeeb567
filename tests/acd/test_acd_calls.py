"""The ACD through the simulator (virtual time) and the real webhooks: strategies, presence set
by the server from call events, after-call work, ring-outs and auto-pause, status intervals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connector import clock, db, presence
from connector.acd import groups as acd_groups
from connector.schema import agent_status_intervals
from connector.softphone import simulated
from connector.voice import groups, numbers
from connector.voice.numbers import NumberChanges, Route
from voice.simulator import CallerScript, VirtualClock

OUR_NUMBER = "+81312345678"
AGENTS = ("agent1", "agent2", "agent3")


class Centre:
    def __init__(self, app, sign_in, settings, behaviour) -> None:
        self.service = simulated.SimulatedTwilio(app, clock=VirtualClock())
        app.extensions["cti.simulated_mode"] = self.service
        self.sim, self.app = self.service.simulator, app
        self.agents = {name: sign_in(app, name) for name in AGENTS}
        with db.get_engine(app).begin() as conn:
            groups.save_group(conn, "support", display_name="サポート窓口", members=list(AGENTS),
                              now=clock.now(app))
            acd_groups.configure(conn, "support", settings=settings)
            numbers.save_number(conn, OUR_NUMBER, NumberChanges(
                label="代表", route=Route.parse("group:support"),
                fallback=Route.parse("voicemail")), now=clock.now(app))
        self.service.sync_numbers()
        self.browsers = {name: self.sim.on_client(name, **behaviour.get(name, {}))
                         for name in AGENTS}
        for agent in self.agents.values():
            assert agent.put("/api/agents/me/status", json={"status": "available"}
                             ).status_code == 200

    def call(self, seconds: float = 20, **caller):
        transcript = self.sim.place_inbound_call("+819012345678", OUR_NUMBER,
                                                 caller=CallerScript(**caller))
        self.sim.run(until=self.sim.now() + seconds)
        return transcript

    def status(self, name: str) -> str:
        with db.get_engine(self.app).connect() as conn:
            return presence.get(conn, self.agents[name].agent.id).status

    def intervals(self, name: str) -> list[str]:
        with db.get_engine(self.app).connect() as conn:
            return [r.status for r in conn.execute(select(agent_status_intervals).where(
                agent_status_intervals.c.agent_id == self.agents[name].agent.id).order_by(
                agent_status_intervals.c.id))]


def test_round_robin_server_presence_acw_and_intervals(app, sign_in):
    everyone_talks = {name: {"answer_after": 1, "hangup_after": 5} for name in AGENTS}
    centre = Centre(app, sign_in, {"strategy": "round_robin", "acw_seconds": 30},
                    everyone_talks)
    order = []
    for _ in range(4):  # each agent ends ACW by choosing 待機 again
        before = {n: len(b.rung) for n, b in centre.browsers.items()}
        centre.call(seconds=3)
        picked = [n for n, b in centre.browsers.items() if len(b.rung) > before[n]]
        assert len(picked) == 1  # one agent per caller
        order.append(picked[0])
        assert centre.status(picked[0]) == "on_call"
        # The agent cannot set call statuses; they follow the call.
        refused = centre.agents[picked[0]].put("/api/agents/me/status",
                                               json={"status": "on_call"})
        assert refused.status_code == 422
        assert "set by calls" in refused.get_json()["error"]["details"]["fields"]["status"]
        busy = centre.agents[picked[0]].put("/api/agents/me/status", json={"status": "away"})
        assert busy.status_code == 409
        centre.sim.run(until=centre.sim.now() + 10)
        assert centre.status(picked[0]) == "acw"
        centre.agents[picked[0]].put("/api/agents/me/status", json={"status": "available"})
    # Round robin visits each agent in turn, then starts over.
    assert order == [*AGENTS, AGENTS[0]]
    assert centre.intervals("agent2") == ["available", "ringing", "on_call", "acw", "available"]


@pytest.fixture
def fake_clock(clock):
    return clock


def test_ring_out_moves_on_and_auto_pauses(app, sign_in, fake_clock):
    behaviour = {"agent1": {"answer_after": None}, "agent2": {"answer_after": 1},
                 "agent3": {"answer_after": 1}}
    centre = Centre(app, sign_in, {"strategy": "longest_idle", "ring_seconds": 5,
                                   "auto_pause_after": 1, "auto_pause_minutes": 10}, behaviour)
    transcript = centre.call(seconds=15, hangup_after=12)
    assert len(centre.browsers["agent1"].rung) == 1  # longest idle: chose 待機 first
    assert len(centre.browsers["agent2"].rung) == 1  # the next one after the ring-out
    assert centre.browsers["agent3"].rung == []
    assert centre.status("agent1") == "paused"  # auto-pause after one ring-out
    assert transcript.call_sid
    fake_clock.advance(minutes=11)  # the pause runs out: back to 待機 for routing
    before = len(centre.browsers["agent1"].rung)
    centre.call(seconds=3)
    assert len(centre.browsers["agent1"].rung) == before + 1
