"""Helpers shared by the process entry points (CLI commands, WSGI)."""

from __future__ import annotations

from flask import Flask

from crm_adapters.settings import secret_values


def app_secrets(app: Flask) -> list[str]:
    """Every secret the process knows, so logging can scrub them."""
    settings = app.config["CTI_SETTINGS"]
    found = secret_values(settings)
    found.append(app.config["SECRET_KEY"])
    layer = app.extensions.get("cti.crm")
    for adapter in (layer.adapters.values() if layer else ()):
        found.extend(secret_values(adapter.settings))
    voice = app.extensions.get("cti.voice")
    if voice is not None:  # the generated simulator token is in no settings
        found.append(voice.auth_token.reveal())
    return found
