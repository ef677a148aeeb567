"""Inbound ACD (SPEC SP-6, SP-7, CF-5, CF-6, CF-11): server-owned presence, atomic agent claims,
ring strategies per group. See docs/voice.md "Queues and ring strategies".

``app.extensions["cti.acd"]`` is the app's :class:`ACD` (the live board on the app's Redis, the
waiting callers next to it, and a random generator for the ``random`` strategy, seedable in
tests).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from flask import Flask, current_app

from .board import PREFIX, AgentBoard
from .waiting import WaitingQueues


@dataclass
class ACD:
    board: AgentBoard
    rng: random.Random = field(default_factory=random.Random)
    queues: WaitingQueues = field(init=False)

    def __post_init__(self) -> None:
        self.queues = WaitingQueues(self.board)


def get_acd(app: Flask | None = None) -> ACD:
    return (app or current_app).extensions["cti.acd"]


def board_prefix(app: Flask) -> str:
    """Keys of this deployment: its database names it, so deployments (or test apps) sharing
    one Redis never see each other's agents."""
    from .. import queue

    return f"{PREFIX}{queue.deployment_id(app)}:"


def init_app(app: Flask) -> None:
    from .. import queue
    from . import admin, events, webhooks

    app.extensions["cti.acd"] = ACD(AgentBoard(queue.get_redis(app), board_prefix(app)))
    app.extensions.setdefault("cti.status_hooks", []).append(events.on_status)
    app.register_blueprint(admin.bp)
    app.register_blueprint(webhooks.bp)
