"""``GET /``: the landing page, and ``/docs/…``: the guides of ``docs/``, read-only.

The landing page links what a newcomer looks for first — the softphone, the built-in CRM, the
health check and the guides. It is Japanese by default; ``?lang=en`` shows it in English. The
guides are rendered from the Markdown files found by :func:`.docs.docs_dir`.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import views

    app.register_blueprint(views.bp)
