"""Recording media served to a requests session, as api.twilio.com serves them."""

import io
import wave

import pytest
import requests

from voice.simulator import CallerScript, RecordInput

from .conftest import ACCOUNT, CALLER, NUMBER, TOKEN, twiml

MEDIA = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings"


@pytest.fixture
def recorded(sim, server):
    server.routes["/voice"] = twiml('<Record action="/done" maxLength="60" />')
    server.routes["/done"] = twiml("<Hangup/>")
    sim.add_number(NUMBER, "https://cti.example.jp/voice")
    call = sim.place_inbound_call(CALLER, NUMBER,
                                  caller=CallerScript(message=RecordInput(seconds=4, end="#")))
    sim.run_until_idle()
    [sid] = sim.recordings
    session = requests.Session()
    session.mount("https://api.twilio.com", sim.requests_adapter())
    return sim, session, sid, call


def test_media_is_silence_of_the_recorded_length(recorded):
    sim, session, sid, call = recorded
    assert sim.recordings[sid].call_sid == call.call_sid
    response = session.get(f"{MEDIA}/{sid}.wav", auth=(ACCOUNT, TOKEN), timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"] == "audio/x-wav"
    with wave.open(io.BytesIO(response.content)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        assert wav.getnframes() == 4 * 8000
    plain = session.get(f"{MEDIA}/{sid}", auth=(ACCOUNT, TOKEN), timeout=5)
    assert plain.content == response.content


def test_ranges_and_metadata(recorded):
    _, session, sid, call = recorded
    part = session.get(f"{MEDIA}/{sid}.wav", auth=(ACCOUNT, TOKEN), headers={
        "Range": "bytes=10-19"}, timeout=5)
    assert part.status_code == 206 and len(part.content) == 10
    assert part.headers["Content-Range"] == f"bytes 10-19/{44 + 64000}"
    tail = session.get(f"{MEDIA}/{sid}.wav", auth=(ACCOUNT, TOKEN), headers={
        "Range": "bytes=-4"}, timeout=5)
    assert tail.status_code == 206 and len(tail.content) == 4
    meta = session.get(f"{MEDIA}/{sid}.json", auth=(ACCOUNT, TOKEN), timeout=5).json()
    assert meta["call_sid"] == call.call_sid and meta["duration"] == "4"


def test_auth_and_unknown_recordings_fail_like_twilio(recorded):
    _, session, sid, _ = recorded
    denied = session.get(f"{MEDIA}/{sid}.wav", auth=(ACCOUNT, "wrong"), timeout=5)
    assert denied.status_code == 401 and denied.json()["code"] == 20003
    assert session.get(f"{MEDIA}/{sid}.wav", timeout=5).status_code == 401
    missing = session.get(f"{MEDIA}/RE{'0' * 32}.wav", auth=(ACCOUNT, TOKEN), timeout=5)
    assert missing.status_code == 404 and missing.json()["code"] == 20404
    mp3 = session.get(f"{MEDIA}/{sid}.mp3", auth=(ACCOUNT, TOKEN), timeout=5)
    assert mp3.status_code == 415


def test_delete_removes_the_recording_and_a_second_delete_is_404(recorded):
    sim, session, sid, _ = recorded
    denied = session.delete(f"{MEDIA}/{sid}.json", auth=(ACCOUNT, "wrong"), timeout=5)
    assert denied.status_code == 401 and sid in sim.recordings
    gone = session.delete(f"{MEDIA}/{sid}.json", auth=(ACCOUNT, TOKEN), timeout=5)
    assert gone.status_code == 204 and gone.content == b"" and sid not in sim.recordings
    assert session.get(f"{MEDIA}/{sid}.wav", auth=(ACCOUNT, TOKEN), timeout=5).status_code == 404
    again = session.delete(f"{MEDIA}/{sid}.json", auth=(ACCOUNT, TOKEN), timeout=5)
    assert again.status_code == 404 and again.json()["code"] == 20404


def test_twilio_python_deletes_recordings_too(recorded):
    from twilio.base.exceptions import TwilioRestException
    from twilio.rest import Client

    sim, _, sid, _ = recorded
    client = Client(ACCOUNT, TOKEN, http_client=sim.http_client())
    assert client.recordings(sid).delete() is True and sid not in sim.recordings
    with pytest.raises(TwilioRestException) as missing:
        client.recordings(sid).delete()
    assert missing.value.status == 404
