"""The supervisor and admin console at ``/console/`` (SPEC ST-1…ST-6, AD-1, AD-2, AD-4, AD-5).

Server-side pages (Jinja) with a few plain ES modules for the sign-in, the real-time board and
the charts (Chart.js from npm, served from ``/console/vendor/``). See docs/console.md.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import (  # noqa: F401 (routes)
        admin_api,
        admin_pages,
        board,
        campaigns_view,
        charges_view,
        groups_view,
        monitor_view,
        policy_view,
        security,
        settings_view,
        users_view,
        views,
    )
    from .common import bp

    security.init_app(app)
    app.register_blueprint(bp)
