"""Webhooks accept only requests signed by Twilio over the public URL, and always answer TwiML."""

import logging

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from connector import db
from connector.schema import call_events, calls
from connector.voice import routing, webhook_auth_token
from voice.signature import SIGNATURE_HEADER, compute_signature
from voice.twiml import MESSAGES

from .conftest import CALLER, NUMBER

PARAMS = [("AccountSid", "AC" + "0" * 32), ("CallSid", "CA" + "1" * 32),
          ("CallStatus", "ringing"), ("From", CALLER), ("To", NUMBER)]


def post(env, path, params, signature, base_url="https://cti.example.com"):
    headers = {SIGNATURE_HEADER: signature} if signature is not None else {}
    return env.app.test_client().post(path, data=MultiDict(params), headers=headers,
                                      base_url=base_url)


def sign(env, url, params=PARAMS):
    return compute_signature(url, params, webhook_auth_token(env.app))


@pytest.mark.parametrize("path", ["/twilio/voice/inbound", "/twilio/voice/outbound",
                                  "/twilio/voice/status", "/twilio/voice/dial-action",
                                  "/twilio/voice/voicemail", "/twilio/voice/recording"])
def test_forged_or_missing_signature_refused_and_logged(env, caplog, path):
    env.add_number(NUMBER, "voicemail")
    caplog.set_level(logging.WARNING, logger="cti.voice.webhook")
    forged = compute_signature("https://cti.example.com" + path, PARAMS, "not-the-token")
    for signature in (forged, None, ""):
        response = post(env, path, PARAMS, signature)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "invalid_signature"
    assert [r.getMessage() for r in caplog.records].count(
        "refused a Twilio webhook: invalid X-Twilio-Signature") == 3
    with db.get_engine(env.app).connect() as conn:  # nothing was recorded
        assert conn.execute(select(func.count()).select_from(calls)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(call_events)).scalar_one() == 0


def test_valid_signature_accepted(env):
    env.add_number(NUMBER, "voicemail")
    url = "https://cti.example.com/twilio/voice/inbound"
    response = post(env, "/twilio/voice/inbound", PARAMS, sign(env, url))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    assert "<Record" in response.get_data(as_text=True)


def test_tampered_parameter_refused(env):
    env.add_number(NUMBER, "voicemail")
    url = "https://cti.example.com/twilio/voice/inbound"
    signature = sign(env, url)
    tampered = [(k, "+819099999999" if k == "From" else v) for k, v in PARAMS]
    assert post(env, "/twilio/voice/inbound", tampered, signature).status_code == 403


def test_proxied_request_validated_against_public_base_url(env):
    """Behind a proxy the app is reached at http://10.0.0.5:8000 but Twilio signed the public
    URL: that signature is accepted; one over the internal URL is not."""
    env.add_number(NUMBER, "voicemail")
    internal = "http://10.0.0.5:8000"
    public_signature = sign(env, "https://cti.example.com/twilio/voice/inbound")
    internal_signature = sign(env, internal + "/twilio/voice/inbound")
    assert post(env, "/twilio/voice/inbound", PARAMS, public_signature,
                base_url=internal).status_code == 200
    assert post(env, "/twilio/voice/inbound", PARAMS, internal_signature,
                base_url=internal).status_code == 403


def test_query_string_is_part_of_the_signed_url(env):
    env.add_number(NUMBER, "voicemail")
    params = [*PARAMS, ("DialCallStatus", "no-answer")]
    signed = sign(env, "https://cti.example.com/twilio/voice/dial-action?step=route", params)
    ok = post(env, "/twilio/voice/dial-action?step=route", params, signed)
    assert ok.status_code == 200
    assert post(env, "/twilio/voice/dial-action?step=fallback", params,
                signed).status_code == 403


