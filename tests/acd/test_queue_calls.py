"""Waiting callers through the simulator (virtual time) and the real webhooks: 10 callers for
3 agents with every strategy, position announcements, the leave key, hang-ups while waiting,
overflow, time-out and the whisper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connector import clock, db
from connector.acd import groups as acd_groups
from connector.softphone import simulated
from connector.voice import calls, groups, numbers
from connector.voice.numbers import NumberChanges, Route
from voice.simulator import CallerScript, Press, VirtualClock
from voice.simulator.transcript import Heard, QueueEvent

OUR_NUMBER = "+81312345678"
AGENTS = ("agent1", "agent2", "agent3")
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _calls_end_before_the_app(app):
    """Let every call of the test end (virtual time) while the app and Redis still exist."""
    yield
    centre = app.extensions.get("test.centre")
    if centre is not None:
        centre.sim.run_until_idle()


class Centre:
    """Three agents of group ``support`` (and ``backup``, with agent3 only) on one number."""

    def __init__(self, app, sign_in, settings, behaviour=None, skills=None) -> None:
        self.service = simulated.SimulatedTwilio(app, clock=VirtualClock())
        app.extensions["cti.simulated_mode"] = self.service
        self.sim, self.app = self.service.simulator, app
        app.extensions["test.centre"] = self
        # The app's clock follows simulated time (after-call work, claims, intervals).
        app.extensions["cti.clock"] = lambda: START + timedelta(seconds=self.sim.now())
        self.agents = {name: sign_in(app, name) for name in AGENTS}
        with db.get_engine(app).begin() as conn:
            groups.save_group(conn, "backup", display_name="予備", members=["agent3"],
                              now=clock.now(app))
            groups.save_group(conn, "support", display_name="サポート", members=list(AGENTS),
                              now=clock.now(app))
            acd_groups.configure(conn, "support", settings=settings, skills=skills)
            numbers.save_number(conn, OUR_NUMBER, NumberChanges(
                label="代表", route=Route.parse("group:support"),
                fallback=Route.parse("voicemail")), now=clock.now(app))
        self.service.sync_numbers()
        behaviour = behaviour or {}
        self.browsers = {name: self.sim.on_client(name, **behaviour.get(
            name, {"answer_after": 1, "hangup_after": 30})) for name in AGENTS}
        for agent in self.agents.values():
            assert agent.put("/api/agents/me/status", json={"status": "available"}
                             ).status_code == 200

    def call(self, n: int, **caller):
        return self.sim.place_inbound_call(f"+8190{n:08d}", OUR_NUMBER,
                                           caller=CallerScript(**caller))

    def keep_everyone_talking(self) -> list:
        """Three callers, 2 s apart: each agent takes one (by 6 s)."""
        talking = []
        for n in range(3):
            talking.append(self.call(n, hangup_after=400))
            self.sim.run(until=self.sim.now() + 2)
        return talking

    def record(self, sid: str):
        with db.get_engine(self.app).connect() as conn:
            return calls.get_row(conn, sid)


def answered_by(t) -> str:
    return (t.answered_by or "").removeprefix("client:")


def left_queue(t) -> list[str]:
    return [e.result for e in t.of(QueueEvent) if e.action == "left"]


@pytest.mark.parametrize("strategy", ["ring_all", "longest_idle", "least_talk", "random",
                                      "round_robin", "skill"])
def test_ten_callers_three_agents_nobody_lost(app, sign_in, strategy):
    centre = Centre(app, sign_in, {"strategy": strategy, "ring_seconds": 10,
                                   "max_wait_seconds": 600, "announce_every_seconds": 20},
                    skills={"agent1": 2, "agent2": 1, "agent3": 3})
    # Ten callers, one every 2 s; callers 8 and 9 give up after 40 s of waiting.
    transcripts = []
    for n in range(10):
        patience = {"hangup_after": 40} if n in (8, 9) else {"hangup_after": 400}
        transcripts.append(centre.call(n, **patience))
        centre.sim.run(until=centre.sim.now() + 2)
    centre.sim.run_until_idle()
    served = [t for t in transcripts if answered_by(t)]
    abandoned = [t for t in transcripts if not answered_by(t)]
    assert {transcripts.index(t) for t in abandoned} == {8, 9}
    for t in abandoned:  # hung up while waiting: out of the queue, on record as abandoned
        assert left_queue(t) == ["hangup"]
        assert centre.record(t.call_sid)["detail"] == "abandoned"
    for t in served:
        assert centre.record(t.call_sid)["outcome"] == "answered"
        assert answered_by(t) in AGENTS
    # Each agent talks to one caller at a time, and callers are served in arrival order.
    talks: dict[str, list[tuple[float, float]]] = {name: [] for name in AGENTS}
    for t in served:
        bridged = [e for e in t.events if type(e).__name__ == "Bridged" and not e.ended]
        talks[answered_by(t)].append((bridged[0].t, bridged[0].t + 30))
    for spans in talks.values():
        spans.sort()
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:],
                                                                      strict=False))
    starts = [min(e.t for e in t.events if type(e).__name__ == "Bridged") for t in served]
    assert starts == sorted(starts)  # first come, first served
    waited = [t for t in served if "enqueued" in [e.action for e in t.of(QueueEvent)]]
    assert waited, "some callers must have waited"
    announcements = [h.content for t in waited for h in t.of(Heard) if "番目" in h.content]
    assert announcements and announcements[0].startswith("現在")
    if strategy == "skill":  # the best skill level takes the first caller
        assert answered_by(transcripts[0]) == "agent2"
    if strategy == "round_robin":  # each agent in turn, in member order
        assert [answered_by(t) for t in transcripts[:3]] == list(AGENTS)


@pytest.mark.parametrize("call_records", ["sync", "stream"])
def test_position_announcement_and_leave_key_to_voicemail(make_app, sign_in, call_records):
    """In "stream" mode the queue's webhooks must apply the caller's record still in Redis
    before noting on it (the leaver was recorded as abandoned)."""
    app = make_app(voice={"call_records": call_records})
    centre = Centre(app, sign_in, {"announce_every_seconds": 15, "announce": "position",
                                   "leave_key": "9"},
                    behaviour={name: {"answer_after": 1, "hangup_after": 300}
                               for name in AGENTS})
    talking = centre.keep_everyone_talking()
    second = centre.call(11, hangup_after=300)
    centre.sim.run(until=8)
    leaver = centre.call(12, digits=[None, Press("9", delay=1)], hangup_after=300)
    centre.sim.run(until=120)
    assert all(answered_by(t) for t in talking)
    said = [h.content for h in leaver.of(Heard) if h.kind == "say"]
    assert "現在2番目にお待ちいただいております。" in said
    assert "伝言を残される場合は9を押してください。" in said
    assert left_queue(leaver) == ["leave"]
    assert centre.record(leaver.call_sid)["outcome"] == "voicemail"
    assert "現在1番目にお待ちいただいております。" in [h.content for h in second.of(Heard)]


def test_overflow_when_the_queue_is_full(app, sign_in):
    centre = Centre(app, sign_in, {"max_waiting": 1, "overflow": {
        "type": "announcement", "value": "ただいま大変混み合っております。"}},
        behaviour={name: {"answer_after": 1, "hangup_after": 300} for name in AGENTS})
    centre.keep_everyone_talking()
    waiting = centre.call(10, hangup_after=60)
    centre.sim.run(until=8)
    over = centre.call(11, hangup_after=60)
    centre.sim.run(until=30)
    assert "enqueued" in [e.action for e in waiting.of(QueueEvent)]
    assert over.of(QueueEvent) == []
    assert "ただいま大変混み合っております。" in over.heard
    assert centre.record(over.call_sid)["detail"] == "overflow"


def test_timeout_to_another_group_then_answered_there(app, sign_in):
    behaviour = {name: {"answer_after": 1, "hangup_after": 300} for name in AGENTS}
    centre = Centre(app, sign_in, {"max_wait_seconds": 30, "strategy": "longest_idle",
                                   "timeout": {"type": "voicemail"}}, behaviour)
    centre.keep_everyone_talking()
    late = centre.call(10, hangup_after=200)
    centre.sim.run(until=120)
    assert left_queue(late) == ["leave"]
    waited = [r for r in late.requests_to("/twilio/voice/acd/wait")]
    assert int(waited[-1].param_dict["QueueTime"]) >= 30
    record = centre.record(late.call_sid)
    assert (record["detail"], record["outcome"]) == ("timeout", "voicemail")


def test_an_agent_becoming_free_takes_the_first_waiting_caller_with_a_whisper(app, sign_in):
    behaviour = {"agent1": {"answer_after": 1, "hangup_after": 20},
                 "agent2": {"answer_after": 1, "hangup_after": 300},
                 "agent3": {"answer_after": 1, "hangup_after": 300}}
    centre = Centre(app, sign_in, {"whisper": "{group}窓口のお電話です。",
                                   "strategy": "longest_idle"}, behaviour)
    centre.keep_everyone_talking()
    first = centre.call(10, hangup_after=200)
    centre.sim.run(until=8)
    second = centre.call(11, hangup_after=200)
    centre.sim.run(until=40)
    # agent1's call ends at ~22 s: the first waiting caller is offered to agent1 …
    assert answered_by(first) == "agent1"
    assert answered_by(second) == ""
    whispers = [h for h in first.of(Heard) if h.content == "サポート窓口のお電話です。"]
    assert [h.call_sid for h in whispers] != [first.call_sid]  # said to the agent's leg
    assert len(whispers) == 1
    # … and when that call ends, the second one (nobody else is free).
    centre.sim.run(until=80)
    assert answered_by(second) == "agent1"
    assert left_queue(second) == ["redirected"]
    assert centre.record(first.call_sid)["outcome"] == "answered"


VIP_NUMBER = "+81312340000"
VIP_FLOW = """
[flow]
name = "vip"
entry = "queue"

