"""Voice: Twilio tokens, signed webhooks, call flows, call records, numbers and lists.

SPEC SP-1…SP-3, SP-8, CF-1, CF-7…CF-10, CF-12; see ``docs/voice.md``. Blueprints:

* :mod:`.twilio_views` — ``/twilio/voice/*``, the webhooks Twilio calls;
* :mod:`.api` — the softphone's ``/api/token``, ``/api/dial/check``, ``/api/me/caller-ids``,
  ``/api/calls`` and recordings;
* :mod:`.admin` — ``/api/admin/numbers``, ``groups``, ``agents/<u>/caller-ids``,
  ``number-lists``.

For other parts of the app: :func:`signed_recording_url` (CRM call logs), :func:`rest_client`
(hold and transfer), :func:`webhook_auth_token` and :func:`attach_simulator` (the softphone's
simulated mode).
"""

from __future__ import annotations

from flask import Flask

from .recordings import signed_recording_url
from .runtime import attach_simulator, get_runtime, rest_client, webhook_auth_token


def init_app(app: Flask) -> None:
    from . import admin, api, channels, runtime, twilio_views

    runtime.init_app(app)
    channels.init_app(app)
    app.register_blueprint(twilio_views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)


__all__ = ["attach_simulator", "get_runtime", "init_app", "rest_client", "signed_recording_url",
           "webhook_auth_token"]
