"""The adapters' :class:`~crm_adapters.base.Limiter`, shared by every process through Redis.

- ``slot``: a counting semaphore — a sorted set of holders scored by lease expiry, so a holder
  that dies (a killed worker) frees its slot when the lease runs out.
- ``count_today``: a per-day counter that expires two days after its day.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import redis

from crm_adapters.errors import AdapterTemporaryError

# Atomically: drop expired holders, then take a slot if one is free.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  return 1
end
return 0
"""


class RedisLimiter:
    """Tenant-wide limits for CRM adapters (e.g. kintone's 100 concurrent requests per domain)."""

    def __init__(self, client: redis.Redis, *, lease_seconds: float = 120.0,
                 poll_seconds: float = 0.02, prefix: str = "cti:limit:") -> None:
        self.client = client
        self.lease = lease_seconds
        self.poll = poll_seconds
        self.prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)

    @contextlib.contextmanager
    def slot(self, name: str, limit: int, timeout: float) -> Iterator[None]:
        key = f"{self.prefix}slot:{name}"
        holder = secrets.token_hex(8)
        deadline = time.monotonic() + timeout
        while True:
            now = time.time()
            taken = self._acquire(keys=[key], args=[now, now + self.lease, limit, holder,
                                                    int(self.lease) + 60])
            if taken:
                break
            if time.monotonic() >= deadline:
                raise AdapterTemporaryError(f"all {limit} request slots of {name!r} stayed "
                                            f"busy for {timeout} s")
            time.sleep(self.poll)
        try:
            yield
        finally:
            self.client.zrem(key, holder)

    def count_today(self, name: str, tz: str = "Asia/Tokyo", reset_hour: int = 0) -> int:
        local = datetime.now(ZoneInfo(tz)) - timedelta(hours=reset_hour)
        key = f"{self.prefix}day:{name}:{local.date().isoformat()}"
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, 2 * 86400)
        count, _ = pipe.execute()
        return int(count)
