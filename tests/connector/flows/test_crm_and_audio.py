"""CRM branches (KT-6, SF-6), merged texts, audio announcements and the flow state token."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from connector import db
from connector.flows import audio_urls, runner, store
from connector.voice.runtime import get_runtime
from crm_adapters.base import Customer
from voice.flows import audio as audio_check
from voice.simulator import CallerScript

from ..voice.conftest import CALLER, NUMBER

CRM_FLOW = """
[flow]
name = "crm"
entry = "known"

[nodes.known]
kind = "crm"
test = "known"
crm = "{adapter}"
then = "vip_check"
else = "stranger"

[nodes.vip_check]
kind = "crm"
test = "field"
field = "company"
contains = "商事"
then = "greet"
else = "plain"

[nodes.greet]
kind = "announcement"
say = "{{name}}様、いつもお電話ありがとうございます。"

[nodes.plain]
kind = "announcement"
say = "お電話ありがとうございます。"

[nodes.stranger]
kind = "announcement"
audio = "welcome.wav"
"""


def wav_bytes(rate=8000, channels=1, width=2, seconds=0.1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(b"\0" * int(rate * seconds) * channels * width)
    return out.getvalue()


def setup(env, adapter: str) -> None:
    with db.get_engine(env.app).begin() as conn:
        store.save_audio(conn, "welcome.wav", "audio/wav", "WAV", wav_bytes(), now=env.now)
    env.import_flow(CRM_FLOW.format(adapter=adapter))
    env.add_number(NUMBER, "flow:crm")


def place(env):
    call = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript())
    env.sim.run_until_idle()
    return call


@pytest.mark.parametrize("adapter", ["kintone", "salesforce"])
def test_known_caller_hears_their_name(env, adapter):
    setup(env, adapter)
    env.crm.known[CALLER] = [Customer(adapter, "7", "山田 太郎", "Contact", "山田商事")]
    assert place(env).heard == ["山田 太郎様、いつもお電話ありがとうございます。"]


@pytest.mark.parametrize("adapter", ["kintone", "salesforce"])
def test_known_caller_failing_the_field_test(env, adapter):
    setup(env, adapter)
    env.crm.known[CALLER] = [Customer(adapter, "7", "鈴木 花子", "Contact", "鈴木工業")]
    assert place(env).heard == ["お電話ありがとうございます。"]


@pytest.mark.parametrize("adapter", ["kintone", "salesforce"])
def test_unknown_caller_hears_the_audio_file(env, adapter):
    setup(env, adapter)
    env.crm.known[CALLER] = [Customer("builtin", "1", "山田 太郎", "customer", "山田商事")]
    heard = place(env).heard  # known to another CRM only: unknown to this one
    assert len(heard) == 1 and "/twilio/voice/flow/audio/welcome.wav?" in heard[0]
    response = env.app.test_client().get(heard[0].removeprefix("https://cti.example.com"))
    assert response.status_code == 200 and response.data == wav_bytes()
    assert env.crm.budgets == [0.3]  # one lookup, shared with the screen pop


def test_audio_url_is_refused_when_changed_or_expired(env):
    runtime = get_runtime(env.app)
    with env.app.app_context():
        with db.get_engine(env.app).begin() as conn:
            store.save_audio(conn, "a.wav", "audio/wav", "WAV", wav_bytes(), now=env.now)
        url = audio_urls.url(runtime, "a.wav", now=1_000_000)
    path = url.removeprefix("https://cti.example.com")
    client = env.app.test_client()
    assert client.get(path).status_code == 403  # expired long ago
    assert audio_urls.valid(runtime, "a.wav", "1003600", path.rsplit("t=", 1)[1], now=1_000_000)
    assert not audio_urls.valid(runtime, "b.wav", "1003600", path.rsplit("t=", 1)[1],
                                now=1_000_000)
    fresh = audio_urls.url(runtime, "a.wav").removeprefix("https://cti.example.com")
    assert client.get(fresh).status_code == 200
    assert client.get(fresh.replace("t=", "t=0")).status_code == 403


def test_state_token_is_signed(env):
    runtime = get_runtime(env.app)
    setup(env, "kintone")
    with db.get_engine(env.app).connect() as conn:
        stored = store.latest(conn, "crm")
    state = runner.State("plain", 1, {"lang": "ja"}, {"plain": 2})
    token = runner.encode_state(runtime, stored, state)
    assert runner.decode_state(runtime, "crm", stored.version, token) == state
    with pytest.raises(runner.BadState):
        runner.decode_state(runtime, "crm", stored.version + 1, token)
    payload, signature = token.split(".")
    with pytest.raises(runner.BadState):
        runner.decode_state(runtime, "crm", stored.version, payload[:-2] + "xx." + signature)


def test_audio_checks_by_content():
    assert audio_check.inspect(wav_bytes()).recommended
    stereo = audio_check.inspect(wav_bytes(rate=44100, channels=2))
    assert not stereo.recommended and stereo.description == "WAV PCM 44100 Hz 2 channels 16-bit"
    assert audio_check.inspect(b"ID3\x04" + b"\0" * 100).content_type == "audio/mpeg"
    assert audio_check.inspect(b"FORM\0\0\0\0AIFF" + b"\0" * 20).content_type == "audio/aiff"
    with pytest.raises(audio_check.AudioError, match="not a WAV, MP3 or AIFF"):
        audio_check.inspect(b"%PDF-1.7 pretending to be closed.wav")
    with pytest.raises(audio_check.AudioError, match="empty"):
        audio_check.inspect(b"")
    with pytest.raises(audio_check.AudioError, match="under 30 MB"):
        audio_check.inspect(b"RIFF" + b"\0" * (30 * 1024 * 1024))
    float_wav = bytearray(wav_bytes())
    float_wav[20:22] = struct.pack("<H", 3)  # IEEE float
    with pytest.raises(audio_check.AudioError, match="format 0x3"):
        audio_check.inspect(bytes(float_wav))
