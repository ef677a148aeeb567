"""The softphone's API: Twilio tokens, the agent log, recordings."""

import base64
import os
from datetime import timedelta

import jwt
import pytest
import responses

from connector import clock as clock_ext
from connector.voice import get_runtime, signed_recording_url, webhook_auth_token
from tests.connector.test_auth import add_agent, bearer, login
from voice.simulator import CallerScript, RecordInput, answers
from voice.tokens import read_voice_token

from .conftest import CALLER, NUMBER

TWILIO = {"account_sid": "AC" + "a" * 32, "auth_token": "auth-token-value",
          "api_key_sid": "SK" + "b" * 32, "api_key_secret": "k" * 40,
          "twiml_app_sid": "AP" + "c" * 32, "token_ttl": 1800}


def token_for(app, username="agent1"):
    return login(app.test_client(), username).get_json()["access_token"]


def test_token_in_simulator_mode(app):
    add_agent(app)
    response = app.test_client().post("/api/token", headers=bearer(token_for(app)))
    body = response.get_json()
    assert response.status_code == 200
    assert body["mode"] == "simulator" and body["identity"] == "agent1"
    assert body["expires_in"] == 3600 and body["edge"] == "tokyo"
    now = int(clock_ext.now(app).timestamp())
    payload = read_voice_token(body["token"], webhook_auth_token(app), now=now)
    assert payload["grants"]["identity"] == "agent1"
    assert payload["grants"]["voice"]["incoming"] == {"allow": True}


def test_simulator_token_generated_once_into_the_data_directory(app, make_app):
    token_file = app.config["CTI_SETTINGS"].data_dir / "twilio_simulator_token"
    assert oct(os.stat(token_file).st_mode)[-3:] == "600"
    assert webhook_auth_token(make_app()) == webhook_auth_token(app) == (
        token_file.read_text().strip())
    assert len(webhook_auth_token(app)) >= 32
    assert webhook_auth_token(app) not in repr(get_runtime(app))


def test_token_in_twilio_mode(make_app):
    app = make_app(twilio=TWILIO)
    add_agent(app)
    body = app.test_client().post("/api/token", headers=bearer(token_for(app))).get_json()
    assert body["mode"] == "twilio" and body["expires_in"] == 1800
    payload = jwt.decode(body["token"], "k" * 40, algorithms=["HS256"],
                         options={"verify_exp": False, "verify_nbf": False})
    assert payload["iss"] == TWILIO["api_key_sid"] and payload["sub"] == TWILIO["account_sid"]
    assert payload["grants"]["voice"]["outgoing"] == {"application_sid": TWILIO["twiml_app_sid"]}
    assert payload["exp"] - payload["nbf"] == 1800


def test_token_needs_sign_in(app):
    assert app.test_client().post("/api/token").status_code == 401


# --- the agent log ----------------------------------------------------------------------------

def run_calls(env, count, agent="sato", hangup_after=30):
    env.sim.on_client(agent, answers(after=2, hangup_after=hangup_after))
    sids = []
    for _ in range(count):
        call = env.sim.place_inbound_call(CALLER, NUMBER)
        env.sim.run_until_idle()
        sids.append(call.call_sid)
        # The agent's after-call work ([softphone] acw_seconds, 30 s) runs out before the next.
        env.sim.run(until=env.sim.now() + 31)
    return sids


def test_agents_see_their_own_calls_newest_first_with_paging(env):
    env.add_agent("sato")
    env.add_agent("ito")
    env.add_agent("boss", role="supervisor")
    env.add_number(NUMBER, "agent:sato", label="サポート")
    sids = run_calls(env, 3)
    client = env.app.test_client()

    first = client.get("/api/calls?limit=2", headers=env.login("sato")).get_json()
    assert [c["call_sid"] for c in first["calls"]] == sids[::-1][:2]
    second = client.get(f"/api/calls?limit=2&before={first['next_before']}",
                        headers=env.login("sato")).get_json()
    assert [c["call_sid"] for c in second["calls"]] == [sids[0]]
    assert second["next_before"] is None
    call = first["calls"][0]
    assert call["agent"]["username"] == "sato" and call["our_number_label"] == "サポート"
    assert call["customer_display"] == "090-1234-5678" and call["outcome"] == "answered"
    assert call["customer_call_sid"] == call["call_sid"] and call["agent_call_sid"].startswith("CA")
    assert call["final"] is True and call["talk_seconds"] == 30

    assert client.get("/api/calls", headers=env.login("ito")).get_json()["calls"] == []
    assert len(client.get("/api/calls", headers=env.login("boss")).get_json()["calls"]) == 3
    assert client.get("/api/calls?limit=0", headers=env.login("boss")).status_code == 422
    assert client.get("/api/calls?before=yesterday",
                      headers=env.login("boss")).status_code == 422


def test_one_call_with_legs_found_by_any_of_its_call_sids(env):
    env.add_agent("sato")
    env.add_agent("ito")
    env.add_number(NUMBER, "agent:sato")
    [sid] = run_calls(env, 1)
    client = env.app.test_client()
    body = client.get(f"/api/calls/{sid}", headers=env.login("sato")).get_json()["call"]
    leg = body["legs"][0]
    assert leg["leg"] == "agent" and leg["agent"]["username"] == "sato"
    by_leg = client.get(f"/api/calls/{leg['call_sid']}", headers=env.login("sato")).get_json()
    assert by_leg["call"]["call_sid"] == sid  # the browser's own CallSid finds the record
    assert client.get(f"/api/calls/{sid}", headers=env.login("ito")).status_code == 404


