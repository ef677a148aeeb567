"""The inbound webhook's first Redis round trip, carrying two reads that do not depend on
each other: the voice configuration's token (:class:`.cache.VoiceCache`) and the caller's
entry in the phone index (:class:`connector.phone_cache.PhoneIndexCache`).

Each reply goes to the code that would otherwise have read it itself; a reply that is missing
or an error makes that code read on its own, as before — so nothing here can be stale or wrong
in a way the separate reads could not be.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from flask import Flask

from ..redis_wire import round_trip
from .cache import VoiceCache


@dataclass(frozen=True)
class ReadAhead:
    token: object = None  #: for ``VoiceCache.refresh(token_read=…)``
    index: object = None  #: for ``customer_of(…, read=…)``


def read_ahead(app: Flask, cache: VoiceCache, e164: str) -> ReadAhead:
    """The token and, for a caller with a number, the index entry, in one round trip."""
    client = cache.redis
    layer = app.extensions.get("cti.crm")
    index = getattr(layer, "index_cache", None) if e164 else None
    if client is None or (index is not None and index.redis is not client):
        return ReadAhead()  # not on one server: each reads on its own
    commands = [cache.token_read_command()]
    if index is not None:
        commands.append(index.read_command(e164))
    try:
        replies = round_trip(client, commands)
    except redis.RedisError:
        return ReadAhead()
    return ReadAhead(replies[0], replies[1] if index is not None else None)
