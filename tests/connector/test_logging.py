"""Logs are structured, and never carry secrets, tokens or whole phone numbers."""

import io
import json
import logging

import pytest

from connector.logs import configure_logging
from connector.runtime import app_secrets
from tests.conftest import TEST_SECRET_KEY


@pytest.fixture
def capture():
    stream = io.StringIO()
    yield stream
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_cti", False)]:
        root.removeHandler(handler)


def records(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_with_extra_fields(capture):
    configure_logging("INFO", "json", [], stream=capture)
    logging.getLogger("cti.test").info("call ended", extra={"call_sid": "CA" + "a" * 32,
                                                           "duration": 42})
    (entry,) = records(capture)
    assert entry["msg"] == "call ended" and entry["level"] == "INFO"
    assert entry["call_sid"] == "CA" + "a" * 32 and entry["duration"] == 42


def test_secrets_tokens_and_numbers_are_masked(capture, make_app):
    app = make_app(twilio={
        "account_sid": "AC" + "0" * 32, "auth_token": "twilio-auth-token-value",
        "api_key_sid": "SK" + "0" * 32, "api_key_secret": "api-key-secret-value",
        "twiml_app_sid": "AP" + "0" * 32})
    configure_logging("DEBUG", "json", app_secrets(app), stream=capture)
    log = logging.getLogger("cti.test")
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"
    log.info("auth with twilio-auth-token-value and api-key-secret-value")
    log.info("header Authorization: Bearer %s", jwt)
    log.warning("caller +819012345678 dialled 03-1234-5678", extra={"to": "+81312345678"})
    log.info("signing with %s", TEST_SECRET_KEY)
    try:
        raise ValueError("failed for +819012345678 with api-key-secret-value")
    except ValueError:
        log.exception("boom")
    text = capture.getvalue()
    for leaked in ("twilio-auth-token-value", "api-key-secret-value", jwt, "12345678",
                   "1234-5678", TEST_SECRET_KEY):
        assert leaked not in text, leaked
    assert "+819*******78" in text  # shortened, still useful for support


def test_call_sids_and_timestamps_survive_masking(capture):
    configure_logging("INFO", "json", [], stream=capture)
    sid = "CA0123456789abcdef0123456789abcdef"
    logging.getLogger("cti.test").info("status for %s at 2026-11-20T09:00:00Z", sid)
    (entry,) = records(capture)
    assert sid in entry["msg"] and "2026-11-20T09:00:00Z" in entry["msg"]


def test_text_format_escapes_line_breaks(capture):
    configure_logging("INFO", "text", [], stream=capture)
    logging.getLogger("cti.test").info("name=%s", "evil\nFAKE 2026 CRITICAL forged line")
    assert capture.getvalue().count("\n") == 1
    assert "evil\\nFAKE" in capture.getvalue()


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as standard error is under `cti serve` in a shell."""

    def isatty(self):
        return True


@pytest.fixture
def terminal(capture):
    yield Terminal()


def test_auto_is_json_when_not_a_terminal(capture):
    configure_logging("INFO", "auto", [], stream=capture, environ={})
    logging.getLogger("cti.test").info("to a file")
    assert records(capture)[0]["msg"] == "to a file"


def test_auto_is_coloured_text_on_a_terminal(terminal):
    configure_logging("INFO", "auto", ["secret-value-123"], stream=terminal, environ={})
    logging.getLogger("cti.test").warning("caller +819012345678 with secret-value-123")
    line = terminal.getvalue()
    assert "\x1b[33mWARNING\x1b[0m" in line and "\x1b[2mcti.test\x1b[0m" in line
    assert "caller +819*******78 with ***" in line  # scrubbed like JSON
    assert not line.startswith("{")


def test_no_color_turns_colours_off(terminal):
    configure_logging("INFO", "auto", [], stream=terminal, environ={"NO_COLOR": "1"})
    logging.getLogger("cti.test").error("plain")
    line = terminal.getvalue()
    assert "\x1b" not in line and " ERROR   cti.test: plain" in line


def test_escape_sequences_in_messages_never_reach_the_log(capture, terminal):
    configure_logging("INFO", "json", [], stream=capture, environ={})
    logging.getLogger("werkzeug").info("\x1b[31m\x1b[1mWARNING: development server\x1b[0m")
    assert records(capture)[0]["msg"] == "WARNING: development server"
    configure_logging("INFO", "text", [], stream=terminal, environ={})
    logging.getLogger("cti.test").info("name=%s", "evil\x1b[2J\x1b[Hcleared")
    assert "evil\x1b" not in terminal.getvalue() and "evilcleared" in terminal.getvalue()


def _scrub_every_pattern(scrubber, text):
    """What Scrubber did before its cheap pre-tests: every expression on every value."""
    from connector.logs import _TERMINAL_CONTROLS, _TOKEN_PATTERNS
    from voice.numbering import mask_text

    text = _TERMINAL_CONTROLS.sub("", text)
    for secret in scrubber.secrets:
        text = text.replace(secret, "***")
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return mask_text(text)


def test_the_scrubbers_shortcuts_remove_what_every_pattern_removes():
    import random

    from connector.logs import Scrubber

    fragments = ["Bearer abcdefghijkl", "BEARER  x1234567890", "token=abcd1234",
                 "Api-Key: 'k3y1'", "APIKEY=zzzz9999", "refresh_token:\"r3fr3sh\"",
                 "Secret=s3cr3tv", "password=hunter22", "eyJhbGciOi.eyJzdWIiOi.sig",
                 "\x1b[31mred\x1b[0m", "\x07bell", "\x7f", "tab\there", "line\nbreak",
                 "+81312345678", "03-1234-5678", "CA" + "0f" * 16, "佐藤", "route:agent",
                 "topsecretvalue", " ", "=", ":", "to", "ken"]
    scrubber = Scrubber(["topsecretvalue"])
    rng = random.Random(18)
    for _ in range(3000):
        text = "".join(rng.choice(fragments) for _ in range(rng.randint(1, 5)))
        assert scrubber(text) == _scrub_every_pattern(scrubber, text), text