def test_missed_calls_that_rang_the_agent_are_in_their_log(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato")
    call = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(hangup_after=5))
    env.sim.run_until_idle()
    calls = env.app.test_client().get("/api/calls", headers=env.login("sato")).get_json()["calls"]
    assert [(c["call_sid"], c["outcome"]) for c in calls] == [(call.call_sid, "missed")]


# --- recordings -------------------------------------------------------------------------------

@pytest.fixture
def recorded(env):
    env.add_agent("sato")
    env.add_agent("ito")
    env.add_number(NUMBER, "voicemail")
    env.sim.place_inbound_call(CALLER, NUMBER,
                               caller=CallerScript(message=RecordInput(seconds=3, end="#")))
    env.sim.run_until_idle()
    sid = env.sim.transcripts[-1].call_sid
    return env, sid


def test_recording_streams_through_the_connector(recorded):
    env, sid = recorded
    client = env.app.test_client()
    auth = _admin(env)
    body = client.get(f"/api/calls/{sid}", headers=auth).get_json()["call"]
    assert body["recording"] == {"duration": 3, "url": f"/api/calls/{sid}/recording"}
    assert "api.twilio.com" not in str(body)
    audio = client.get(f"/api/calls/{sid}/recording", headers=auth)
    assert audio.status_code == 200 and audio.mimetype == "audio/x-wav"
    assert audio.data[:4] == b"RIFF" and len(audio.data) == 44 + 3 * 8000 * 2
    part = client.get(f"/api/calls/{sid}/recording", headers={**auth, "Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100
    assert part.headers["Content-Range"] == f"bytes 0-99/{44 + 48000}"
    assert client.get(f"/api/calls/{sid}/recording", headers=env.login("ito")).status_code == 404


def test_signed_link_works_until_it_expires(recorded):
    env, sid = recorded
    client = env.app.test_client()
    link = client.get(f"/api/calls/{sid}/recording-link",
                      headers=_admin(env)).get_json()
    assert link["expires_in"] == 900 and link["url"].startswith(
        f"https://cti.example.com/recordings/{sid}?exp=")
    path = link["url"].removeprefix("https://cti.example.com")
    assert client.get(path).status_code == 200
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(forged).get_json()["error"]["code"] == "invalid_link"
    with env.app.app_context():
        old = signed_recording_url(sid, 60, now=env.now - timedelta(minutes=2))
    expired = client.get(old.removeprefix("https://cti.example.com"))
    assert expired.status_code == 403 and expired.get_json()["error"]["code"] == "link_expired"


def _admin(env):
    env.add_agent("boss", role="admin")
    return env.login("boss")


def test_simulator_mode_without_a_simulator_says_so(recorded):
    env, sid = recorded
    get_runtime(env.app).media = None  # as in `cti serve` with `cti simulate` in another process
    response = env.app.test_client().get(f"/api/calls/{sid}/recording", headers=_admin(env))
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "recordings_unavailable"


def test_no_recording_is_a_404(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato")
    [sid] = run_calls(env, 1)
    response = env.app.test_client().get(f"/api/calls/{sid}/recording",
                                         headers=env.login("sato"))
    assert response.get_json()["error"]["code"] == "no_recording"


@responses.activate
def test_twilio_mode_fetches_media_with_the_api_key(make_app):
    from connector import db
    from connector.voice import calls as call_store

    app = make_app(twilio=TWILIO)
    add_agent(app, role="admin")
    sid, recording_sid = "CA" + "1" * 32, "RE" + "2" * 32
    now = clock_ext.now(app)
    with db.get_engine(app).begin() as conn:
        call_store.open_call(conn, call_sid=sid, direction="inbound", leg="customer",
                             status="completed", now=now)
        call_store.update_call(conn, sid, now, recording_sid=recording_sid)
    media = (f"https://api.twilio.com/2010-04-01/Accounts/{TWILIO['account_sid']}/Recordings/"
             f"{recording_sid}.wav")
    responses.get(media, body=b"RIFFfake", content_type="audio/x-wav",
                  match=[responses.matchers.header_matcher({"Range": "bytes=4-"})])
    got = app.test_client().get(f"/api/calls/{sid}/recording",
                                headers={**bearer(token_for(app)), "Range": "bytes=4-"})
    assert got.status_code == 200 and got.data == b"RIFFfake"
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(
        f"{TWILIO['api_key_sid']}:{'k' * 40}".encode()).decode()
    responses.replace(responses.GET, media, status=404, json={"code": 20404})
    gone = app.test_client().get(f"/api/calls/{sid}/recording",
                                 headers=bearer(token_for(app)))
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "recording_not_found"


def test_rest_client_reaches_the_attached_simulator(env):
    from connector.voice import rest_client

    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato")
    env.sim.on_client("sato", answers(after=1, hangup_after=5))
    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()
    with env.app.app_context():
        fetched = rest_client().calls(call.call_sid).fetch()
    assert fetched.status == "completed" and fetched.sid == call.call_sid


def test_rest_client_in_twilio_mode_uses_the_api_key_with_a_timeout(make_app, app):
    from connector.voice import rest_client

    with app.app_context():
        assert rest_client() is None  # simulator mode, no simulator in this process
    twilio_app = make_app(twilio=TWILIO)
    with twilio_app.app_context():
        client = rest_client()
    assert client.username == TWILIO["api_key_sid"] and client.account_sid == TWILIO[
        "account_sid"]
    assert client.http_client.timeout == 10
