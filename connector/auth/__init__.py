"""Agent accounts and API authentication (SPEC AD-1, AD-3), and "Sign in with Salesforce"."""

from flask import Flask

from .guard import current_agent, require_auth


def init_app(app: Flask) -> None:
    from . import salesforce, views

    app.register_blueprint(views.bp)
    app.register_blueprint(salesforce.bp)  # "Sign in with Salesforce" (popup, OAuth + PKCE)


__all__ = ["current_agent", "init_app", "require_auth"]
