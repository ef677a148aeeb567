"""The phone index as the ringing path reads it: from Redis, the database being the truth.

``connector.phone_index`` keeps every CRM record under each of its numbers in the database
(1,000,000 numbers and more). The inbound webhook asks it one number per call; here that
answer is cached in Redis per number (``<prefix><generation>:<e164>`` → the records, best
first, as compact JSON; unknown numbers too), read in one round trip with the generation.

Kept in sync after commit (:mod:`connector.commit_hooks`): a transaction that changes the
index or the agents' choices for some numbers leaves a short *tombstone* on those numbers,
each one unique (``-`` and a random tag); one that removes records wholesale (the end of a
full sync) moves the generation, so every cached answer is dropped at once.

Why an older answer never comes back: a reader that found *nothing* caches what it read only
with ``SET NX`` — if a change committed meanwhile, its tombstone holds the key and the write
fails. A reader that found a *tombstone* started reading the database after that change
committed (the tombstone is set after commit), so its answer is at least as new; it replaces
that very tombstone only if it is still there (compare-and-set): a later change has put a
new tombstone of its own. So the first call after a change caches the answer again — before,
a tombstone sent every call to the database until it expired (30 s), which after a sync
touching many numbers meant a database query per call.

Memory is bounded: only numbers that called within :data:`TTL_SECONDS` are cached. An entry
of one record costs about 250–300 bytes in Redis (key, JSON and per-key overhead; measured
with ``MEMORY USAGE``), an unknown number about 100 — so even if all 1,000,000 indexed numbers
called within the TTL it would be about 300 MB; a realistic day of 50,000 distinct callers is
about 15 MB. The web processes keep nothing per number.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Hashable
from typing import Any

import redis
from sqlalchemy import Engine

from crm_adapters.base import Customer

from . import commit_hooks, phone_index

log = logging.getLogger("cti.crm")

TOPIC = "phone_index"
TTL_SECONDS = 86400
TOMBSTONE_SECONDS = 30
#: A tombstone's first byte (a cached answer is a JSON array, so it starts with ``[``).
_TOMBSTONE = b"-"
_FIELDS = ("adapter", "record_id", "display_name", "object_type", "company", "url",
           "updated_at")
# One round trip: the generation, and the entry under it.
_READ = """
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}
"""
# A reader's answer replaces the tombstone it saw, and nothing else.
_REPLACE_TOMBSTONE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) and 1
end
return 0
"""


class PhoneIndexCache:
    def __init__(self, client: redis.Redis, prefix: str, ttl: int = TTL_SECONDS) -> None:
        self.redis, self.prefix, self.ttl = client, prefix, ttl
        self.generation_key = f"{prefix}generation"
        self._read = client.register_script(_READ)
        self._replace_tombstone = client.register_script(_REPLACE_TOMBSTONE)

    def install(self, engine: Engine) -> None:
        commit_hooks.install(engine, TOPIC, self.invalidate)

    def read_command(self, e164: str) -> tuple[str | int, ...]:
        """This number's read, for a round trip that reads more (:mod:`.voice.read_ahead`);
        its reply is :meth:`lookup`'s ``read``.

        By SHA alone: loading the script as well would cost a round trip of its own. If the
        server does not know the script yet the reply is an error, and :meth:`lookup` reads
        again the ordinary way (which loads it).
        """
        return ("EVALSHA", self._read.sha, 1, self.generation_key, self.prefix, e164)

    def lookup(self, engine: Engine, e164: str, read: object = None) -> list[Customer]:
        """The indexed records of ``e164``, best first (as :func:`phone_index.lookup`).

        ``read``: the reply of :meth:`read_command` when a round trip read it already (an error
        reply, or ``None``, and it is read here).
        """
        try:
            generation, raw = (read if isinstance(read, list) else self._read(
                keys=[self.generation_key], args=[self.prefix, e164]))
        except redis.RedisError:
            generation, raw = None, None
        if raw is not None and not raw.startswith(_TOMBSTONE):
            return [_customer(item, e164) for item in json.loads(raw)]
        with engine.connect() as conn:
            found = phone_index.lookup(conn, e164)
        if generation is not None:
            self._remember(self._key(generation, e164), raw, _dumps(found))
        return found

    def _remember(self, key: str, seen: bytes | None, answer: str) -> None:
        """Cache ``answer``, read after seeing ``seen`` (nothing, or a tombstone) under
        ``key`` — unless a change has committed since (see the module's docstring)."""
        try:
            if seen is None:  # NX: a tombstone set meanwhile wins
                self.redis.set(key, answer, ex=self.ttl, nx=True)
            else:
                self._replace_tombstone(keys=[key], args=[seen, answer, self.ttl])
        except redis.RedisError:
            pass

    def invalidate(self, numbers: set[Hashable]) -> None:
        """After a commit that changed the index for ``numbers`` (``"*"``: any number)."""
        if "*" in numbers:
            self.redis.incr(self.generation_key)
            return
        generation = self.redis.get(self.generation_key) or b"0"
        with self.redis.pipeline(transaction=False) as pipe:
            for e164 in numbers:  # each its own, so a reader replaces only the one it saw
                tombstone = _TOMBSTONE + secrets.token_hex(6).encode()
                pipe.set(self._key(generation, str(e164)), tombstone, ex=TOMBSTONE_SECONDS)
            pipe.execute()

    def _key(self, generation: bytes | str, e164: str) -> str:
        if isinstance(generation, bytes):
            generation = generation.decode()
        return f"{self.prefix}{generation}:{e164}"


def _dumps(customers: list[Customer]) -> str:
    return json.dumps([[getattr(c, name) for name in _FIELDS] for c in customers],
                      ensure_ascii=False, separators=(",", ":"))


def _customer(item: list[Any], e164: str) -> Customer:
    values = dict(zip(_FIELDS, item, strict=True))
    return Customer(phone_numbers=(e164,), **values)