def test_failure_inside_a_webhook_still_answers_japanese_twiml(env, monkeypatch, caplog):
    env.add_number(NUMBER, "voicemail")

    def broken(*args, **kwargs):
        raise RuntimeError("database exploded")

    monkeypatch.setattr(routing, "plan_inbound", broken)
    url = "https://cti.example.com/twilio/voice/inbound"
    response = post(env, "/twilio/voice/inbound", PARAMS, sign(env, url))
    assert response.status_code == 200
    assert MESSAGES["system_error"] in response.get_data(as_text=True)
    assert any("Twilio webhook failed" in r.getMessage() for r in caplog.records)


def test_status_callback_failure_answers_empty_twiml(env, monkeypatch):
    from connector.voice import calls

    monkeypatch.setattr(calls, "apply_status", lambda *a: 1 / 0)
    url = "https://cti.example.com/twilio/voice/status"
    response = post(env, "/twilio/voice/status", PARAMS, sign(env, url))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == '<?xml version="1.0" encoding="UTF-8"?><Response />'


def test_twilio_mode_validates_with_the_auth_token(make_app):
    app = make_app(twilio={"account_sid": "AC" + "a" * 32, "auth_token": "12345",
                           "api_key_sid": "SK" + "b" * 32,
                           "api_key_secret": "s" * 32, "twiml_app_sid": "AP" + "c" * 32})
    assert webhook_auth_token(app) == "12345"
    url = "https://cti.example.com/twilio/voice/status"
    client = app.test_client()
    good = compute_signature(url, PARAMS, "12345")
    assert client.post("/twilio/voice/status", data=MultiDict(PARAMS),
                       headers={SIGNATURE_HEADER: good}).status_code == 200
    bad = compute_signature(url, PARAMS, "1234")
    assert client.post("/twilio/voice/status", data=MultiDict(PARAMS),
                       headers={SIGNATURE_HEADER: bad}).status_code == 403


def test_twilio_documented_vector_through_the_webhook_check(make_app):
    """twilio.com/docs/usage/security: token 12345, URL https://mycompany.com/myapp.php?foo=1&bar=2
    (ecosystem.md §4.4, vector 1), checked the way every webhook view is."""
    from connector.voice.webhook import twilio_webhook

    app = make_app(server={"public_base_url": "https://mycompany.com"},
                   twilio={"account_sid": "AC" + "a" * 32, "auth_token": "12345",
                           "api_key_sid": "SK" + "b" * 32, "api_key_secret": "s" * 32,
                           "twiml_app_sid": "AP" + "c" * 32})
    app.add_url_rule("/myapp.php", "vector", twilio_webhook(on_error="empty")(
        lambda: "<Response/>"), methods=["POST"])
    params = MultiDict([("CallSid", "CA1234567890ABCDE"), ("Caller", "+12349013030"),
                        ("Digits", "1234"), ("From", "+12349013030"), ("To", "+18005551212")])
    client = app.test_client()
    ok = client.post("/myapp.php?foo=1&bar=2", data=params, base_url="http://10.1.2.3:8000",
                     headers={SIGNATURE_HEADER: "0/KCTR6DLpKmkAf8muzZqo1nDgQ="})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "<Response/>"
    reordered = client.post("/myapp.php?bar=2&foo=1", data=params,
                            headers={SIGNATURE_HEADER: "0/KCTR6DLpKmkAf8muzZqo1nDgQ="})
    assert reordered.status_code == 403  # the query string is signed exactly as sent


def test_webhook_without_call_sid_is_answered_but_not_recorded(env):
    env.add_number(NUMBER, "voicemail")
    params = [(k, v) for k, v in PARAMS if k != "CallSid"]
    url = "https://cti.example.com/twilio/voice/inbound"
    response = post(env, "/twilio/voice/inbound", params, sign(env, url, params))
    assert response.status_code == 200 and "<Record" in response.get_data(as_text=True)
    with db.get_engine(env.app).connect() as conn:
        assert conn.execute(select(func.count()).select_from(calls)).scalar_one() == 0
