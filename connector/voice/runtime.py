"""What the voice blueprints need at run time: credentials, URLs, caches — one per app.

Two modes:

* ``twilio`` — ``[twilio]`` is configured: webhooks are validated with the account's auth
  token, browser tokens are signed with the API key, recordings are fetched from
  ``api.twilio.com`` with the API key.
* ``simulator`` — embedded mode: the Twilio simulator (:mod:`voice.simulator`) plays Twilio.
  A random *simulator token* is generated once into ``data_dir/twilio_simulator_token`` and
  used wherever the auth token and API key secret would be: ``cti simulate`` signs webhooks
  with it, and browser tokens are signed with it. Recording media are reachable only when a
  simulator runs inside this process (:func:`attach_simulator`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from flask import Flask, current_app
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from crm_adapters.settings import Secret
from voice.twiml import Speaker, Urls

from ..config import Settings, VoiceSettings
from .cache import VoiceCache

#: The simulated account (the same default ``cti simulate`` uses).
SIMULATOR_ACCOUNT_SID = "AC" + "0" * 32
SIMULATOR_API_KEY_SID = "SK" + "0" * 32
SIMULATOR_APP_SID = "AP" + "0" * 32
SIMULATOR_TOKEN_FILE = "twilio_simulator_token"
#: Where Twilio's REST API (and recording media) live.
TWILIO_API = "https://api.twilio.com"
WEBHOOK_PREFIX = "/twilio/voice"


@dataclass
class VoiceRuntime:
    """Per-app voice state (``app.extensions["cti.voice"]``); secrets stay in :class:`Secret`."""

    mode: str
    account_sid: str
    auth_token: Secret
    api_key_sid: str
    api_key_secret: Secret
    application_sid: str
    base_url: str
    settings: VoiceSettings
    token_ttl: int
    edge: str
    cache: VoiceCache = field(default_factory=VoiceCache)
    media: requests.Session | None = None

    @classmethod
    def from_settings(cls, settings: Settings, data_dir: Path) -> VoiceRuntime:
        twilio = settings.twilio
        common = {"base_url": settings.server.public_base_url, "settings": settings.voice,
                  "token_ttl": twilio.token_ttl, "edge": twilio.edge}
        if twilio.configured:
            assert twilio.auth_token is not None and twilio.api_key_secret is not None
            return cls("twilio", twilio.account_sid, twilio.auth_token, twilio.api_key_sid,
                       twilio.api_key_secret, twilio.twiml_app_sid, media=requests.Session(),
                       **common)
        from .. import generated_secret

        token = Secret(generated_secret(data_dir / SIMULATOR_TOKEN_FILE), "generated")
        return cls("simulator", SIMULATOR_ACCOUNT_SID, token, SIMULATOR_API_KEY_SID, token,
                   SIMULATOR_APP_SID, **common)

    def __repr__(self) -> str:
        return f"VoiceRuntime(mode={self.mode!r}, account_sid={self.account_sid!r})"

    @property
    def speaker(self) -> Speaker:
        return Speaker(self.settings.tts_voice, self.settings.tts_language)

    def url(self, name: str, **query: str) -> str:
        """Absolute public URL of the webhook ``name`` (``status``, ``dial-action`` …)."""
        url = f"{self.base_url}{WEBHOOK_PREFIX}/{name}"
        if query:
            url += "?" + "&".join(f"{key}={value}" for key, value in sorted(query.items()))
        return url

    def urls(self, step: str = "route") -> Urls:
        return Urls(status=self.url("status"), dial_action=self.url("dial-action", step=step),
                    recording=self.url("recording"), voicemail=self.url("voicemail"))

    def media_auth(self) -> tuple[str, str]:
        """Basic-auth credentials for recording media (an API key; the simulator's token)."""
        if self.mode == "twilio":
            return self.api_key_sid, self.api_key_secret.reveal()
        return self.account_sid, self.auth_token.reveal()

    def recording_media_url(self, recording_sid: str) -> str:
        """Twilio's media URL, built from the SID (a callback's URL is never trusted)."""
        return (f"{TWILIO_API}/2010-04-01/Accounts/{self.account_sid}/Recordings/"
                f"{recording_sid}.wav")


def init_app(app: Flask) -> VoiceRuntime:
    settings: Settings = app.config["CTI_SETTINGS"]
    runtime = VoiceRuntime.from_settings(settings, Path(settings.data_dir))
    app.extensions["cti.voice"] = runtime
    _announce_config_changes(app, runtime)
    return runtime


def _announce_config_changes(app: Flask, runtime: VoiceRuntime) -> None:
    """Let the cache skip the version query while nothing changed (:mod:`.cache`)."""

    from .. import commit_hooks, db, queue
    from .versions import TOPIC

    key = f"cti:voice:config-token:{queue.deployment_id(app)}"
    runtime.cache.use_redis(queue.get_redis(app), key)
    commit_hooks.install(db.get_engine(app), TOPIC, lambda _names: runtime.cache.changed())


def get_runtime(app: Flask | None = None) -> VoiceRuntime:
    return (app or current_app).extensions["cti.voice"]


def webhook_auth_token(app: Flask | None = None) -> str:
    """The token that signs and validates webhooks (Twilio's auth token, or the simulator's)."""
    return get_runtime(app).auth_token.reveal()


#: Timeout (seconds) of every REST request to Twilio made through :func:`rest_client`.
REST_TIMEOUT = 10


def rest_client(app: Flask | None = None) -> Client | None:
    """A twilio-python REST client for this deployment (hold, transfer, hang-up …).

    Twilio mode: authenticated with the API key, every request with a timeout. Simulator mode:
    talks to the simulator attached with :func:`attach_simulator`, or ``None`` without one.
    """
    app = app or current_app
    runtime = get_runtime(app)
    if runtime.mode == "twilio":
        return Client(runtime.api_key_sid, runtime.api_key_secret.reveal(), runtime.account_sid,
                      http_client=TwilioHttpClient(timeout=REST_TIMEOUT))
    simulator = app.extensions.get("cti.simulator")
    if simulator is None:
        return None
    return Client(runtime.account_sid, runtime.auth_token.reveal(),
                  http_client=simulator.http_client())


def ensure_simulator(app: Flask) -> None:
    """Simulator mode in a process that has not attached a simulator yet (``cti worker``):
    build simulated mode's one (which attaches it), so REST calls reach a simulator. It never
    holds another process's calls or recordings; Twilio mode: nothing to do."""
    runtime = get_runtime(app)
    if runtime.mode != "simulator" or "cti.simulator" in app.extensions:
        return
    simulated = app.extensions.get("cti.simulated_mode")
    if simulated is not None:
        simulated.simulator  # noqa: B018 - building it attaches it


def attach_simulator(app: Flask, simulator: Any) -> None:
    """Let the app reach a :class:`voice.simulator.Simulator` running in this process.

    Recording media and REST calls then go to the simulator instead of ``api.twilio.com``.
    The simulator must be built with this app's account SID and :func:`webhook_auth_token`.
    """
    runtime = get_runtime(app)
    if simulator.account_sid != runtime.account_sid or not simulator.checks_auth(
            simulator.account_sid, runtime.auth_token.reveal()):
        raise ValueError("the simulator must use this app's account SID and webhook token")
    session = requests.Session()
    session.mount(TWILIO_API, simulator.requests_adapter())
    runtime.media = session
    app.extensions["cti.simulator"] = simulator
