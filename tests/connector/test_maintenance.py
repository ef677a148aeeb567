"""The worker's maintenance round."""

from sqlalchemy import update

from connector import db, maintenance, presence
from connector.schema import agent_presence
from tests.connector.test_auth import add_agent


def test_agents_whose_softphone_went_away_are_offered_no_calls(make_app, redis_url, clock):
    app = make_app(redis_url=redis_url)
    gone, here = add_agent(app, username="gone1"), add_agent(app, username="here1")
    with db.get_engine(app).begin() as conn:
        for agent in (gone, here):
            presence.set_status(conn, agent.id, "available", now=clock())
            conn.execute(update(agent_presence).where(agent_presence.c.agent_id == agent.id)
                         .values(device_id=f"dev-{agent.id}", device_seen_at=clock()))
    clock.advance(seconds=61)  # three 20-s heartbeats missed …
    with db.get_engine(app).begin() as conn:  # … by one of them only
        conn.execute(update(agent_presence).where(agent_presence.c.agent_id == here.id)
                     .values(device_seen_at=clock()))
    result = maintenance.run_once(app)
    assert result["offline"] == 1
    with db.get_engine(app).connect() as conn:
        assert presence.available_agents(conn, [gone.id, here.id]) == [here.id]
        assert presence.get(conn, gone.id).status == "offline"


def test_only_one_worker_runs_a_round(make_app, redis_url):
    app = make_app(redis_url=redis_url)
    assert "sweep" in maintenance.run_once(app)
    assert "another worker" in maintenance.run_once(app)["skipped"]
