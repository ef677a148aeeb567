"""Version counters of the cached voice configuration (see :mod:`.cache`)."""

from __future__ import annotations

from sqlalchemy import Connection, update

from .. import commit_hooks
from ..schema import voice_versions

#: The :mod:`.commit_hooks` topic announced after a transaction that bumped a version.
TOPIC = "voice.config"


def bump(conn: Connection, name: str) -> None:
    """Record that ``name`` (``block``, ``restrict``, ``routing``) changed; call it inside the
    transaction that changes it, so every process reloads its copy on its next webhook."""
    conn.execute(update(voice_versions).where(voice_versions.c.name == name).values(
        version=voice_versions.c.version + 1))
    commit_hooks.note(conn, TOPIC, name)  # after the commit: a new token in Redis (.cache)
