"""The body rules every Twilio webhook shares (issue 17): only form bodies are signed parameter
by parameter, anything else needs ``bodySHA256``; odd signature headers are a 403, never a 500;
large bodies are refused before they are read."""

import hashlib
import io
import json
import logging
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from connector import db
from connector.schema import calls
from connector.voice import webhook_auth_token
from connector.voice.webhook import WEBHOOK_MAX_BODY_BYTES
from voice.signature import SIGNATURE_HEADER, compute_signature

from .conftest import CALLER, NUMBER

BASE = "https://cti.example.com"
ROUTES = ["/twilio/voice/inbound", "/twilio/voice/outbound", "/twilio/voice/status",
          "/twilio/voice/dial-action", "/twilio/voice/voicemail", "/twilio/voice/recording",
          "/twilio/voice/softphone/hold-music", "/twilio/voice/softphone/hold-ended",
          "/twilio/voice/softphone/transfer-result"]
PARAMS = {"AccountSid": "AC" + "0" * 32, "CallSid": "CA" + "1" * 32, "CallStatus": "ringing",
          "From": CALLER, "To": NUMBER}


def _post(env, path, body, content_type, signature, query=""):
    headers = {SIGNATURE_HEADER: signature} if signature is not None else {}
    url = path + (f"?{query}" if query else "")
    return env.app.test_client().post(url, data=body, content_type=content_type,
                                      headers=headers, base_url=BASE)


def _count_calls(env) -> int:
    with db.get_engine(env.app).connect() as conn:
        return conn.execute(select(func.count()).select_from(calls)).scalar_one()


def test_every_twilio_route_carries_the_shared_decorator(env):
    """New Twilio routes (IVR, queues…) get the body rules only through @twilio_webhook."""
    rules = [r for r in env.app.url_map.iter_rules() if r.rule.startswith("/twilio/")]
    assert {r.rule for r in rules} >= set(ROUTES)
    missing = [r.rule for r in rules if r.rule not in NOT_WEBHOOKS
               and not getattr(env.app.view_functions[r.endpoint], "twilio_webhook", False)]
    assert missing == []


#: Twilio fetches these for ``<Play>``; they are authorised by a signed, expiring URL of their
#: own (connector/flows/views.py), not by a webhook signature over a body.
NOT_WEBHOOKS = {"/twilio/voice/flow/audio/<name>"}


def test_audio_for_play_is_refused_without_its_signed_url(env):
    response = env.app.test_client().get("/twilio/voice/flow/audio/greeting", base_url=BASE)
    assert response.status_code in (403, 404)


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_other_bodies_with_a_url_only_signature_are_refused(env, path, content_type):
    env.add_number(NUMBER, "voicemail")
    body = json.dumps(PARAMS) if content_type == "application/json" else urlencode(PARAMS)
    url_only = compute_signature(BASE + path, None, webhook_auth_token(env.app))
    response = _post(env, path, body, content_type, url_only)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert _count_calls(env) == 0


@pytest.mark.parametrize("path", ROUTES)
def test_json_body_signed_with_body_sha256_is_accepted(env, path):
    body = json.dumps(PARAMS).encode()
    query = "bodySHA256=" + hashlib.sha256(body).hexdigest()
    signature = compute_signature(f"{BASE}{path}?{query}", None, webhook_auth_token(env.app))
    response = _post(env, path, body, "application/json", signature, query)
    assert response.status_code == 200 and response.mimetype == "text/xml"
    tampered = body.replace(b"ringing", b"in-progress")
    refused = _post(env, path, tampered, "application/json", signature, query)
    assert refused.status_code == 403


@pytest.mark.parametrize("path", ROUTES)
def test_form_bodies_are_still_accepted(env, path):
    signature = compute_signature(BASE + path, PARAMS, webhook_auth_token(env.app))
    response = _post(env, path, urlencode(PARAMS), "application/x-www-form-urlencoded",
                     signature)
    assert response.status_code == 200


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("header", ["ö" * 28, "\u3042" * 10, "not base64 !!", "A" * 200,
                                    "%%%%%%%%%%%%%%%%%%%%%%%%%%%="])
def test_malformed_signature_header_is_a_403_without_a_traceback(env, caplog, path, header):
    caplog.set_level(logging.DEBUG)
    response = env.app.test_client().post(
        path, data=PARAMS, base_url=BASE,
        environ_overrides={"HTTP_X_TWILIO_SIGNATURE": header})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


class _Exploding(io.RawIOBase):
    """A request body that must never be read."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        raise AssertionError("the body was read")


@pytest.mark.parametrize("path", ROUTES)
def test_unsigned_large_body_is_refused_without_reading_it(env, path):
    response = env.app.test_client().post(
        path, base_url=BASE, content_type="application/x-www-form-urlencoded",
        environ_overrides={"wsgi.input": _Exploding(), "CONTENT_LENGTH": str(1024 * 1024)})
    assert response.status_code == 403


@pytest.mark.parametrize("path", ROUTES)
def test_large_body_with_a_signature_is_a_413_before_reading(env, path):
    signature = compute_signature(BASE + path, PARAMS, webhook_auth_token(env.app))
    response = env.app.test_client().post(
        path, base_url=BASE, content_type="application/x-www-form-urlencoded",
        headers={SIGNATURE_HEADER: signature},
        environ_overrides={"wsgi.input": _Exploding(),
                           "CONTENT_LENGTH": str(WEBHOOK_MAX_BODY_BYTES + 1)})
    assert response.status_code == 413
    assert response.get_json()["error"]["details"]["limit_bytes"] == WEBHOOK_MAX_BODY_BYTES


def test_body_at_the_limit_is_read_and_checked(env):
    path = "/twilio/voice/status"
    params = {**PARAMS, "Padding": ""}
    base = len(urlencode(params))
    params["Padding"] = "x" * (WEBHOOK_MAX_BODY_BYTES - base)
    body = urlencode(params)
    assert len(body) == WEBHOOK_MAX_BODY_BYTES
    signature = compute_signature(BASE + path, params, webhook_auth_token(env.app))
    ok = _post(env, path, body, "application/x-www-form-urlencoded", signature)
    assert ok.status_code == 200
    too_big = _post(env, path, body + "x", "application/x-www-form-urlencoded", signature)
    assert too_big.status_code == 413


def test_streamed_large_body_is_refused(env):
    """Chunked (no Content-Length): read up to the limit only, then 413."""
    path = "/twilio/voice/status"
    signature = compute_signature(BASE + path, PARAMS, webhook_auth_token(env.app))
    body = io.BytesIO(b"a=" + b"x" * (WEBHOOK_MAX_BODY_BYTES + 10))
    response = env.app.test_client().post(
        path, base_url=BASE, content_type="application/x-www-form-urlencoded",
        headers={SIGNATURE_HEADER: signature, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})
    assert response.status_code == 413
    assert body.tell() <= WEBHOOK_MAX_BODY_BYTES + 1
