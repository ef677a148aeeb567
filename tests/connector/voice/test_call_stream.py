"""The inbound call record through the Redis stream (connector.callstream): written later by
the worker's consumer, seen at once by whoever reads it, never lost nor written twice."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from urllib.parse import urlencode

import pytest
import redis as redis_lib
from sqlalchemy import func, select

from connector import callstream, db, presence
from connector.schema import agent_status_intervals, calls
from connector.voice import webhook_auth_token
from voice.signature import SIGNATURE_HEADER, compute_signature

from .conftest import BASE, CALLER, NUMBER, make_env

STREAM = {"voice": {"call_records": "stream"}}


@pytest.fixture
def stream_env(tmp_path, sqlite_url):
    env = make_env(tmp_path, sqlite_url, **STREAM)
    yield env
    db.get_engine(env.app).dispose()


def _post(env, path, params):
    signature = compute_signature(f"{BASE}{path}", params, webhook_auth_token(env.app))
    return env.app.test_client().post(
        path, data=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: signature})


def _ring(env, sid=None):
    sid = sid or "CA" + secrets.token_hex(16)
    response = _post(env, "/twilio/voice/inbound", [
        ("CallSid", sid), ("CallStatus", "ringing"), ("From", CALLER), ("To", NUMBER),
        ("Direction", "inbound")])
    assert response.status_code == 200, response.data
    return sid, response.get_data(as_text=True)


def _rows(env, sid=None):
    with db.get_engine(env.app).connect() as conn:
        query = select(func.count()).select_from(calls)
        if sid:
            query = query.where(calls.c.call_sid == sid)
        return conn.execute(query).scalar_one()


def _consume(env, name="worker-1"):
    stream = callstream.get_stream(env.app)
    with env.app.app_context():
        return stream.consume(db.get_engine(env.app), name, block_ms=10)


def test_the_webhook_queues_the_record_and_the_consumer_writes_it_with_presence(stream_env):
    env = stream_env
    agent = env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato")

    sid, answer = _ring(env)

    assert "<Client" in answer and _rows(env, sid) == 0  # nothing written while ringing
    assert _consume(env) == 1
    record = env.record(sid)
    assert (record["outcome"], record["detail"], record["expected_legs"]) == ("", "route:agent", 1)
    with db.get_engine(env.app).connect() as conn:
        now = presence.get(conn, agent.id)
    assert (now.status, now.call_sid) == ("ringing", sid)
    assert _consume(env) == 0  # acknowledged: not written again
    stream = callstream.get_stream(env.app)
    assert stream.redis.xlen(stream.stream_key) == 0
    assert stream.redis.get(stream.pending_key(sid)) is None


def test_a_status_callback_before_the_consumer_finds_the_record_and_replay_changes_nothing(
        stream_env):
    env = stream_env
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato")
    sid, _ = _ring(env)

    response = _post(env, "/twilio/voice/status", [
        ("CallSid", sid), ("CallStatus", "completed"), ("From", CALLER), ("To", NUMBER),
        ("CallDuration", "0")])

    assert response.status_code == 200
    assert env.record(sid)["status"] == "completed"
    with db.get_engine(env.app).connect() as conn:
        intervals = conn.execute(select(func.count()).select_from(
            agent_status_intervals)).scalar_one()
    assert _consume(env) == 0  # the record exists: the event is a no-op, then acknowledged
    assert env.record(sid)["status"] == "completed"  # not moved back to ringing
    with db.get_engine(env.app).connect() as conn:
        assert conn.execute(select(func.count()).select_from(
            agent_status_intervals)).scalar_one() == intervals


def test_the_softphone_api_sees_a_ringing_call_before_the_consumer(stream_env):
    env = stream_env
    env.add_agent("sato", role="admin")
    env.add_number(NUMBER, "agent:sato")
    sid, _ = _ring(env)
    headers = env.login("sato")

    one = env.app.test_client().get(f"/api/calls/{sid}", headers=headers)
    listed = env.app.test_client().get("/api/calls", headers=headers)

    assert one.status_code == 200 and one.get_json()["call"]["call_sid"] == sid
    assert [c["call_sid"] for c in listed.get_json()["calls"]] == [sid]


def test_a_killed_consumer_loses_nothing(stream_env, monkeypatch):
    env = stream_env
    env.add_number(NUMBER, "voicemail")
    sids = [_ring(env)[0] for _ in range(5)]
    stream = callstream.get_stream(env.app)
    stream.ensure_group()
    # A consumer that read the events and died before writing them (no acknowledgement).
    taken = stream.redis.xreadgroup(callstream.GROUP, "dead-worker",
                                    {stream.stream_key: ">"}, count=10)
    assert len(taken[0][1]) == 5 and _rows(env) == 0

    assert _consume(env, "worker-2") == 0  # not yet abandoned: left to its owner
    monkeypatch.setattr(callstream, "RECLAIM_IDLE_MS", 0)
    assert _consume(env, "worker-2") == 5
    assert all(_rows(env, sid) == 1 for sid in sids)
    assert stream.redis.xpending(stream.stream_key, callstream.GROUP)["pending"] == 0


def test_a_batch_written_but_not_acknowledged_is_written_once(stream_env, monkeypatch):
    env = stream_env
    env.add_number(NUMBER, "voicemail")
    sids = [_ring(env)[0] for _ in range(3)]
    stream = callstream.get_stream(env.app)

    def crash(*args, **kwargs):
        raise redis_lib.ConnectionError("killed after the commit")

    monkeypatch.setattr(stream.redis, "pipeline", crash)
    with pytest.raises(redis_lib.ConnectionError):
        _consume(env)
    monkeypatch.undo()
    assert _rows(env) == 3  # committed, not acknowledged

    assert _consume(env) == 0  # replayed: its own pending entries, all already there
    assert _rows(env) == 3 and all(_rows(env, sid) == 1 for sid in sids)
    assert stream.redis.xlen(stream.stream_key) == 0


def test_without_redis_the_webhook_writes_the_record_itself_and_healthz_says_so(
        tmp_path, sqlite_url):
    env = make_env(tmp_path, sqlite_url, queue={"redis_url": "redis://127.0.0.1:1/0"}, **STREAM)
    env.add_number(NUMBER, "voicemail")
    try:
        sid, answer = _ring(env)
        assert "<Record" in answer and _rows(env, sid) == 1
        health = env.app.test_client().get("/healthz").get_json()
        check = health["checks"]["call_records"]
        assert check["setting"] == "stream" and "ConnectionError" in check["last_failure"]
    finally:
        db.get_engine(env.app).dispose()


def test_auto_uses_the_stream_only_when_redis_persists(stream_env):
    stream = callstream.CallStream(callstream.get_stream(stream_env.app).redis, "cti:test:",
                                   "auto")
    persists = bool(stream.redis.info("persistence").get("aof_enabled"))
    assert stream.active() is persists
    with pytest.raises(ValueError, match="call_records"):
        callstream.CallStream(stream.redis, "cti:test:", "sometimes")


def test_a_redis_restart_loses_no_call_record(tmp_path, sqlite_url):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs redis-server to restart it")
    folder = tmp_path / "redis"
    folder.mkdir()
    sock = folder / "redis.sock"

    def start():
        process = subprocess.Popen([binary, "--port", "0", "--unixsocket", str(sock),
                                    "--dir", str(folder), "--appendonly", "yes",
                                    "--appendfsync", "always", "--save", ""],
                                   stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis_lib.Redis(unix_socket_path=str(sock)).ping():
                    return process
            except redis_lib.RedisError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    server = start()
    env = make_env(tmp_path, sqlite_url, queue={"redis_url": f"unix://{sock}"},
                   voice={"call_records": "auto"})
    try:
        env.add_number(NUMBER, "voicemail")
        assert callstream.get_stream(env.app).active()  # auto: Redis writes its AOF
        sids = [_ring(env)[0] for _ in range(4)]
        assert _rows(env) == 0
        server.kill()  # a crash, not a clean shutdown: only the AOF keeps the events
        server.wait()
        server = start()
        assert _consume(env) == 4
        assert all(_rows(env, sid) == 1 for sid in sids)
    finally:
        server.kill()
        server.wait()
        db.get_engine(env.app).dispose()


def _sends(monkeypatch):
    """Counts what the app sends Redis, one entry per round trip (a pipeline is one)."""
    sent: list[bytes] = []
    original = redis_lib.connection.AbstractConnection.send_packed_command

    def counting(self, command, check_health=True):
        chunks = command if isinstance(command, list) else [command]
        sent.append(b"".join(bytes(c) for c in chunks))
        return original(self, command, check_health)

    monkeypatch.setattr(redis_lib.connection.AbstractConnection, "send_packed_command",
                        counting)
    return sent


def test_a_known_caller_to_an_agent_costs_three_redis_round_trips(stream_env, monkeypatch):
    """Issue 18: the configuration token and the caller's phone-index entry share the first
    round trip; then the agent's claim, then the call record's append. Nothing else."""
    from connector import crm, phone_index
    from crm_adapters.base import Customer

    env = stream_env
    crm.init_app(env.app)  # the real CRM layer: its phone index is read from Redis
    env.add_agent("sato")
    env.add_agent("suzuki")
    env.add_number(NUMBER, "agent:sato")
    warm_up = "+815099990000"
    env.add_number(warm_up, "agent:suzuki")
    with db.get_engine(env.app).begin() as conn:
        phone_index.upsert_customers(conn, "builtin", [Customer(
            "builtin", "42", "山田 太郎", "customer", "山田商事", (CALLER,))], now=env.now)
    # Loads the configuration and the scripts, and caches the caller's index entry.
    _post(env, "/twilio/voice/inbound", [
        ("CallSid", "CA" + secrets.token_hex(16)), ("CallStatus", "ringing"),
        ("From", CALLER), ("To", warm_up), ("Direction", "inbound")])

    sent = _sends(monkeypatch)
    sid, answer = _ring(env)

    assert "<Client" in answer and "山田 太郎" in answer  # the caller, from the index
    assert len(sent) == 3, sent  # was four: the token had its own round trip
    token_key = env.app.extensions["cti.voice"].cache._token_key.encode()
    index_read = env.app.extensions["cti.crm"].index_cache.generation_key.encode()
    assert token_key in sent[0] and index_read in sent[0] and b"EVALSHA" in sent[0]
    assert sid.encode() in sent[1] and b"EVALSHA" in sent[1]  # the claim
    assert b"XADD" in sent[2] and b"MULTI" in sent[2]  # the call record


def test_a_read_ahead_the_server_cannot_answer_is_read_again(stream_env):
    """A NOSCRIPT reply (Redis restarted, scripts gone) or no read at all: the lookup and the
    configuration read on their own, as without the read-ahead."""
    from connector import crm, phone_index
    from connector.voice.read_ahead import read_ahead
    from crm_adapters.base import Customer

    env = stream_env
    crm.init_app(env.app)
    index = env.app.extensions["cti.crm"].index_cache
    with db.get_engine(env.app).begin() as conn:
        phone_index.upsert_customers(conn, "builtin", [Customer(
            "builtin", "7", "佐藤 一郎", "customer", "", (CALLER,))], now=env.now)
    cache = env.app.extensions["cti.voice"].cache
    index._read.sha = "0" * 40  # a script the server does not know
    with env.app.app_context():
        ahead = read_ahead(env.app, cache, CALLER)
        assert isinstance(ahead.index, redis_lib.exceptions.NoScriptError)
        found = index.lookup(db.get_engine(env.app), CALLER, ahead.index)
        assert [c.display_name for c in found] == ["佐藤 一郎"]
        assert index._read.sha != "0" * 40  # loaded again by the ordinary read
        with db.get_engine(env.app).connect() as conn:
            first = cache.refresh(conn, token_read=ahead.token)  # no token yet: one is set
            again = read_ahead(env.app, cache, CALLER)
            assert isinstance(again.index, list)  # a reply this time (the entry's tombstone)
            assert isinstance(again.token, bytes)
            assert cache.refresh(conn, token_read=again.token) is first  # nothing changed


def test_the_consumer_lingers_for_a_batch_and_recreates_a_lost_group(stream_env):
    import threading

    env = stream_env
    env.add_number(NUMBER, "voicemail")
    stream = callstream.get_stream(env.app)
    engine = db.get_engine(env.app)
    first, _ = _ring(env)
    late: list[str] = []
    # The second call comes while the consumer lingers after reading the first alone.
    timer = threading.Timer(0.1, lambda: late.append(_ring(env)[0]))
    timer.start()
    with env.app.app_context():
        written = stream.consume(engine, "worker-1", block_ms=10, recover=False,
                                 linger_ms=600)
    timer.join()
    assert written == 2 and _rows(env, first) == 1 and _rows(env, late[0]) == 1
    assert stream.redis.xlen(stream.stream_key) == 0

    stream.redis.delete(stream.stream_key)  # Redis emptied under the running consumer
    sid, _ = _ring(env)
    with env.app.app_context(), pytest.raises(redis_lib.ResponseError, match="NOGROUP"):
        stream.consume(engine, "worker-1", block_ms=10, recover=False)
    assert _consume(env) == 1 and _rows(env, sid) == 1  # the group was made again


def test_a_batch_is_written_in_one_insert_with_replays_and_other_columns(tmp_path,
                                                                          database_url):
    env = make_env(tmp_path, database_url, **STREAM)
    try:
        agent = env.add_agent("sato")
        env.add_number(NUMBER, "agent:sato")
        first, _ = _ring(env)  # rings sato (着信中 goes with the record)
        second, _ = _ring(env)  # sato is taken: voicemail
        stream = callstream.get_stream(env.app)
        replay = stream.redis.get(stream.pending_key(first))
        stream.redis.xadd(stream.stream_key, {"e": replay})  # the first event once more
        bare = callstream.CallEvent("CA" + "e" * 32, {  # fewer columns than the webhook's
            "call_sid": "CA" + "e" * 32, "direction": "outbound", "leg": "customer",
            "status": "initiated", "now": env.sim.wall_time(env.sim.now())})
        stream.append(bare)
        statements = []
        from sqlalchemy import event

        engine = db.get_engine(env.app)
        listener = lambda *args: statements.append(args[2])  # noqa: E731 - a probe
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert _consume(env) == 3  # three records; the replay created nothing
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO CALLS")]
        assert len(inserts) == 2  # one per set of columns, not one per event
        assert [_rows(env, sid) for sid in (first, second, bare.call_sid)] == [1, 1, 1]
        assert env.record(bare.call_sid)["direction"] == "outbound"
        with engine.connect() as conn:
            now = presence.get(conn, agent.id)
            rings = conn.execute(select(func.count()).select_from(agent_status_intervals).where(
                agent_status_intervals.c.status == "ringing")).scalar_one()
        assert (now.status, now.call_sid, rings) == ("ringing", first, 1)
        assert _consume(env) == 0
    finally:
        db.get_engine(env.app).dispose()
