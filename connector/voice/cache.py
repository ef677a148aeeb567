"""Each process's copy of the voice configuration the webhooks read on every call.

Numbers, groups, the block list and the restriction list change rarely and are read on every
webhook, so each process keeps them compiled in memory (``VoiceRuntime.cache``). Every change
bumps its row in ``voice_versions`` in the same transaction (:func:`.versions.bump`); a
webhook reads
all versions in one query and reloads only what moved — a change made by an admin in any
process is seen by the next call everywhere. What changes all the time (presence, call
records) is never cached.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass, field

import redis
from sqlalchemy import Connection, select

from voice.number_lists import NumberList, NumberRule

from ..schema import agents, number_list_rules, voice_versions
from .groups import Group, list_groups
from .numbers import PhoneNumber, list_numbers

log = logging.getLogger("cti.voice.cache")

PIECES = ("block", "restrict", "routing")
#: Even with an unchanged token the versions are read again this often (a belt for changes
#: made without :func:`.versions.bump` or announced while Redis was away).
MAX_TRUST_SECONDS = 5.0


@dataclass(frozen=True)
class Routing:
    """Numbers, groups and agents' IDs by user ID, as of one version."""

    numbers: dict[str, PhoneNumber] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    agent_ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Snapshot:
    block: NumberList
    restrict: NumberList
    routing: Routing


class VoiceCache:
    """The compiled configuration of this process, refreshed against ``voice_versions``."""

    def __init__(self) -> None:
        self._versions: dict[str, int] = {}
        self._snapshot = Snapshot(NumberList(()), NumberList(()), Routing())
        self._lock = threading.Lock()
        self._redis: redis.Redis | None = None
        self._token_key = ""
        self._token: bytes | None = None  # the token the snapshot was checked under
        self._checked_at = 0.0

    def use_redis(self, client: redis.Redis, key: str) -> None:
        """Skip the version query while ``key`` in Redis holds the token seen last."""
        self._redis, self._token_key = client, key

    def changed(self) -> None:
        """After a commit that bumped a version: a new token for every process."""
        self._token = None
        if self._redis is not None:
            try:
                self._redis.set(self._token_key, secrets.token_hex(8))
            except redis.RedisError as exc:  # the others notice within MAX_TRUST_SECONDS
                log.warning("could not announce a voice configuration change: %s", exc)

    def refresh(self, conn: Connection, *, token_read: object = None) -> Snapshot:
        """The current configuration: from memory while the Redis token is unchanged, else one
        query plus a reload of whatever changed. ``conn`` is used only in the second case.

        ``token_read``: the token as a pipeline of this request read it already
        (:meth:`token_read_command`), saving the webhook its own round trip; anything but
        bytes (not read ahead, no token yet, an error reply) and it is read here.
        """
        token = (token_read if isinstance(token_read, bytes)  # else unread, missing, an error
                 else self._current_token())
        if (token is not None and token == self._token
                and time.monotonic() - self._checked_at < MAX_TRUST_SECONDS):
            return self._snapshot
        snapshot = self._refresh_from(conn)
        self._token, self._checked_at = token, time.monotonic()
        return snapshot

    def token_read_command(self) -> tuple[str, str]:
        """The token's ``GET``, for a round trip on this cache's Redis (:attr:`redis`, when
        there is one) that reads more (:mod:`.read_ahead`). Its reply is what
        :meth:`refresh` takes as ``token_read``."""
        return ("GET", self._token_key)

    @property
    def redis(self) -> redis.Redis | None:
        return self._redis

    def current_token(self) -> bytes | None:
        """The configuration token in Redis now (``None`` without Redis): it changes with every
        committed version bump — flows' included — so other caches may trust it too."""
        return self._current_token()

    def _current_token(self) -> bytes | None:
        if self._redis is None:
            return None
        try:
            token = self._redis.get(self._token_key)
            if token is None:  # first use, or Redis lost it: a fresh token, then read it back
                self._redis.set(self._token_key, secrets.token_hex(8), nx=True)
                token = self._redis.get(self._token_key)
            return token
        except redis.RedisError:
            return None

    def _refresh_from(self, conn: Connection) -> Snapshot:
        versions = {name: version for name, version in conn.execute(
            select(voice_versions.c.name, voice_versions.c.version))}
        stale = {name for name in PIECES if versions.get(name, 0) != self._versions.get(name)}
        if not stale:
            return self._snapshot
        with self._lock:
            current = self._snapshot
            self._snapshot = Snapshot(
                _load_list(conn, "block") if "block" in stale else current.block,
                _load_list(conn, "restrict") if "restrict" in stale else current.restrict,
                _load_routing(conn) if "routing" in stale else current.routing)
            self._versions = {name: versions.get(name, 0) for name in PIECES}
            return self._snapshot


def _load_list(conn: Connection, name: str) -> NumberList:
    rows = conn.execute(select(number_list_rules.c.pattern, number_list_rules.c.note).where(
        number_list_rules.c.list_name == name).order_by(number_list_rules.c.id))
    return NumberList(NumberRule(pattern, note) for pattern, note in rows)


def _load_routing(conn: Connection) -> Routing:
    agent_ids = {name: agent_id for name, agent_id in conn.execute(
        select(agents.c.username, agents.c.id))}
    return Routing({n.e164: n for n in list_numbers(conn)},
                   {g.name: g for g in list_groups(conn)}, agent_ids)
