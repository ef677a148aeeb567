"""Max channels per number (SPEC CF-1; seed 002 電話番号「最大チャンネル」): how many calls one of
our numbers carries at once, counted in Redis on the ringing path.

Each number with a limit has a sorted set of the CallSids it carries (score: when admitted).
The inbound webhook admits a call with one Lua script — drop stale members, then add the call
if it is there already (Twilio retried the webhook) or the set is below the limit — so two
webhooks racing for the last channel never both win, and no database is asked. The call's
final status callback (``completed``, ``busy``, ``failed``, ``no-answer``, ``canceled``)
removes it, which is idempotent: a callback Twilio sends twice frees one channel once.

A member older than :data:`STALE_AFTER_MS` is dropped when the next call is admitted: Twilio
ends a call after four hours by default (``<Dial timeLimit>``, 14400 s), so a call still
held after six lost its final callback, and must not block the number forever. When Redis
does not answer, calls are let through (a warning is logged): refusing callers because the
counter is away would be worse than a number briefly over its limit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import redis
from flask import Flask, current_app

from .. import clock

log = logging.getLogger("cti.voice.channels")

PREFIX = "cti:channels:"
STALE_AFTER_MS = 6 * 3600 * 1000
#: Final call statuses (Twilio's CallStatus values after which the call is gone).
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})

# KEYS[1] the number's set; ARGV: call SID, limit, now (ms), stale before (ms), key TTL (ms).
ADMIT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[4])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


class ChannelCounter:
    """The calls each number carries, on the app's Redis."""

    def __init__(self, client: redis.Redis, prefix: str = PREFIX) -> None:
        self.client = client
        self.prefix = prefix
        self._admit = client.register_script(ADMIT)

    def key(self, e164: str) -> str:
        return f"{self.prefix}{e164}"

    def admit(self, e164: str, call_sid: str, limit: int, now_ms: int) -> bool:
        """Whether the call may go on: True if it holds one of the ``limit`` channels now."""
        if limit <= 0:
            return True
        try:
            return bool(self._admit(keys=[self.key(e164)], args=[
                call_sid, limit, now_ms, now_ms - STALE_AFTER_MS, STALE_AFTER_MS]))
        except redis.RedisError as exc:
            log.warning("channel counter unavailable; call let through",
                        extra={"call_sid": call_sid, "error": type(exc).__name__})
            return True

    def release(self, e164: str, call_sid: str) -> bool:
        """Free the call's channel; True if it held one (False on a repeated callback)."""
        try:
            return bool(self.client.zrem(self.key(e164), call_sid))
        except redis.RedisError as exc:
            log.warning("channel counter unavailable; channel freed when stale",
                        extra={"call_sid": call_sid, "error": type(exc).__name__})
            return False

    def in_use(self, e164: str) -> int:
        """Calls the number carries now (for admins and tests)."""
        return int(self.client.zcard(self.key(e164)))


def get_counter(app: Flask | None = None) -> ChannelCounter:
    return (app or current_app).extensions["cti.channels"]


def now_ms(app: Flask | None = None) -> int:
    return int(clock.now(app).timestamp() * 1000)


def on_status(form: Mapping[str, str]) -> None:
    """A status callback: the final one of an inbound call frees its number's channel."""
    if form.get("ParentCallSid") or form.get("CallStatus") not in FINAL_STATUSES:
        return
    if form.get("Direction", "inbound") != "inbound":
        return
    to, sid = form.get("To", ""), form.get("CallSid", "")
    if to.startswith("+") and sid:
        get_counter().release(to, sid)


def init_app(app: Flask) -> None:
    from .. import queue

    # Keys of this deployment only: deployments (or test apps) may share one Redis.
    prefix = f"{PREFIX}{queue.deployment_id(app)}:"
    app.extensions["cti.channels"] = ChannelCounter(queue.get_redis(app), prefix)
    app.extensions.setdefault("cti.status_hooks", []).append(on_status)
