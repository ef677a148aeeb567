"""Supervisor monitor / whisper / barge (CF-11) through the simulator and the real webhooks:
the conference bridge, who hears whom in each mode, the record and audit log, the API's refusals.
"""

from __future__ import annotations

from sqlalchemy import select

from connector import db, presence
from connector.schema import audit_log, calls, monitor_sessions
from tests.connector.console.conftest import ConsoleUser
from tests.connector.test_auth import console_cookie
from voice.simulator.transcript import Heard

from .test_acd_calls import AGENTS, Centre

CONFERENCE = {"strategy": "round_robin", "bridge": "conference", "whisper": "{group}のお電話です。"}


class Supervisor(ConsoleUser):
    def send(self, method: str, path: str, json=None):
        if not self.csrf:
            self.get("/console/history")
        return self.client.open(path, method=method, json=json,
                                headers={"X-CSRF-Token": self.csrf})


def _setup(app, sign_in, settings=CONFERENCE, **caller):
    talks = {name: {"answer_after": 1} for name in AGENTS}
    centre = Centre(app, sign_in, settings, talks)
    supervisor = Supervisor(app, "sv1", "supervisor")
    browser = centre.sim.on_client("sv1", answer_after=1)
    transcript = centre.call(seconds=10, **caller)
    agent = next(n for n, b in centre.browsers.items() if b.rung)
    return centre, supervisor, browser, transcript, agent


def _agent_id(centre, name):
    return centre.agents[name].agent.id


def _hearers(centre, sid):
    return set(centre.sim.speak(sid, "テスト"))


def test_monitor_whisper_barge_stop_and_who_hears_whom(app, sign_in):
    centre, supervisor, browser, t, agent = _setup(app, sign_in, hangup_after=200)
    customer = t.call_sid
    agent_leg = centre.browsers[agent].rung[0].call_sid
    conference = centre.sim.conferences.find(customer)
    assert conference is not None and conference.started  # bridged through a conference
    assert {p.leg.sid for p in conference.participants} == {customer, agent_leg}
    # The group's whisper was said to the agent only, on entering the conference.
    assert "サポート窓口のお電話です。" in [e.content for e in t.of(Heard, agent_leg)]
    assert "サポート窓口のお電話です。" not in t.heard
    assert _hearers(centre, customer) == {agent_leg}

    started = supervisor.send("POST", "/console/api/monitor",
                              {"agent_id": _agent_id(centre, agent), "mode": "monitor"})
    assert started.status_code == 201, started.get_json()
    leg = started.get_json()["session"]
    centre.sim.run(until=centre.sim.now() + 5)
    assert len(browser.rung) == 1 and browser.rung[0].call_sid == leg
    assert _hearers(centre, leg) == set()  # monitor: nobody hears the supervisor
    assert _hearers(centre, customer) == {agent_leg, leg}
    assert _hearers(centre, agent_leg) == {customer, leg}

    assert supervisor.send("PATCH", f"/console/api/monitor/{leg}",
                           {"mode": "whisper"}).status_code == 200
    assert _hearers(centre, leg) == {agent_leg}  # whisper: the agent only, never the customer
    assert _hearers(centre, customer) == {agent_leg, leg}

    assert supervisor.send("PATCH", f"/console/api/monitor/{leg}",
                           {"mode": "barge"}).status_code == 200
    assert _hearers(centre, leg) == {customer, agent_leg}  # barge: both

    mine = supervisor.get("/console/api/monitor").get_json()["sessions"]
    assert [(s["session"], s["mode"], s["call_sid"]) for s in mine] == [(leg, "barge", customer)]

    assert supervisor.send("DELETE", f"/console/api/monitor/{leg}").status_code == 200
    centre.sim.run(until=centre.sim.now() + 5)
    assert centre.sim.legs[leg].status == "completed"
    assert _hearers(centre, customer) == {agent_leg}  # the call goes on without them

    with db.get_engine(app).connect() as conn:
        rows = conn.execute(select(monitor_sessions).order_by(monitor_sessions.c.id)).all()
        actions = [r.action for r in conn.execute(select(audit_log).where(
            audit_log.c.action.startswith("monitor.")).order_by(audit_log.c.id))]
    assert [(r.mode, r.end_reason, r.supervisor, r.call_sid, r.agent_id) for r in rows] == [
        ("monitor", "switched", "sv1", customer, _agent_id(centre, agent)),
        ("whisper", "switched", "sv1", customer, _agent_id(centre, agent)),
        ("barge", "stopped", "sv1", customer, _agent_id(centre, agent))]
    assert all(r.ended_at is not None and r.ended_at >= r.started_at for r in rows)
    assert rows[0].joined_from == "client:sv1"
    assert actions == ["monitor.start", "monitor.mode", "monitor.mode", "monitor.stop"]


