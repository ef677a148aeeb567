"""WSGI entry point for production servers::

    gunicorn --workers 4 --bind 0.0.0.0:8000 'connector.wsgi:create_wsgi_app()'
"""

from __future__ import annotations

from flask import Flask

from . import create_app
from .logs import configure_logging
from .runtime import app_secrets


def create_wsgi_app() -> Flask:
    app = create_app()
    settings = app.config["CTI_SETTINGS"]
    configure_logging(settings.logging.level, settings.logging.format, app_secrets(app))
    return app
