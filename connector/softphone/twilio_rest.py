"""Twilio's REST API for call control: the real one, or the simulator's in embedded mode.

``rest_client()`` returns a ``twilio.rest.Client``. With a Twilio account configured it signs
with the API key (``SK…``) and has a timeout on every request; without one it is served
in-process by the simulator that also runs simulated mode's calls (``docs/simulator.md``).
Tests install their own with :func:`set_rest_client_factory`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

#: Seconds to wait for Twilio's REST API; call control is interactive, so fail fast.
REST_TIMEOUT = 10.0

RestClientFactory = Callable[[], Client]


def init_app(app: Flask) -> None:
    settings = app.config["CTI_SETTINGS"].twilio
    if settings.configured:
        def real_client() -> Client:
            return Client(settings.api_key_sid, settings.api_key_secret.reveal(),
                          settings.account_sid,
                          http_client=TwilioHttpClient(timeout=REST_TIMEOUT))
        app.extensions["cti.twilio_rest"] = real_client
    else:
        def simulator_client() -> Client:
            return app.extensions["cti.simulated_mode"].rest_client()
        app.extensions["cti.twilio_rest"] = simulator_client


def set_rest_client_factory(app: Flask, factory: RestClientFactory) -> None:
    """Replace how REST clients are made (tests: a simulator on a virtual clock)."""
    app.extensions["cti.twilio_rest"] = factory


def rest_client(app: Flask | None = None) -> Client:
    return (app or current_app).extensions["cti.twilio_rest"]()
