"""Agent presence: statuses routing relies on."""

import pytest

from connector import db, presence
from tests.connector.test_auth import add_agent


def test_presence_defaults_to_offline_and_tracks_changes(any_db_app, clock):
    agent = add_agent(any_db_app)
    with db.get_engine(any_db_app).begin() as conn:
        assert presence.get(conn, agent.id).status == "offline"
        first = presence.set_status(conn, agent.id, "available", now=clock())
        clock.advance(minutes=5)
        same = presence.set_status(conn, agent.id, "available", now=clock())
        assert same.since == first.since  # unchanged status keeps its start time
        changed = presence.set_status(conn, agent.id, "acw", now=clock())
        assert changed.since == clock()
        assert presence.get(conn, agent.id).status == "acw"


def test_only_available_active_agents_are_offered_calls(any_db_app, clock):
    ids = [add_agent(any_db_app, username=f"agent{i}").id for i in range(4)]
    with db.get_engine(any_db_app).begin() as conn:
        presence.set_status(conn, ids[0], "available", now=clock())
        presence.set_status(conn, ids[1], "away", now=clock())
        presence.set_status(conn, ids[3], "available", now=clock())
    with db.get_engine(any_db_app).begin() as conn:
        from connector.auth import accounts

        accounts.set_active(conn, accounts.get_agent(conn, ids[3]), False, clock())
        assert presence.available_agents(conn, list(reversed(ids))) == [ids[0]]


def test_invalid_status_named(app, clock):
    agent = add_agent(app)
    with db.get_engine(app).begin() as conn, pytest.raises(presence.PresenceError,
                                                           match="status: unknown status"):
        presence.set_status(conn, agent.id, "lunch", now=clock())
