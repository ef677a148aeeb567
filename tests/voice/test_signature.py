"""The X-Twilio-Signature vectors from ecosystem.md §4.4 (Twilio docs and twilio-python tests)."""

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from voice.signature import compute_signature, validate_signature

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOCS_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
LIB_PARAMS = {**DOCS_PARAMS, "Caller": "+14158675309", "From": "+14158675309"}
BODY = '{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def test_vector_1_twilio_docs_example():
    assert compute_signature(URL, DOCS_PARAMS, TOKEN) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert validate_signature(URL, DOCS_PARAMS, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=", TOKEN)


def test_vector_2_twilio_python_form_params():
    assert compute_signature(URL, LIB_PARAMS, TOKEN) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert validate_signature(URL, LIB_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", TOKEN)


def test_vector_3_json_body_sha256():
    url = f"{URL}&bodySHA256={BODY_HASH}"
    assert compute_signature(url, None, TOKEN) == "a9nBmqA0ju/hNViExpshrM61xv4="
    assert validate_signature(url, BODY, "a9nBmqA0ju/hNViExpshrM61xv4=", TOKEN)
    assert not validate_signature(url, BODY + " ", "a9nBmqA0ju/hNViExpshrM61xv4=", TOKEN)


def test_vector_4_repeated_params():
    params = MultiDict([("Sid", "CA123"), ("SidAccount", "AC123"),
                        ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")])
    assert compute_signature(URL, params, TOKEN) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    pairs = list(params.items(multi=True))
    assert compute_signature(URL, pairs, TOKEN) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    as_lists = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234", "1234"]}
    assert validate_signature(URL, as_lists, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", TOKEN)


@pytest.mark.parametrize("signed_url, checked_url", [
    ("https://mycompany.com:443/myapp.php?foo=1&bar=2", URL),
    (URL, "https://mycompany.com:443/myapp.php?foo=1&bar=2"),
])
def test_default_port_either_way(signed_url, checked_url):
    signature = compute_signature(signed_url, LIB_PARAMS, TOKEN)
    assert validate_signature(checked_url, LIB_PARAMS, signature, TOKEN)


@pytest.mark.parametrize("tamper", [
    {"url": URL.replace("foo=1", "foo=2")},
    {"params": {**LIB_PARAMS, "Digits": "9"}},
    {"token": "54321"},
    {"signature": ""},
])
def test_tampering_fails(tamper):
    signature = tamper.get("signature", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not validate_signature(tamper.get("url", URL), tamper.get("params", LIB_PARAMS),
                                  signature, tamper.get("token", TOKEN))


@pytest.mark.parametrize("configured", [
    "https://cti.example.com:8443/twilio/voice/inbound",  # a port Twilio signs as given
    "https://cti.example.com/twilio/voice/inbound",
])
def test_url_as_configured_costs_one_hmac(monkeypatch, configured):
    signature = compute_signature(configured, LIB_PARAMS, TOKEN)
    signed = []
    original = RequestValidator.compute_signature

    def counting(self, uri, params, *args):
        signed.append(uri)
        return original(self, uri, params, *args)

    monkeypatch.setattr(RequestValidator, "compute_signature", counting)
    assert validate_signature(configured, LIB_PARAMS, signature, TOKEN)
    assert signed == [configured]
    signed.clear()
    assert not validate_signature(configured, LIB_PARAMS, "forged", TOKEN)
    assert signed[0] == configured and len(signed) > 1  # then twilio's port variants


def test_signature_is_twilio_pythons(monkeypatch):
    # The simulator signs with the same library the server checks with.
    monkeypatch.setattr(RequestValidator, "compute_signature",
                        lambda self, uri, params, *args: "from-the-library")
    assert compute_signature(URL, LIB_PARAMS, TOKEN) == "from-the-library"


def test_json_body_without_its_hash_is_refused():
    signature = compute_signature(URL, None, TOKEN)
    assert not validate_signature(URL, BODY, signature, TOKEN)
