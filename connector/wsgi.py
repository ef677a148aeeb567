"""WSGI entry point for production servers::

    gunicorn --workers 4 --bind 0.0.0.0:8000 --access-logfile - 'connector.wsgi:create_wsgi_app()'

gunicorn's own access and error logs are masked too (:mod:`connector.access_log`).
"""

from __future__ import annotations

from flask import Flask

from . import create_app
from .access_log import mask_gunicorn_logs
from .logs import configure_logging
from .runtime import app_secrets


def create_wsgi_app() -> Flask:
    app = create_app()
    settings = app.config["CTI_SETTINGS"]
    configure_logging(settings.logging.level, settings.logging.format, app_secrets(app))
    mask_gunicorn_logs(app_secrets(app))
    return app
