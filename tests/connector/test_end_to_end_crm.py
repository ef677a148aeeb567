"""End to end through the real app: a known caller rings, the agent's browser receives the
customer as <Parameter>s, the agent wraps up, and the call lands in the customer's history.

Twilio is played by the simulator (signed webhooks, TwiML executed, status callbacks); the CRM is
the built-in one; the write-back runs as the worker would run it.
"""

import json
from datetime import datetime

from connector import create_app, crm, db, sync
from connector.voice import attach_simulator, webhook_auth_token
from tests.conftest import app_config
from tests.connector.crm_fixtures import run_jobs
from tests.connector.voice.conftest import BASE, SIMULATOR_ACCOUNT_SID, START, VoiceEnv
from voice.simulator import Simulator, WSGITransport

OUR_NUMBER = "+815012345678"


class Agent:
    """The agent's browser: notes what the incoming call carried, answers, talks 30 s."""

    def __init__(self) -> None:
        self.parameters: dict[str, str] = {}

    def ring(self, call) -> None:  # noqa: ANN001 — the simulator's RingingCall
        self.parameters = dict(call.parameters)
        call.later(2, lambda: call.answer())
        call.later(32, lambda: call.hangup())


def real_env(tmp_path, database_url, redis_url) -> VoiceEnv:
    holder: dict[str, Simulator] = {}

    def sim_clock() -> datetime:
        sim = holder.get("sim")
        return sim.wall_time(sim.now()) if sim else START

    app = create_app(app_config(tmp_path, database_url, redis_url,
                                crm={"adapters": ["builtin"], "writeback_delay_seconds": 0}),
                     clock=sim_clock)
    sim = Simulator(SIMULATOR_ACCOUNT_SID, webhook_auth_token(app), WSGITransport(app, BASE),
                    start_time=START)
    holder["sim"] = sim
    attach_simulator(app, sim)
    return VoiceEnv(app, sim, handoffs=None, crm=crm.get_layer(app))  # the real layers


def test_known_caller_pops_and_the_wrapped_up_call_lands_in_their_history(tmp_path,
                                                                          database_url,
                                                                          redis_url):
    env = real_env(tmp_path, database_url, redis_url)
    env.add_agent("boss", role="supervisor", available=False)
    env.add_agent("agent1")
    env.add_number(OUR_NUMBER, "agent:agent1", label="サポート窓口")
    boss = env.login("boss")
    client = env.app.test_client()
    created = client.post("/api/crm/customers", headers=boss, json={
        "name": "山田 太郎", "company": "山田商事株式会社",
        "phones": [{"number": "090-1234-5678", "label": "携帯"}]})
    assert created.status_code == 201, created.get_json()
    customer_id = created.get_json()["customer"]["id"]
    layer = crm.get_layer(env.app)
    report = sync.sync_adapter(layer.engine, layer.adapters["builtin"], now=env.app.extensions[
        "cti.clock"])
    assert report.stats.numbers == 1  # the caller is in the local index: no lookup on ringing

    agent = Agent()
    env.sim.on_client("agent1", agent)
    call = env.sim.place_inbound_call("+819012345678", OUR_NUMBER)
    env.sim.run_until_idle()

    assert call.answered_by == "client:agent1"
    params = agent.parameters
    assert params["cti_parent_call_sid"] == call.call_sid
    assert params["cti_caller_name"] == "山田 太郎"
    assert params["cti_caller_company"] == "山田商事株式会社"
    assert params["cti_number_label"] == "サポート窓口"
    (match,) = json.loads(params["cti_matches"])
    assert match["adapter"] == "builtin" and match["id"] == str(customer_id)

    wrapup = client.post(f"/api/calls/{params['cti_parent_call_sid']}/wrapup",
                         headers=env.login("agent1"),
                         json={"disposition": "対応完了", "notes": "請求書を再送する"})
    assert wrapup.status_code == 200, wrapup.get_json()
    run_jobs(env.app)

    history = client.get(f"/api/crm/customers/{customer_id}/calls", headers=boss).get_json()
    (logged,) = history["calls"]
    assert logged["call_sid"] == call.call_sid
    assert logged["direction"] == "inbound" and logged["notes"] == "請求書を再送する"
    assert logged["disposition"] == "対応完了" and logged["talk_seconds"] == 30
    db.get_engine(env.app).dispose()