[nodes.queue]
kind = "group"
group = "support"
priority = 5
"""


def test_a_priority_caller_is_offered_before_callers_who_waited_longer(app, sign_in):
    """A flow's group node with a priority puts its callers ahead in the same queue, and
    their long wait is not mistaken for a time-out (the priority is not a waiting time)."""
    from connector.flows import store as flow_store

    behaviour = {"agent1": {"answer_after": 1, "hangup_after": 20},
                 "agent2": {"answer_after": 1, "hangup_after": 300},
                 "agent3": {"answer_after": 1, "hangup_after": 300}}
    centre = Centre(app, sign_in, {"strategy": "longest_idle", "max_wait_seconds": 300},
                    behaviour)
    with db.get_engine(app).begin() as conn:
        flow_store.import_flow(conn, VIP_FLOW, now=clock.now(app))
        numbers.save_number(conn, VIP_NUMBER, NumberChanges(
            label="VIP", route=Route.parse("flow:vip"), fallback=Route.parse("voicemail")),
            now=clock.now(app))
    centre.service.sync_numbers()
    centre.keep_everyone_talking()
    ordinary = centre.call(10, hangup_after=200)
    centre.sim.run(until=9)
    vip = centre.sim.place_inbound_call("+819099990000", VIP_NUMBER,
                                        caller=CallerScript(hangup_after=200))
    centre.sim.run(until=40)
    # agent1 is free at ~22 s: the VIP caller, who came second, goes first.
    assert answered_by(vip) == "agent1"
    assert answered_by(ordinary) == ""
    centre.sim.run(until=80)
    assert answered_by(ordinary) == "agent1"
    assert [left_queue(t) for t in (vip, ordinary)] == [["redirected"], ["redirected"]]
    assert centre.record(vip.call_sid)["outcome"] == "answered"
