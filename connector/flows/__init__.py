"""Call flows behind the numbers (SPEC CF-1…CF-4, CF-7, CF-8, AD-6, KT-6, SF-6).

A number routed ``flow:<name>`` enters the newest version of that flow. Modules:

* :mod:`.store` — flows (versioned canonical TOML), schedule overrides, audio files;
* :mod:`.cache` — each process's compiled flows, reloaded when they change;
* :mod:`.runner` — an engine step (:mod:`voice.flows.engine`) to TwiML and a call plan;
* :mod:`.views` — ``/twilio/voice/flow/*``, the webhooks of a call in a flow;
* :mod:`.admin` — ``/api/admin/flows`` and ``/api/admin/flow-audio``;
* :mod:`.voicemail` and :mod:`.voicemail_api` — voicemail boxes, e-mail notices, history.

See ``docs/call-flows.md``.
"""

from __future__ import annotations

from flask import Flask

from .cache import FlowCache


def init_app(app: Flask) -> None:
    from .. import commit_hooks, db
    from ..voice.runtime import get_runtime
    from ..voice.versions import TOPIC
    from . import admin, views, voicemail_api

    # The voice configuration's token also moves with flow changes (the same version bumps).
    cache = FlowCache(get_runtime(app).cache.current_token)
    app.extensions["cti.flows"] = cache
    commit_hooks.install(db.get_engine(app), TOPIC, lambda _names: cache.changed())
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(voicemail_api.bp)