def test_the_customer_hanging_up_ends_the_supervisors_leg_and_the_call_as_usual(app, sign_in):
    centre, supervisor, browser, t, agent = _setup(app, sign_in, hangup_after=40)
    started = supervisor.send("POST", "/console/api/monitor",
                              {"agent_id": _agent_id(centre, agent), "mode": "whisper"})
    assert started.status_code == 201, started.get_json()
    leg = started.get_json()["session"]
    centre.sim.run(until=centre.sim.now() + 60)
    assert centre.sim.legs[leg].status == "completed"
    assert t.final_status == "completed" and t.duration == 38  # answered at 2 s, gone at 40
    with db.get_engine(app).connect() as conn:
        row = conn.execute(select(monitor_sessions)).one()
        record = conn.execute(select(calls).where(calls.c.call_sid == t.call_sid)).one()
        status = presence.get(conn, _agent_id(centre, agent)).status
    assert (row.mode, row.end_reason) == ("whisper", "call_ended") and row.ended_at is not None
    assert record.answered_at is not None and record.ended_at is not None
    assert record.agent_id == _agent_id(centre, agent)
    assert status in ("acw", "available")  # presence followed the agent's leg as ever


def test_the_agent_hanging_up_ends_the_conference_and_the_call(app, sign_in):
    talks = {name: {"answer_after": 1, "hangup_after": 20} for name in AGENTS}
    centre = Centre(app, sign_in, {**CONFERENCE, "acw_seconds": 30}, talks)
    t = centre.call(seconds=60, hangup_after=300)
    agent = next(n for n, b in centre.browsers.items() if b.rung)
    assert t.final_status == "completed" and 20 <= t.duration <= 25
    assert centre.status(agent) == "acw"
    assert centre.sim.conferences.find(t.call_sid).ended.triggered


def test_refusals_name_the_field(app, sign_in):
    centre, supervisor, _, t, agent = _setup(app, sign_in, hangup_after=200)
    idle = next(n for n in AGENTS if n != agent)

    def start(body):
        response = supervisor.send("POST", "/console/api/monitor", body)
        return response.status_code, response.get_json()["error"]["details"]["fields"]

    status, fields = start({"agent_id": 99999, "mode": "monitor"})
    assert status == 404 and "agent_id" in fields
    status, fields = start({"agent_id": _agent_id(centre, agent), "mode": "shout"})
    assert status == 422 and "mode" in fields
    status, fields = start({"agent_id": _agent_id(centre, agent), "mode": "monitor",
                            "phone": "090-1234"})
    assert status == 422 and "phone" in fields
    status, fields = start({"agent_id": _agent_id(centre, idle), "mode": "monitor"})
    assert status == 409 and "not on a call" in fields["agent_id"]
    response = supervisor.send("PATCH", "/console/api/monitor/CA" + "0" * 32, {"mode": "barge"})
    assert response.status_code == 404 and "session" in response.get_json()["error"]["details"][
        "fields"]


def test_a_call_bridged_with_dial_cannot_be_monitored(app, sign_in):
    centre, supervisor, _, t, agent = _setup(app, sign_in, {"strategy": "round_robin"},
                                             hangup_after=200)
    assert centre.sim.conferences.find(t.call_sid) is None
    response = supervisor.send("POST", "/console/api/monitor",
                               {"agent_id": _agent_id(centre, agent), "mode": "monitor"})
    assert response.status_code == 409
    assert "conference" in response.get_json()["error"]["details"]["fields"]["call_sid"]


def test_agents_get_403(app, sign_in):
    centre, _, _, t, agent = _setup(app, sign_in, hangup_after=200)
    other = Supervisor(app, "agent9", "agent")
    assert other.session_response.status_code == 403  # no console cookie for agents
    # Even with a validly signed console cookie, the role check refuses.
    other.client.set_cookie("cti_console", console_cookie(app, other.client, "agent9"),
                            path="/console")
    for method, path in (("POST", "/console/api/monitor"), ("GET", "/console/api/monitor"),
                         ("PATCH", "/console/api/monitor/CA1"),
                         ("DELETE", "/console/api/monitor/CA1")):
        response = other.client.open(path, method=method, headers={"X-CSRF-Token": "x"},
                                     json={"agent_id": _agent_id(centre, agent),
                                           "mode": "monitor"})
        assert response.status_code == 403, (method, path)
    with db.get_engine(app).connect() as conn:
        assert conn.execute(select(monitor_sessions)).all() == []


