"""Security headers on every response.

``Content-Security-Policy: frame-ancestors`` lists exactly who may frame our pages (the softphone
lives inside Salesforce and kintone) — ``[server] frame_ancestors`` — and nobody else.
``X-Frame-Options`` is deliberately absent: ``frame-ancestors`` supersedes it, and its
``ALLOW-FROM`` form is unsupported by current browsers.
"""

from __future__ import annotations

from flask import Flask, Response, g, request

from .config import Settings


def content_security_policy(settings: Settings, extra: dict[str, list[str]] | None = None) -> str:
    """The CSP for a response; views add sources with ``g.csp_extra = {"script-src": [...]}``."""
    directives: dict[str, list[str]] = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'", *settings.server.frame_ancestors],
    }
    for name, sources in (extra or {}).items():
        directives.setdefault(name, []).extend(s for s in sources if s not in directives[name])
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def init_app(app: Flask) -> None:
    settings: Settings = app.config["CTI_SETTINGS"]
    https = settings.server.public_base_url.startswith("https://")
    default_policy = content_security_policy(settings)  # built once; views rarely extend it

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        extra = g.get("csp_extra")
        headers.setdefault("Content-Security-Policy",
                           content_security_policy(settings, extra) if extra else default_policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.path.startswith("/api/"):
            headers.setdefault("Cache-Control", "no-store")
        return response
