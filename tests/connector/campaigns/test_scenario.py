"""Scenario: a 500-contact progressive campaign, 5 agents, mixed callees, in virtual time.

The whole campaign runs through the simulator and the real webhooks, over a window of
Friday 09:00–09:40 JST that closes for the weekend and the holiday (Monday 2026-11-23,
勤労感謝の日) and opens again on Tuesday. Checked afterwards: every contact is final, no
agent was ever rung for two calls at once, no call started outside the window, the attempt
limit and the retry delays hold exactly, recalls rang the agent who asked at their time, and
abandoned calls were measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from connector import db
from connector.campaigns import get_service, store
from connector.schema import campaign_attempts, campaign_contacts
from tests.connector.campaigns.conftest import CampaignEnv
from voice.campaigns import window
from voice.campaigns.settings import parse_settings
from voice.simulator import CallerScript

AGENTS = ("agent1", "agent2", "agent3", "agent4", "agent5")
CONTACTS = 500
LIMIT = 10.0 ** 7
SETTINGS = {"mode": "progressive", "agents": list(AGENTS), "max_attempts": 3,
            "retry_minutes": {"busy": 10, "no_answer": 30, "abandoned": 5},
            "ring_seconds": 25, "agent_ring_seconds": 10,
            "window": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00",
                       "end": "09:40"}}


@dataclass
class Callee:
    """Behaves as its ``plan`` says on each successive ring: ``answer``, ``busy``, ``none``."""

    plan: list[str]
    talk: float
    rings: int = 0

    def ring(self, call: Any) -> None:
        step = self.plan[min(self.rings, len(self.plan) - 1)]
        self.rings += 1
        if step == "busy":
            call.later(0.0, call.busy)
        elif step == "answer":
            call.later(4.0, lambda: call.answer(CallerScript(hangup_after=self.talk)))


@dataclass
class Browser:
    """An agent's softphone: answers after a second (``miss`` rings are left ringing) and
    remembers when each ring started and its call ended."""

    sim: Any
    miss: set[int] = field(default_factory=set)
    rings: list[list[float]] = field(default_factory=list)

    def ring(self, call: Any) -> None:
        entry = [self.sim.now(), -1.0]
        self.rings.append(entry)
        call.on_end(lambda _status: entry.__setitem__(1, self.sim.now()))
        if len(self.rings) not in self.miss:
            call.later(1.0, call.answer)


def plan_of(index: int) -> list[str]:
    kind = index % 10
    return {5: ["busy"], 6: ["none"], 7: ["busy", "answer"],
            8: ["none", "busy", "answer"]}.get(kind, ["answer"])


def test_500_contacts_5_agents_progressive(campaign_env: CampaignEnv):
    env, sim = campaign_env, campaign_env.sim
    agents = {name: env.voice.add_agent(name) for name in AGENTS}
    browsers = {name: sim.on_client(name, Browser(sim, miss={2} if name == "agent5" else set()))
                for name in AGENTS}
    numbers = [f"+8190{10_000_000 + i}" for i in range(CONTACTS)]
    callees = {}
    for index, e164 in enumerate(numbers):
        callees[e164] = sim.on_number(e164, Callee(plan_of(index), 15 + index % 7 * 5))
    campaign = env.create(**SETTINGS)
    csv = "電話番号,氏名\n" + "".join(f"0{n[3:]},顧客{i}\n" for i, n in enumerate(numbers))
    answer = env.upload(campaign["id"], csv.encode("cp932"))
    assert answer.get_json()["imported"] == CONTACTS
    assert env.action(campaign["id"], "start").status_code == 200
    recall_of = run_campaign(env, campaign["id"], numbers,
                             {agents[name].id: name for name in AGENTS})

    settings = parse_settings(SETTINGS | {"caller_id": "+81312345678"})
    calendar = get_service(env.app).calendar
    with db.get_engine(env.app).connect() as conn:
        contacts = {r.e164: r for r in conn.execute(select(campaign_contacts))}
        attempts = list(conn.execute(select(campaign_attempts).order_by(campaign_attempts.c.id)))
    # Every contact is final.
    assert {c.state for c in contacts.values()} == {"done"}
    # No call outside the window (Friday morning, then Tuesday: not the weekend, not 11/23).
    days = set()
    for attempt in attempts:
        assert window.is_open(settings.window, attempt.started_at, calendar), attempt
        days.add(attempt.started_at.astimezone(window.JST).date().isoformat())
    assert {"2026-11-20", "2026-11-24"} <= days  # Friday, then Tuesday (and on)
    assert not days & {"2026-11-21", "2026-11-22", "2026-11-23"}  # weekend, 勤労感謝の日
    # Every attempt with a call is one call of the simulator: nothing was dialed behind it.
    api_calls = [t for t in sim.transcripts if t.description.startswith("API call")]
    assert len(api_calls) == len([a for a in attempts if a.call_sid]) == len(attempts)
    # No agent rung with two calls: each browser's rings never overlap.
    for name, browser in browsers.items():
        spans = sorted(browser.rings)
        assert all(end >= 0 for _, end in spans), name
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end, f"{name} rang for a second call at {start} before {end}"
    # Callees that never connect were dialed exactly max_attempts times, at their delays.
    by_contact: dict[int, list[Any]] = {}
    for attempt in attempts:
        by_contact.setdefault(attempt.contact_id, []).append(attempt)
    for index, e164 in enumerate(numbers):
        contact, tries = contacts[e164], by_contact[contacts[e164].id]
        assert [t.number for t in tries] == list(range(1, len(tries) + 1))
        assert len(tries) == contact.attempts == callees[e164].rings
        for earlier, later in zip(tries, tries[1:], strict=False):
            delay = settings.retry_delay(earlier.result)
            if delay is not None:
                assert later.started_at >= earlier.ended_at + timedelta(minutes=delay)
        if plan_of(index) == ["busy"]:
            assert [t.result for t in tries] == ["busy"] * 3 and contact.result == "busy"
        elif plan_of(index) == ["none"]:
            assert [t.result for t in tries] == ["no_answer"] * 3
        elif contact.result in ("busy", "no_answer", "abandoned", "error"):
            assert len(tries) == settings.max_attempts  # gave up only when attempts ran out
        else:
            assert contact.result in ("success", "considering")
    # Recalls rang the agent who asked for them, not before their time.
    assert recall_of
    for contact_id, (agent_id, due) in recall_of.items():
        recall_try = by_contact[contact_id][-1]
        assert recall_try.agent_id == agent_id and recall_try.started_at >= due
        assert recall_try.result == "connected"
    # Abandoned calls (agent5 missed a ring) are measured.
    admin = env.voice.login("boss")  # days have passed in virtual time
    stats = env.client().get(f"/api/campaigns/{campaign['id']}/stats", headers=admin
                             ).get_json()
    assert stats["campaign"]["abandoned"] >= 1 and stats["campaign"]["abandoned_rate"] > 0
    assert stats["campaign"]["remaining"] == 0
    assert sum(a["attempts"] for a in stats["agents"]) == len(attempts)
    assert {a["username"] for a in stats["agents"]} == set(AGENTS)


def run_campaign(env: CampaignEnv, campaign_id: int, numbers: list[str],
                 names: dict[int, str]) -> dict[int, tuple[int, Any]]:
    """Tick every 5 s; agents enter results; jump over closed hours. Returns the recalls set:
    contact → (agent, due)."""
    sim, app = env.sim, env.app
    tokens = {agent_id: env.voice.login(name) for agent_id, name in names.items()}
    settings = parse_settings(SETTINGS | {"caller_id": "+81312345678"})
    recall_index = {n: i for i, n in enumerate(numbers) if i % 20 == 9}
    recall_of: dict[int, tuple[int, Any]] = {}
    calendar = get_service(app).calendar
    for _ in range(20_000):
        env.tick()
        with db.get_engine(app).connect() as conn:
            wrapups = store.contacts(conn, campaign_id, state="wrapup", limit=100)
            open_count = store.open_count(conn, campaign_id)
            dialing = store.in_flight(conn, campaign_id)
        for row in wrapups:
            body: dict[str, Any] = {"result": "success"}
            if row.e164 in recall_index and row.id not in recall_of:
                body = {"result": "considering", "recall": {"after": "10m"}}
                recall_of[row.id] = (row.owner_agent_id, env.voice.now + timedelta(minutes=10))
            url = f"/api/campaigns/contacts/{row.id}/result"
            answer = env.client().post(url, json=body, headers=tokens[row.owner_agent_id])
            if answer.status_code == 401:  # the access token ran out in virtual time
                tokens[row.owner_agent_id] = env.voice.login(names[row.owner_agent_id])
                answer = env.client().post(url, json=body, headers=tokens[row.owner_agent_id])
            assert answer.status_code == 200, answer.get_json()
        if not open_count:
            return recall_of
        now = env.voice.now
        if not dialing and not wrapups and not window.is_open(settings.window, now, calendar):
            opening = window.next_opening(settings.window, now, calendar)
            sim.run(until=(opening - sim.start_time).total_seconds(), limit=LIMIT)
        else:
            sim.run(until=sim.now() + 5, limit=LIMIT)
    raise AssertionError("the campaign did not finish")
