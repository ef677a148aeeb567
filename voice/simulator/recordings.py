"""Recording media, served like ``api.twilio.com`` serves them — to a ``requests`` session.

Every ``<Record>`` and recorded ``<Dial>`` registers a :class:`Recording`. The simulator has
no audio, so its media is *silence* of the recorded length: a WAV file, 8 kHz, 16-bit PCM,
one channel (two for ``*-dual`` recordings). An application reaches it by mounting
:meth:`voice.simulator.Simulator.requests_adapter` on its session for
``https://api.twilio.com``; production code then runs unchanged:

* ``GET /2010-04-01/Accounts/{AC}/Recordings/{RE}.wav`` (or without extension) → the WAV,
  ``Range: bytes=a-b`` → 206 with ``Content-Range``;
* ``GET …/Recordings/{RE}.json`` → the recording's metadata (Twilio's field names);
* ``DELETE …/Recordings/{RE}.json`` (or without extension) → 204 and the recording is gone;
  an unknown (or already deleted) SID → 404 (20404), as Twilio answers;
* HTTP basic auth with the account SID and auth token, as with "Enforce HTTP Auth on Media
  URLs" (reliability-performance.md §1.9); errors are Twilio's JSON (20003, 20404).

``.mp3`` is not emulated (a 415 says so). Twilio's own WAV sample rate and channel layout are
UNVERIFIED; the files are only meant to be playable.
"""

from __future__ import annotations

import base64
import io
import json
import re
import wave
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from voice.simulator import facts

if TYPE_CHECKING:
    from voice.simulator.engine import Simulator

SAMPLE_RATE = 8000
_PATH = re.compile(r"/2010-04-01/Accounts/(?P<account>AC\w+)/Recordings/(?P<sid>RE\w+?)"
                   r"(?P<ext>\.wav|\.mp3|\.json)?$")
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


@dataclass(frozen=True)
class Recording:
    sid: str
    call_sid: str
    duration: int
    channels: int
    source: str  # "RecordVerb" or "DialVerb"


def silence_wav(seconds: int, channels: int) -> bytes:
    """A WAV file of ``seconds`` of silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(b"\0\0" * channels * SAMPLE_RATE * max(0, seconds))
    return buffer.getvalue()


class RecordingsAdapter(BaseAdapter):
    """A ``requests`` transport adapter answering for ``api.twilio.com`` from the simulator."""

    def __init__(self, sim: Simulator) -> None:
        super().__init__()
        self.sim = sim

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        path = (request.path_url or "").split("?")[0]
        if not self._authorized(request.headers.get("Authorization", "")):
            return _error(request, facts.REST_AUTH_FAILED, "Authentication Error - invalid "
                                                           "username")
        match = _PATH.match(path)
        if (request.method not in ("GET", "DELETE") or match is None
                or match["account"] != self.sim.account_sid):
            return _error(request, facts.REST_NOT_FOUND, f"The requested resource {path} was "
                                                         "not found")
        recording = self.sim.recordings.get(match["sid"])
        if recording is None:
            return _error(request, facts.REST_NOT_FOUND, f"The requested resource {path} was "
                                                         "not found")
        if request.method == "DELETE":
            if match["ext"] not in (None, ".json"):
                return _error(request, facts.REST_NOT_FOUND, f"The requested resource {path} "
                                                             "was not found")
            self.sim.delete_recording(recording.sid)
            return _response(request, 204, b"", {})
        if match["ext"] == ".json":
            return _response(request, 200, json.dumps(self._metadata(recording)).encode(),
                             {"Content-Type": "application/json"})
        if match["ext"] == ".mp3":
            return _error(request, (20001, 415), "the simulator serves recordings as .wav only")
        return _media(request, silence_wav(recording.duration, recording.channels))

    def close(self) -> None:
        """Nothing to release."""

    def _authorized(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            username, _, password = base64.b64decode(value).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return self.sim.checks_auth(username, password)

    def _metadata(self, recording: Recording) -> dict[str, Any]:
        uri = (f"/{facts.API_VERSION}/Accounts/{self.sim.account_sid}/Recordings/"
               f"{recording.sid}.json")
        return {"account_sid": self.sim.account_sid, "call_sid": recording.call_sid,
                "sid": recording.sid, "duration": str(recording.duration),
                "channels": recording.channels, "source": recording.source,
                "status": "completed", "uri": uri}


def _media(request: requests.PreparedRequest, body: bytes) -> requests.Response:
    headers = {"Content-Type": "audio/x-wav", "Accept-Ranges": "bytes"}
    match = _RANGE.match(request.headers.get("Range", "") or "")
    if match is None or not any(match.groups()):
        return _response(request, 200, body, {**headers, "Content-Length": str(len(body))})
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else len(body) - 1, len(body) - 1)
    else:
        start, end = max(0, len(body) - int(last)), len(body) - 1
    if start > end:
        return _response(request, 416, b"", {"Content-Range": f"bytes */{len(body)}"})
    part = body[start:end + 1]
    return _response(request, 206, part, {**headers, "Content-Length": str(len(part)),
                                          "Content-Range": f"bytes {start}-{end}/{len(body)}"})


def _error(request: requests.PreparedRequest, error: tuple[int, int],
           message: str) -> requests.Response:
    code, status = error
    body = json.dumps({"code": code, "message": message, "status": status,
                       "more_info": facts.MORE_INFO_URL.format(code=code)}).encode()
    return _response(request, status, body, {"Content-Type": "application/json"})


def _response(request: requests.PreparedRequest, status: int, body: bytes,
              headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers = CaseInsensitiveDict(headers)
    response.raw = io.BytesIO(body)
    response.url = request.url or ""
    response.request = request
    response.encoding = None
    return response
