"""Twilio access tokens for the softphone."""

import jwt
import pytest

from voice.tokens import MAX_TTL, TokenError, check_identity, read_voice_token, voice_access_token

ACCOUNT = "AC" + "1" * 32
KEY = "SK" + "2" * 32
APP = "AP" + "3" * 32
SECRET = "api-key-secret-of-at-least-32-bytes"
NOW = 1_800_000_000


def make(identity="agent1", ttl=3600, now=NOW):
    return voice_access_token(account_sid=ACCOUNT, api_key_sid=KEY, api_key_secret=SECRET,
                              identity=identity, application_sid=APP, ttl=ttl, now=now)


def test_token_carries_voice_grant_for_identity():
    issued = make()
    header = jwt.get_unverified_header(issued.token)
    payload = jwt.decode(issued.token, SECRET, algorithms=["HS256"],
                         options={"verify_exp": False, "verify_nbf": False})
    assert header["cty"] == "twilio-fpa;v=1" and header["alg"] == "HS256"
    assert payload["iss"] == KEY and payload["sub"] == ACCOUNT
    assert payload["nbf"] == NOW and payload["exp"] == NOW + 3600
    assert payload["grants"] == {"identity": "agent1", "voice": {
        "incoming": {"allow": True}, "outgoing": {"application_sid": APP}}}
    assert issued.identity == "agent1" and issued.expires_at == NOW + 3600


def test_token_signed_with_api_key_secret_only():
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(make().token, "another-secret-of-at-least-32-bytes", algorithms=["HS256"],
                   options={"verify_exp": False, "verify_nbf": False})


@pytest.mark.parametrize("identity", ["", "agent 1", "client:agent1", "山田", "a" * 257,
                                      "agent-1", "agent@x"])
def test_identity_restricted_to_letters_digits_underscore(identity):
    with pytest.raises(TokenError, match="identity"):
        make(identity=identity)


def test_identity_accepts_underscores_and_digits():
    assert check_identity("user_Jane_01") == "user_Jane_01"


@pytest.mark.parametrize("ttl", [0, -5, MAX_TTL + 1])
def test_ttl_limited_to_24_hours(ttl):
    with pytest.raises(TokenError, match="ttl"):
        make(ttl=ttl)


def test_max_ttl_is_accepted():
    assert make(ttl=MAX_TTL).expires_at == NOW + 86400


def test_read_voice_token_checks_signature_and_time():
    token = make().token
    assert read_voice_token(token, SECRET, now=NOW + 10)["grants"]["identity"] == "agent1"
    with pytest.raises(TokenError, match="expired"):
        read_voice_token(token, SECRET, now=NOW + 3600)
    with pytest.raises(TokenError, match="invalid"):
        read_voice_token(token, "wrong-secret-of-at-least-32-bytes", now=NOW)
    with pytest.raises(TokenError, match="not yet valid"):
        read_voice_token(token, SECRET, now=NOW - 1)
