"""The demo number of a fresh embedded install."""

from connector import db
from connector.softphone.demo import OUR_NUMBER, create_demo_number
from connector.voice import numbers
from tests.connector.test_auth import add_agent

TWILIO = {"account_sid": "AC" + "7" * 32, "auth_token": "t" * 32,
          "api_key_sid": "SK" + "7" * 32, "api_key_secret": "s" * 32,
          "twiml_app_sid": "AP" + "7" * 32}


def test_demo_number_rings_the_demo_agent_who_may_call_from_it(app):
    agent = add_agent(app, username="agent1")
    assert create_demo_number(app) == OUR_NUMBER
    with db.get_engine(app).connect() as conn:
        number = numbers.get_number(conn, OUR_NUMBER)
        assert str(number.route) == "agent:agent1"
        assert str(number.fallback) == "voicemail"
        assert [c.e164 for c in numbers.caller_ids(conn, agent.id)] == [OUR_NUMBER]
    assert create_demo_number(app) is None  # only once, on a fresh install


def test_no_demo_number_without_the_demo_agent_or_with_twilio(make_app):
    assert create_demo_number(make_app()) is None
    with_twilio = make_app(twilio=TWILIO)
    add_agent(with_twilio, username="agent1")
    assert create_demo_number(with_twilio) is None