def test_hold_and_resume_work_on_a_conference_bridged_call(app, sign_in):
    centre, supervisor, _, t, agent = _setup(app, sign_in, hangup_after=300)
    agent_leg = centre.browsers[agent].rung[0].call_sid
    softphone = centre.agents[agent]
    assert softphone.post(f"/api/calls/{t.call_sid}/hold").status_code == 200
    centre.sim.run(until=centre.sim.now() + 5)
    assert not centre.sim.legs[agent_leg].alive  # leaving ended the conference, as a bridge
    assert centre.sim.legs[t.call_sid].alive and centre.status(agent) == "hold"
    assert centre.sim.conferences.find(t.call_sid).ended.triggered
    resume = softphone.post(f"/api/calls/{t.call_sid}/unhold").get_json()
    browser_call = centre.sim.place_client_call(agent, resume["connect_params"])
    centre.sim.run(until=centre.sim.now() + 5)
    assert centre.sim.speak(t.call_sid, "もしもし") == [browser_call.call_sid]
    # Resumed through <Dial><Queue>: no conference, so it can no longer be monitored.
    refused = supervisor.send("POST", "/console/api/monitor",
                              {"agent_id": _agent_id(centre, agent), "mode": "monitor"})
    assert refused.status_code == 409
    centre.sim.party_hangup(centre.sim.legs[browser_call.call_sid])
    centre.sim.run(until=centre.sim.now() + 5)
    assert t.final_status == "completed"
    with db.get_engine(app).connect() as conn:
        record = conn.execute(select(calls).where(calls.c.call_sid == t.call_sid)).one()
    assert record.finalized_at is not None


def test_a_cold_transfer_moves_the_caller_out_of_the_conference(app, sign_in):
    centre, _, _, t, agent = _setup(app, sign_in, hangup_after=300)
    other = next(n for n in AGENTS if n != agent)
    response = centre.agents[agent].post(f"/api/calls/{t.call_sid}/transfer", json={
        "mode": "cold", "target": {"kind": "agent", "value": other}})
    assert response.status_code == 200, response.get_json()
    centre.sim.run(until=centre.sim.now() + 10)
    target = centre.browsers[other].rung[-1]
    assert centre.sim.legs[target.call_sid].answered_at is not None
    assert centre.sim.speak(t.call_sid, "もしもし") == [target.call_sid]
    assert centre.status(agent) in ("acw", "available")
    assert centre.status(other) == "on_call"


def test_stopping_while_the_supervisors_phone_rings_stops_the_ringing(app, sign_in):
    centre, supervisor, _, t, agent = _setup(app, sign_in, hangup_after=300)
    ringing = centre.sim.on_client("sv1", answer_after=None)
    started = supervisor.send("POST", "/console/api/monitor",
                              {"agent_id": _agent_id(centre, agent), "mode": "barge"})
    leg = started.get_json()["session"]
    centre.sim.run(until=centre.sim.now() + 3)
    assert ringing.rung and centre.sim.legs[leg].answered_at is None
    switched = supervisor.send("PATCH", f"/console/api/monitor/{leg}", {"mode": "monitor"})
    assert switched.status_code == 409  # not in the conference yet: nothing to switch
    assert "session" in switched.get_json()["error"]["details"]["fields"]
    assert supervisor.send("DELETE", f"/console/api/monitor/{leg}").status_code == 200
    centre.sim.run(until=centre.sim.now() + 3)
    assert not centre.sim.legs[leg].alive
    assert centre.sim.legs[t.call_sid].alive  # the call itself goes on
    with db.get_engine(app).connect() as conn:
        row = conn.execute(select(monitor_sessions)).one()
    assert (row.mode, row.end_reason) == ("barge", "stopped")


def test_a_recorded_number_records_the_conference_on_the_call_record(app, sign_in):
    from connector import clock
    from connector.voice import numbers
    from connector.voice.numbers import NumberChanges

    from .test_acd_calls import OUR_NUMBER

    talks = {name: {"answer_after": 1, "hangup_after": 30} for name in AGENTS}
    centre = Centre(app, sign_in, CONFERENCE, talks)
    with db.get_engine(app).begin() as conn:
        numbers.save_number(conn, OUR_NUMBER, NumberChanges(recording=True), now=clock.now(app))
    t = centre.call(seconds=60, hangup_after=300)
    assert t.final_status == "completed"
    recordings = list(centre.sim.recordings.values())
    assert [(r.call_sid, r.source) for r in recordings] == [(t.call_sid, "Conference")]
    assert 25 <= recordings[0].duration <= 32
    with db.get_engine(app).connect() as conn:
        record = conn.execute(select(calls).where(calls.c.call_sid == t.call_sid)).one()
    assert record.recording_sid == recordings[0].sid


def test_one_supervisor_leg_per_call(app, sign_in):
    centre, supervisor, _, t, agent = _setup(app, sign_in, hangup_after=300)
    body = {"agent_id": _agent_id(centre, agent), "mode": "monitor"}
    assert supervisor.send("POST", "/console/api/monitor", body).status_code == 201
    again = supervisor.send("POST", "/console/api/monitor", body)
    assert again.status_code == 409
    assert "already" in again.get_json()["error"]["details"]["fields"]["agent_id"]
    other = Supervisor(app, "sv2", "admin")  # another supervisor may listen too
    centre.sim.on_client("sv2", answer_after=1)
    assert other.send("POST", "/console/api/monitor", body).status_code == 201
    centre.sim.run(until=centre.sim.now() + 5)
    assert len(centre.sim.conferences.find(t.call_sid).participants) == 4
