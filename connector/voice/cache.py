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

import threading
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from voice.number_lists import NumberList, NumberRule

from ..schema import agents, number_list_rules, voice_versions
from .groups import Group, list_groups
from .numbers import PhoneNumber, list_numbers

PIECES = ("block", "restrict", "routing")


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

    def refresh(self, conn: Connection) -> Snapshot:
        """The current configuration: one query, plus a reload of whatever changed."""
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
