"""The app's clock. Injected so lock-outs, expiries and timers can be tested without waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def init_app(app: Flask, clock: Clock | None = None) -> None:
    app.extensions["cti.clock"] = clock or system_clock


def now(app: Flask | None = None) -> datetime:
    """Aware UTC "now" by the app's clock."""
    return (app or current_app).extensions["cti.clock"]()
