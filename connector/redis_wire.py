"""Redis commands sent in one write, their replies read back: a pipeline for the ringing path.

redis-py's ``pipeline()`` and ``execute_command`` are general: a pipeline object, a retry
wrapper with back-off, per-command bookkeeping and response callbacks on every round trip.
On the inbound webhook, which makes three round trips, that bookkeeping cost more CPU than
talking to Redis (``bench/webhook.py``; docs/voice.md "Speed"). :func:`round_trip` does only
the talking, on a connection of the client's own pool (so its settings, socket timeouts and
authentication apply): the commands are packed and sent in one write and the replies read in
order.

Replies are Redis's raw replies (``bytes``, ``int``, lists — no response callbacks); an error
reply is *returned* as its :class:`redis.ResponseError` (``NoScriptError`` for an unknown
script), as ``execute(raise_on_error=False)`` would. A connection that fails is dropped and the
commands are sent once more on a fresh one (a pooled connection may have outlived a Redis
restart); if that fails too, :class:`redis.ConnectionError` or :class:`redis.TimeoutError`
reaches the caller, which falls back as it would for any Redis failure.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

Command = Sequence[str | bytes | int | float]

def round_trip(client: redis.Redis, commands: Sequence[Command]) -> list[object]:
    """Send ``commands`` in one write and return their replies, in order."""
    try:
        return _send(client.connection_pool, commands)
    except (redis.ConnectionError, redis.TimeoutError):
        # Once more, not more (a stale pooled connection): the webhook must answer Twilio,
        # not wait for a Redis that is down.
        return _send(client.connection_pool, commands)


def exec_failure(replies: Sequence[object]) -> redis.ResponseError | None:
    """The first error of a ``MULTI`` … ``EXEC`` round trip's replies (the ``EXEC`` reply is
    the list of the queued commands' replies, errors among them), or ``None``."""
    for reply in replies:
        if isinstance(reply, redis.ResponseError):
            return reply
    last = replies[-1] if replies else None
    if last is None:
        return redis.ResponseError("EXEC aborted the transaction")
    if isinstance(last, list):
        for reply in last:
            if isinstance(reply, redis.ResponseError):
                return reply
    return None


def _send(pool: redis.ConnectionPool, commands: Sequence[Command]) -> list[object]:
    connection = pool.get_connection()
    try:
        connection.send_packed_command(connection.pack_commands(commands))
        replies: list[object] = []
        for _ in commands:
            try:
                replies.append(connection.read_response())
            except redis.ResponseError as error:
                replies.append(error)
        return replies
    except BaseException:
        connection.disconnect()  # its replies are out of step now; never reuse it
        raise
    finally:
        pool.release(connection)


def run_script(script: redis.commands.core.Script, keys: Sequence[str],
               args: Sequence[str | bytes | int | float]) -> object:
    """``script(keys=…, args=…)`` in one round trip, raw reply; a server that does not know
    the script yet gets it through redis-py's own call (which loads it)."""
    reply = round_trip(script.registered_client, [
        ("EVALSHA", script.sha, len(keys), *keys, *args)])[0]
    if isinstance(reply, redis.exceptions.NoScriptError):
        return script(keys=list(keys), args=list(args))
    if isinstance(reply, redis.ResponseError):
        raise reply
    return reply
