"""connector.redis_wire: one write, the replies in order, errors as values, one retry."""

import pytest
import redis

from connector.queue import connect
from connector.redis_wire import exec_failure, round_trip, run_script


def test_replies_come_back_in_order_and_raw(redis_client):
    redis_client.set("a", "1")
    replies = round_trip(redis_client, [("GET", "a"), ("GET", "missing"), ("INCR", "n"),
                                        ("SET", "b", "2", "EX", 60)])
    assert replies == [b"1", None, 1, b"OK"]
    assert redis_client.ttl("b") > 0


def test_an_error_reply_is_returned_and_the_connection_stays_usable(redis_client):
    redis_client.set("s", "text")
    replies = round_trip(redis_client, [("INCR", "s"), ("GET", "s")])
    assert isinstance(replies[0], redis.ResponseError)
    assert replies[1] == b"text"
    assert round_trip(redis_client, [("GET", "s")]) == [b"text"]


def test_a_failed_transaction_is_reported(redis_client):
    redis_client.set("s", "text")
    good = round_trip(redis_client, [("MULTI",), ("SET", "x", "1"), ("GET", "x"), ("EXEC",)])
    assert exec_failure(good) is None and good[-1] == [b"OK", b"1"]
    in_exec = round_trip(redis_client, [("MULTI",), ("INCR", "s"), ("SET", "y", "1"), ("EXEC",)])
    assert "not an integer" in str(exec_failure(in_exec))
    aborted = round_trip(redis_client, [("MULTI",), ("NOSUCHCOMMAND",), ("SET", "z", "1"),
                                        ("EXEC",)])
    assert exec_failure(aborted) is not None
    assert redis_client.get("z") is None  # nothing of an aborted transaction ran


def test_a_stale_pooled_connection_is_replaced(redis_client):
    round_trip(redis_client, [("PING",)])  # a connection now waits in the pool
    killed = redis_client.client_kill_filter(skipme=False, _type="normal")
    assert killed >= 1
    assert round_trip(redis_client, [("PING",)]) == [b"PONG"]


def test_redis_down_raises_a_connection_error():
    client = connect("redis://127.0.0.1:1")  # as the app connects: no retries of its own
    with pytest.raises(redis.ConnectionError):
        round_trip(client, [("PING",)])


def test_a_script_unknown_to_the_server_is_loaded(redis_client):
    script = redis_client.register_script("return {KEYS[1], ARGV[1]}")
    redis_client.script_flush()
    assert run_script(script, ["k"], [7]) == [b"k", b"7"]
    assert run_script(script, ["k2"], ["v"]) == [b"k2", b"v"]  # by SHA now
    failing = redis_client.register_script("return redis.error_reply('nope')")
    with pytest.raises(redis.ResponseError, match="nope"):
        run_script(failing, [], [])
