"""Agent accounts and API authentication (SPEC AD-1, AD-3)."""

from flask import Flask

from .guard import current_agent, require_auth


def init_app(app: Flask) -> None:
    from . import views

    app.register_blueprint(views.bp)


__all__ = ["current_agent", "init_app", "require_auth"]
