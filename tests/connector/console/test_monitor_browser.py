"""The board's monitoring controls in headless Chromium: a supervisor listens to an agent's
call, whispers, barges in and stops, with the simulator saying who hears whom at each step.

The screenshot docs/images/console-monitor.png (docs/voice.md "Monitoring") is taken here.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from twilio.rest import Client

from connector import db
from connector.acd import groups as acd_groups
from connector.schema import audit_log, monitor_sessions
from connector.softphone import twilio_rest
from connector.voice import groups
from tests.connector.voice.conftest import NUMBER, make_env
from voice.simulator import CallerScript, answers

from .test_browser import VOICE_PASSWORD, chromium, console_factory, shot  # noqa: F401

pytestmark = pytest.mark.browser


def _pressed(page, agent: str) -> str:
    return page.evaluate(
        "(a) => [...document.querySelectorAll(`#agents-table tr[data-agent=\"${a}\"] "
        ".monitor-controls button[aria-pressed=\"true\"]`)].map(b => b.dataset.mode).join()",
        agent)


def test_monitor_whisper_barge_stop_from_the_board(tmp_path, sqlite_url, redis_url,
                                                   console_factory):  # noqa: F811
    env = make_env(tmp_path, sqlite_url, queue={"redis_url": redis_url})
    sim = env.sim
    twilio_rest.set_rest_client_factory(env.app, lambda: Client(
        sim.account_sid, sim.signing_key(), http_client=sim.http_client()))
    for name in ("ito", "kato"):
        env.add_agent(name)
    env.add_agent("boss", role="supervisor", available=False)
    with db.get_engine(env.app).begin() as conn:
        groups.save_group(conn, "support", display_name="サポート", members=["ito", "kato"],
                          now=env.now)
        acd_groups.configure(conn, "support", settings={"strategy": "round_robin",
                                                        "bridge": "conference"})
    env.add_number(NUMBER, "group:support")
    sim.on_client("ito", answers(after=1))
    sim.on_client("kato", answers(after=1))
    supervisor_phone = sim.on_client("boss", answers(after=1))
    call = sim.place_inbound_call("+819012345678", NUMBER, caller=CallerScript(hangup_after=600))
    sim.run(until=sim.now() + 10)
    conference = sim.conferences.find(call.call_sid)
    assert conference is not None and conference.started
    agent_leg = next(p.leg.sid for p in conference.participants if p.leg.sid != call.call_sid)
    agent = sim.legs[agent_leg].to.removeprefix("client:")

    console = console_factory(env.app)
    page = console.sign_in(console.page(), "boss", VOICE_PASSWORD, path="/console/board")
    console.signed_in(page)
    row = f'#agents-table tr[data-agent="{agent}"]'
    page.wait_for_selector(f'{row} .monitor-controls button[data-mode="monitor"]')
    idle = "kato" if agent == "ito" else "ito"
    assert page.locator(f'#agents-table tr[data-agent="{idle}"] .monitor-controls button'
                        ).count() == 0  # not on a call: nothing to listen to

    page.click(f'{row} button[data-mode="monitor"]')
    page.wait_for_selector(f'{row} button[data-mode="monitor"][aria-pressed="true"]')
    sim.run(until=sim.now() + 5)  # the supervisor's softphone rings and answers
    leg = supervisor_phone.rung[0].call_sid
    assert set(sim.speak(leg, "確認します")) == set()
    assert set(sim.speak(call.call_sid, "もしもし")) == {agent_leg, leg}

    page.click(f'{row} button[data-mode="whisper"]')
    page.wait_for_selector(f'{row} button[data-mode="whisper"][aria-pressed="true"]')
    assert sim.speak(leg, "住所を確認してください") == [agent_leg]  # the customer hears nothing
    assert _pressed(page, agent) == "whisper"
    shot(page, "console-monitor", docs=True)

    page.click(f'{row} button[data-mode="barge"]')
    page.wait_for_selector(f'{row} button[data-mode="barge"][aria-pressed="true"]')
    assert set(sim.speak(leg, "代わります")) == {call.call_sid, agent_leg}

    page.click(f'{row} button[data-mode="stop"]')
    page.wait_for_selector(f'{row} button[data-mode="stop"]', state="detached")
    sim.run(until=sim.now() + 5)
    assert not sim.legs[leg].alive
    assert _pressed(page, agent) == ""
    with db.get_engine(env.app).connect() as conn:
        modes = [(r.mode, r.end_reason) for r in conn.execute(
            select(monitor_sessions).order_by(monitor_sessions.c.id))]
        audited = [r.action for r in conn.execute(select(audit_log).where(
            audit_log.c.action.startswith("monitor.")).order_by(audit_log.c.id))]
    assert modes == [("monitor", "switched"), ("whisper", "switched"), ("barge", "stopped")]
    assert audited == ["monitor.start", "monitor.mode", "monitor.mode", "monitor.stop"]
