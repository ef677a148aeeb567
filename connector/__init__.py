"""cti-connector: the Flask application (app factory, extensions, blueprints)."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from .config import Settings, load_settings, settings_from_mapping

__version__ = "0.1.0"


def create_app(settings: Settings | Mapping[str, Any] | None = None, *,
               clock: Any = None) -> Flask:
    """Build the app.

    Args:
        settings: validated :class:`Settings`, a raw mapping shaped like the TOML file (tests),
            or ``None`` to load the configuration file and environment.
        clock: a callable returning aware UTC ``datetime`` (tests); defaults to the system clock.
    """
    from . import (
        acd,
        auth,
        builtin_crm,
        callcenter,
        callstream,
        campaigns,
        console,
        cookie_session,
        crm,
        db,
        doctor,
        errors,
        flows,
        health,
        home,
        integrations,
        monitor,
        queue,
        request_size,
        security,
        sms,
        softphone,
        voice,
        wrapup,
        writeback,
    )
    from . import clock as clock_ext

    if settings is None:
        settings = load_settings()
    elif not isinstance(settings, Settings):
        settings = settings_from_mapping(settings)

    app = Flask(__name__, static_folder=None)
    app.config["CTI_SETTINGS"] = settings
    app.config["SECRET_KEY"] = _secret_key(settings)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Japanese stays readable

    clock_ext.init_app(app, clock)
    cookie_session.init_app(app)
    errors.init_app(app)
    request_size.init_app(app)
    security.init_app(app)
    db.init_app(app)
    queue.init_app(app)
    callstream.init_app(app)
    auth.init_app(app)
    crm.init_app(app)
    writeback.init_app(app)
    builtin_crm.init_app(app)
    voice.init_app(app)
    flows.init_app(app)
    acd.init_app(app)
    monitor.init_app(app)
    softphone.init_app(app)
    home.init_app(app)
    integrations.init_app(app)
    sms.init_app(app)
    console.init_app(app)
    campaigns.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(wrapup.bp)
    app.register_blueprint(callcenter.bp)
    app.register_blueprint(doctor.bp)
    return app


def _secret_key(settings: Settings) -> str:
    """The key that signs bearer tokens: configured, or generated once into the data directory.

    Several instances behind a load balancer must share it, so production sets
    ``[server] secret_key``; the generated file serves single-machine installs.
    """
    if settings.server.secret_key is not None:
        return settings.server.secret_key.reveal()
    return generated_secret(Path(settings.data_dir) / "secret_key")


def generated_secret(path: Path) -> str:
    """A random secret kept in ``path`` (mode 0600): read it, or create it on first use.

    Two processes starting together may race to create it; the loser reads the winner's.
    """
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_when_written(path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def _read_when_written(path: Path) -> str:
    for _ in range(50):  # the other process has created the file and is writing it
        value = path.read_text(encoding="ascii").strip()
        if value:
            return value
        time.sleep(0.01)
    raise RuntimeError(f"{path} stays empty; delete it and start again")
