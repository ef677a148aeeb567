"""Sign-in throttling that an attacker cannot turn against agents (issue 17; ASVS V2.2.1).

Every way in — password sign-in, password change, token refresh, the Salesforce callback —
asks :meth:`SignInThrottle.before` first and reports the outcome afterwards. The counting is
the ``limits`` package's moving windows in Redis: each hit is one Lua script, so concurrent
requests on any number of threads, processes or servers count exactly.

* **Per (account, client address)** — ``[auth.throttle] per_account_address``: every attempt is
  counted *before* the password is checked, so 50 concurrent guesses get exactly as many
  checks as the window allows and the rest a 429. Several windows make the wait grow
  (a minute, a quarter of an hour, an hour). A success clears them.
* **Per client address** — ``per_address``: failures over all accounts (password spraying).
  Only failures count, so an office of agents behind one NAT address signing in at nine is
  not slowed; the check comes before the attempt and the failure is counted after it, so
  concurrent requests may overshoot it by the number in flight.
* The Salesforce callback has no account yet: only the per-address failure windows apply
  (forged or replayed callbacks fail), so an office signing in at nine is never slowed.
* **Account lock** (SPEC AD-3, ``max_failed_attempts`` in ``lockout_minutes`` of the policy in
  force, :func:`connector.auth.policy.effective_policy`): only when the failures came from at
  least ``lock_min_addresses`` client addresses. One address alone — someone who knows an
  agent's ID — can slow its own guesses but never lock the agent out.

Keys hold a digest of the account name and the address, never either in clear, under a prefix
derived from the database URL: processes sharing a database share counters; test apps do not.
When Redis cannot be reached, sign-in is refused (503) rather than left unthrottled.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from flask import Flask, current_app
from limits import RateLimitItem, parse, parse_many
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from ..config import AuthSettings
from ..messages import Text
from .policy import effective_policy

TOO_MANY = Text("試行回数が多すぎます。{seconds} 秒後にもう一度お試しください。",
                "Too many attempts; try again in {seconds} seconds.")
UNAVAILABLE = Text("現在サインインできません（試行回数の記録に接続できません）。しばらくして"
                   "からお試しください。",
                   "Sign-in is unavailable right now (the attempt counter cannot be reached); "
                   "try again shortly.")


class Throttled(Exception):
    """Refused before trying: ``retry_after`` seconds until the window that is full frees up."""

    def __init__(self, retry_after: int, scope: str) -> None:
        super().__init__(f"throttled ({scope}); retry after {retry_after} s")
        self.retry_after = retry_after
        self.scope = scope
        self.text = TOO_MANY.format(seconds=retry_after)


class ThrottleUnavailable(Exception):
    """Redis could not be reached; the attempt is refused."""

    text = UNAVAILABLE


@dataclass(frozen=True)
class Attempt:
    """One attempt: ``kind`` separates counters ("password" covers sign-in and password
    change — both are password guesses), ``account`` what is being guessed at."""

    kind: str
    account: str
    address: str


class SignInThrottle:
    """``policy`` gives the ``[auth.throttle]`` windows; ``lock_policy``, when given, is asked
    for the account lock's ``max_failed_attempts``/``lockout_minutes`` at every failure, so a
    change on the console's login-policy screen applies without a restart."""

    def __init__(self, client: redis.Redis, policy: AuthSettings, prefix: str,
                 lock_policy: Callable[[], AuthSettings] | None = None) -> None:
        storage = RedisStorage("redis://", connection_pool=client.connection_pool,
                               key_prefix=prefix)
        self.redis = client
        self.prefix = prefix
        self.windows = MovingWindowRateLimiter(storage)
        self.per_account_address = parse_many(policy.throttle.per_account_address)
        self.per_address = parse_many(policy.throttle.per_address)
        self.lock_min_addresses = policy.throttle.lock_min_addresses
        self._lock_policy = lock_policy or (lambda: policy)

    @property
    def lock_window(self) -> RateLimitItem | None:
        """N failures in M minutes; None when the policy never locks. A changed N or M is a
        new window (its own counter), so the count starts afresh after a change."""
        policy = self._lock_policy()
        if not policy.max_failed_attempts:
            return None
        return parse(f"{policy.max_failed_attempts} per {policy.lockout_minutes} minutes")

    def before(self, attempt: Attempt, *, per_account: bool = True) -> None:
        """Raise :class:`Throttled` if this attempt may not be tried now; else count it.

        ``per_account=False``: only the address's failures decide (the Salesforce callback,
        where there is no account to count against yet and a whole office may come back
        from Salesforce in the same minute).
        """
        account, address = _digest(attempt.account), _digest(attempt.address)
        try:
            for item in self.per_address:
                if not self.windows.test(item, "address", address):
                    raise Throttled(self._wait(item, "address", address), "address")
            for item in self.per_account_address if per_account else ():
                ids = (attempt.kind, account, address)
                if not self.windows.hit(item, *ids):
                    raise Throttled(self._wait(item, *ids), "account_address")
        except redis.RedisError as exc:
            raise ThrottleUnavailable() from exc

    def failed(self, attempt: Attempt, *, lockable: bool = False) -> bool:
        """Count a failure; True when the account must now be locked (``lockable`` accounts
        only: an existing, active account whose password was wrong)."""
        account, address = _digest(attempt.account), _digest(attempt.address)
        try:
            for item in self.per_address:
                self.windows.hit(item, "address", address)
            window = self.lock_window
            if not (lockable and window):
                return False
            ids = ("lock", account)
            self.windows.hit(window, *ids)
            seen = f"{self.prefix}:lock-addresses:{account}"
            with self.redis.pipeline(transaction=True) as pipe:
                pipe.sadd(seen, address)
                pipe.expire(seen, int(window.get_expiry()))
                pipe.scard(seen)
                distinct = pipe.execute()[-1]
            full = self.windows.get_window_stats(window, *ids).remaining == 0
            if not (full and distinct >= self.lock_min_addresses):
                return False
            # Locked now: the next lock needs N new failures, as before.
            self.windows.clear(window, *ids)
            self.redis.delete(seen)
            return True
        except redis.RedisError as exc:
            raise ThrottleUnavailable() from exc

    def succeeded(self, attempt: Attempt) -> None:
        """The right secret: this client's own counters start again; the lock count too."""
        account, address = _digest(attempt.account), _digest(attempt.address)
        try:
            for item in self.per_account_address:
                self.windows.clear(item, attempt.kind, account, address)
            window = self.lock_window
            if window:
                self.windows.clear(window, "lock", account)
                self.redis.delete(f"{self.prefix}:lock-addresses:{account}")
        except redis.RedisError as exc:
            raise ThrottleUnavailable() from exc

    def _wait(self, item: RateLimitItem, *ids: str) -> int:
        reset = self.windows.get_window_stats(item, *ids).reset_time
        return max(1, math.ceil(reset - time.time()))


def get_throttle(app: Flask | None = None) -> SignInThrottle:
    """The app's throttle, made on first use (Redis is set up by :mod:`connector.queue`)."""
    app = app or current_app
    throttle = app.extensions.get("cti.signin_throttle")
    if throttle is None:
        settings = app.config["CTI_SETTINGS"]
        database = hashlib.sha256(settings.storage.database_url.encode()).hexdigest()[:12]
        throttle = SignInThrottle(app.extensions["cti.redis"], settings.auth,
                                  prefix=f"cti:signin:{database}",
                                  lock_policy=lambda: effective_policy(app, may_read=False))
        app.extensions["cti.signin_throttle"] = throttle
    return throttle


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]
