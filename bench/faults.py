"""Fault-injection run: N simulated calls through real processes while everything fails once.

Starts a private ``redis-server``, a database (a PostgreSQL schema of its own on 127.0.0.1:5432,
else SQLite), a local fake CRM (``tests/fakes/faulty_crm.py``, the example adapter's API), a real
``cti serve --no-worker`` and real ``cti worker`` processes. Then places N calls as Twilio would
— signed inbound webhooks and status callbacks, 20 % of the calls with their callbacks reordered
(``completed`` before ``in-progress``) and one of them sent twice — while the schedule below
runs, by share of the calls placed:

    10 % CRM 503 ×3       20 % CRM 429 ×3       30 % CRM hangs past the timeout ×2
    35 % worker 1 SIGKILLed (with its work horse and scheduler), restarted 1 s later
    40 % CRM applies the write, then answers 500 ×3       45 % Redis FLUSHALL
    50 % CRM HTML 502 ×3  55 % database connections dropped ×3 (PostgreSQL only)
    65 % worker 2 SIGKILLed, restarted            75 % Redis killed, restarted 2 s later (empty)
    85 % CRM answers 401 to everything for 5 s, then fixed; `cti jobs retry --adapter example`

Then waits until every call's log is in the CRM and prints calls placed, logs expected and
present, duplicates, dead letters and the time to converge after the last fault. Exit status 0
when nothing is lost or duplicated.

A webhook answered with an HTTP error or not at all is sent again up to 5 times, as Twilio does
with the connection override ``#rc=5&rp=all`` (counted as "webhooks re-sent").

    .venv/bin/python bench/faults.py --calls 10000
    .venv/bin/python bench/faults.py --calls 300 --database sqlite
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from connector.schema import calls, crm_writebacks  # noqa: E402
from tests.fakes.faulty_crm import FaultyCRM  # noqa: E402
from tests.fakes.server import LiveServer  # noqa: E402
from voice.signature import compute_signature  # noqa: E402

TOKEN = "faults-crm-token-0123456789"
PG_URL = os.environ.get("CTI_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
OUR_NUMBER = "+815012345678"
ACCOUNT_SID = "AC" + "0" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class RedisServer:
    """A private redis-server on a TCP port, without persistence (a restart empties it)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            sys.exit("faults.py needs redis-server (Debian package redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: port_open(self.port), 10, "redis-server")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Database:
    """A PostgreSQL schema of its own (dropped afterwards), else a SQLite file."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.tag = f"faults_{uuid.uuid4().hex[:10]}"
        if kind == "auto":
            kind = "postgresql" if port_open(5432) else "sqlite"
        self.kind = kind
        if kind == "postgresql":
            self.admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.tag}"'))
            self.url = (f"{PG_URL}?options=-csearch_path%3D{self.tag}"
                        f"&application_name={self.tag}")
        else:
            self.admin = None
            self.url = f"sqlite:///{folder}/cti.db"
        self.engine = create_engine(self.url.replace(f"&application_name={self.tag}", ""))

    def drop_connections(self) -> int:
        """Terminate every connection of the deployment (not ours) as a failover would."""
        if self.admin is None:
            return 0
        with self.admin.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :tag"), {"tag": self.tag}).all())

    def close(self, *, keep: bool = False) -> None:
        self.engine.dispose()
        if self.admin is not None and keep:
            print(f"  kept the database: {self.url}")
        elif self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.tag}" CASCADE'))
            self.admin.dispose()


def wait_for(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"faults.py: {what} did not come up within {seconds:.0f} s")
        time.sleep(0.1)


def config_text(tmp: Path, port: int, database: str, redis: str, crm_url: str) -> str:
    return f"""
[server]
public_base_url = "http://127.0.0.1:{port}"
port = {port}
data_dir = "{tmp}/var"
secret_key = "{'f' * 40}"
[storage]
database_url = "{database}"
[queue]
redis_url = "{redis}"
[logging]
level = "WARNING"
format = "json"
[crm]
adapters = ["example"]
sync_interval_minutes = 0
writeback_delay_seconds = 2
[crm.example]
base_url = "{crm_url}"
api_token = "{TOKEN}"
"""


class Deployment:
    """The real processes: `cti serve` and the workers, each restartable."""

    def __init__(self, tmp: Path, config: Path) -> None:
        self.tmp = tmp
        self.env = {**os.environ, "CTI_CONFIG": str(config), "PYTHONUNBUFFERED": "1"}
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: dict[int, subprocess.Popen[bytes]] = {}

    def cti(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "connector.cli", "--lang", "en", *args],
                              cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=120)
        if done.returncode:
            raise SystemExit(f"cti {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 — lives with the process
        return subprocess.Popen([sys.executable, "-m", "connector.cli", *args], cwd=ROOT,
                                env=self.env, stdout=log, stderr=log, start_new_session=True)

    def start_server(self, port: int) -> None:
        self.server = self._spawn("serve", "serve", "--no-worker", "--no-demo")
        wait_for(lambda: port_open(port), 60, "cti serve")

    def start_worker(self, n: int) -> None:
        self.workers[n] = self._spawn(f"worker{n}", "worker")

    def worker_env(self, **values: str) -> None:
        self.env.update(values)

    def kill_worker(self, n: int) -> int:
        """SIGKILL the worker and every process under it (its work horse leaves its group)."""
        pids = descendants(self.workers[n].pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.workers[n].wait()
        return len(pids)

    def stop(self) -> None:
        for process in [*self.workers.values(), self.server]:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in [*self.workers.values(), self.server]:
            if process is None:
                continue
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def log_lines(self, needle: str) -> int:
        return sum(path.read_text(errors="replace").count(needle)
                   for path in self.tmp.glob("*.log"))


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class Caller:
    """Plays Twilio: signed webhooks for one call at a time per thread."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self.local = threading.local()
        self.lock = threading.Lock()
        self.stats: Counter[str] = Counter()

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def post(self, path: str, params: dict[str, str]) -> None:
        url = self.base_url + path
        headers = {"X-Twilio-Signature": compute_signature(url, params, self.token)}
        for attempt in range(6):
            try:
                response = self._session().post(url, data=params, headers=headers, timeout=15)
                if response.status_code < 500:
                    self._count("webhooks", resent=attempt)
                    if response.status_code >= 400:
                        self._count(f"webhooks answered {response.status_code}")
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5 * (attempt + 1))
        self._count("webhooks given up", resent=5)

    def _count(self, key: str, resent: int = 0) -> None:
        with self.lock:
            self.stats[key] += 1
            self.stats["webhooks re-sent"] += resent

    def place(self, call_sid: str, caller: str, messy: bool, rng: random.Random) -> None:
        base = {"AccountSid": ACCOUNT_SID, "CallSid": call_sid, "From": caller,
                "To": OUR_NUMBER, "Direction": "inbound", "ApiVersion": "2010-04-01"}
        self.post("/twilio/voice/inbound", {**base, "CallStatus": "ringing"})
        now = format_datetime(datetime.now(UTC), usegmt=True)
        answered = {**base, "CallStatus": "in-progress", "Timestamp": now,
                    "CallbackSource": "call-progress-events"}
        ended = {**base, "CallStatus": "completed", "CallDuration": "30", "Timestamp": now,
                 "CallbackSource": "call-progress-events"}
        callbacks = [answered, ended]
        if messy:
            callbacks = [ended, answered, rng.choice([answered, ended])]
        for params in callbacks:
            self.post("/twilio/voice/status", params)


class Schedule:
    """The faults, each fired once when its share of the calls has been placed."""

    def __init__(self) -> None:
        self.steps: list[tuple[float, str, Callable[[], str]]] = []
        self.fired: list[tuple[float, str, str]] = []  # (monotonic time, name, what happened)
        self.last_fault_at: float | None = None

    def add(self, share: float, name: str, action: Callable[[], str]) -> None:
        self.steps.append((share, name, action))

    def run(self, progress: Callable[[], float], finished: threading.Event) -> None:
        for share, name, action in sorted(self.steps, key=lambda s: s[0]):
            while progress() < share and not finished.is_set():
                time.sleep(0.05)
            try:
                what = action()
            except Exception as exc:  # a fault that could not be injected is reported
                what = f"could not inject: {type(exc).__name__}: {exc}"
            self.last_fault_at = time.monotonic()
            self.fired.append((self.last_fault_at, name, what))


def build_schedule(crm: FaultyCRM, deployment: Deployment, redis: RedisServer,
                   database: Database) -> Schedule:
    schedule = Schedule()

    def crm_fault(kind: str, times: int) -> Callable[[], str]:
        def inject() -> str:
            crm.fail_next(kind, times)
            return f"next {times} write(s)"
        return inject

    def kill(n: int) -> Callable[[], str]:
        def inject() -> str:
            count = deployment.kill_worker(n)
            time.sleep(1.0)
            deployment.start_worker(n)
            return f"{count} process(es) killed, restarted"
        return inject

    def flush() -> str:
        import redis as redis_lib

        redis_lib.Redis.from_url(redis.url).flushall()
        return "every key gone"

    def restart_redis() -> str:
        redis.kill()
        time.sleep(2.0)
        redis.start()
        return "killed, restarted empty"

    def drop_connections() -> str:
        if database.kind != "postgresql":
            return "skipped (SQLite has no server connections)"
        dropped = 0
        for _ in range(3):
            dropped += database.drop_connections()
            time.sleep(1.0)
        return f"{dropped} connection(s) terminated"

    def auth_outage() -> str:
        crm.refuse_auth(True)
        time.sleep(5.0)
        crm.refuse_auth(False)
        out = deployment.cti("jobs", "retry", "--adapter", "example")
        return f"401 for 5 s, fixed; {out}"

    schedule.add(0.10, "CRM 503", crm_fault("503", 3))
    schedule.add(0.20, "CRM 429", crm_fault("429", 3))
    schedule.add(0.30, "CRM timeout", crm_fault("timeout", 2))
    schedule.add(0.35, "worker 1 SIGKILL", kill(1))
    schedule.add(0.40, "CRM apply-then-500", crm_fault("after_write", 3))
    schedule.add(0.45, "Redis FLUSHALL", flush)
    schedule.add(0.50, "CRM HTML 502", crm_fault("html502", 3))
    schedule.add(0.55, "database connections dropped", drop_connections)
    schedule.add(0.65, "worker 2 SIGKILL", kill(2))
    schedule.add(0.75, "Redis restart", restart_redis)
    schedule.add(0.85, "CRM 401, then fixed", auth_outage)
    return schedule


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--senders", type=int, default=8, help="concurrent Twilio connections")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", choices=("auto", "postgresql", "sqlite"), default="auto")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds to wait for convergence after the last call")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--keep", type=Path, help="keep the processes' logs in this (new) "
                                                  "folder")
    parser.add_argument("--verbose", action="store_true", help="workers log at INFO")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fake CRM's access log
    rng = random.Random(args.seed)
    if args.keep:
        args.keep.mkdir(parents=True)
        return run(args, args.keep.resolve(), rng)
    with tempfile.TemporaryDirectory(prefix="cti-faults-") as folder:
        return run(args, Path(folder), rng)


def run(args: argparse.Namespace, tmp: Path, rng: random.Random) -> int:
    redis = RedisServer(tmp)
    redis.start()
    database = Database(args.database, tmp)
    crm = FaultyCRM(TOKEN)
    port = free_port()
    deployment = None
    try:
        with LiveServer(crm) as live:
            config = tmp / "cti.toml"
            config.write_text(config_text(tmp, port, database.url, redis.url, live.url))
            (tmp / "var").mkdir()
            webhook_token = uuid.uuid4().hex
            (tmp / "var" / "twilio_simulator_token").write_text(webhook_token)
            deployment = Deployment(tmp, config)
            deployment.cti("db", "upgrade")
            deployment.cti("number", "add", OUR_NUMBER, "--route", "voicemail")
            deployment.start_server(port)
            if args.verbose:  # the workers' own account of what they did, for debugging
                deployment.worker_env(CTI_LOGGING__LEVEL="INFO")
            for n in range(1, args.workers + 1):
                deployment.start_worker(n)
            return place_and_wait(args, rng, crm, deployment, redis, database, port,
                                  webhook_token)
    finally:
        if deployment is not None:
            deployment.stop()
        redis.stop()
        database.close(keep=bool(args.keep))


def place_and_wait(args: argparse.Namespace, rng: random.Random, crm: FaultyCRM,
                   deployment: Deployment, redis: RedisServer, database: Database, port: int,
                   webhook_token: str) -> int:
    caller = Caller(f"http://127.0.0.1:{port}", webhook_token)
    run_id = uuid.uuid4().hex[:8]
    sids = [f"CA{run_id}{i:024x}" for i in range(args.calls)]
    messy = {sid for sid in sids if rng.random() < 0.2}
    numbers = [f"+8190{rng.randrange(10**8):08d}" for _ in range(200)]
    placed = 0
    placed_lock = threading.Lock()
    finished = threading.Event()
    schedule = build_schedule(crm, deployment, redis, database)
    faults = threading.Thread(target=schedule.run, args=(lambda: placed / args.calls, finished),
                              daemon=True)

    def place(sid: str, seed: int) -> None:
        nonlocal placed
        caller.place(sid, numbers[seed % len(numbers)], sid in messy, random.Random(seed))
        with placed_lock:
            placed += 1

    started = time.monotonic()
    faults.start()
    with ThreadPoolExecutor(args.senders) as pool:
        for n, sid in enumerate(sids):
            pool.submit(place, sid, n)
    placed_at = time.monotonic()
    faults.join()
    finished.set()
    last_fault = schedule.last_fault_at or placed_at
    deadline = max(placed_at, last_fault) + args.timeout
    expected = set(sids)
    while time.monotonic() < deadline:
        with crm.lock:
            present = len(expected & crm.logs.keys())
        if present == len(expected):
            break
        time.sleep(0.5)
    converged_at = time.monotonic()
    settled_at = wait_settled(database, converged_at + 180)
    report(args, crm, deployment, database, schedule, caller, sids, messy, started, placed_at,
           last_fault, converged_at, settled_at)
    with crm.lock:
        lost = len(expected - crm.logs.keys())
        duplicates = sum(1 for sid in expected if crm.records_created[sid] > 1)
    return 0 if not lost and not duplicates else 1


def wait_settled(database: Database, deadline: float) -> float | None:
    """When no write-back is left pending (logs present may still be re-written: a lost
    answer), or ``None`` by ``deadline``."""
    while time.monotonic() < deadline:
        with database.engine.connect() as conn:
            pending = conn.execute(select(func.count()).select_from(crm_writebacks).where(
                crm_writebacks.c.state == "pending")).scalar()
        if not pending:
            return time.monotonic()
        time.sleep(1.0)
    return None


def report(args: argparse.Namespace, crm: FaultyCRM, deployment: Deployment,
           database: Database, schedule: Schedule, caller: Caller, sids: list[str],
           messy: set[str], started: float, placed_at: float, last_fault: float,
           converged_at: float, settled_at: float | None) -> None:
    expected = set(sids)
    with crm.lock:
        present = len(expected & crm.logs.keys())
        duplicates = sum(1 for sid in expected if crm.records_created[sid] > 1)
        rewrites = sum(max(0, crm.writes[sid] - 1) for sid in expected)
        write_requests = crm.requests["PUT /api/call-logs"]
        served = dict(crm.faults_served)
    with database.engine.connect() as conn:
        states = dict(conn.execute(select(crm_writebacks.c.state, func.count())
                                   .group_by(crm_writebacks.c.state)).all())
        final = conn.execute(select(func.count()).select_from(calls).where(
            calls.c.finalized_at.is_not(None), calls.c.parent_call_sid.is_(None))).scalar()
    converged = present == len(expected)
    print(f"faults.py: {args.calls:,} calls, {args.senders} Twilio connections, "
          f"{args.workers} `cti worker`, database {database.kind}, Redis private redis-server")
    print(f"  calls placed: {len(sids):,} in {placed_at - started:.0f} s "
          f"({len(sids) / max(0.001, placed_at - started):.0f} calls/s); "
          f"{len(messy):,} with duplicated and reordered callbacks")
    print(f"  webhooks: {caller.stats['webhooks']:,} answered, "
          f"{caller.stats['webhooks re-sent']:,} re-sent after an error, "
          f"{caller.stats['webhooks given up']:,} given up; "
          f"{sum(v for k, v in caller.stats.items() if k.startswith('webhooks answered 4'))} "
          "answered 4xx")
    print("  faults (seconds after the first call):")
    for at, name, what in schedule.fired:
        print(f"    {at - started:6.1f}  {name}: {what}")
    print(f"  CRM faults served: {served}")
    print(f"  calls final in the database: {final:,}")
    print(f"  logs expected: {len(expected):,}, logs present: {present:,}, "
          f"lost: {len(expected) - present:,}")
    print(f"  duplicates (second CRM record for a call): {duplicates}; repeat writes of a "
          f"log (upserts after a lost answer or a retry): {rewrites:,}")
    print(f"  dead letters now: {states.get('failed', 0)}; write-backs {dict(states)}")
    print(f"  CRM write requests: {write_requests:,} "
          f"({write_requests / max(1, present):.3f} per logged call)")
    print(f"  server errors logged: {deployment.log_lines('Traceback')} tracebacks")
    if converged:
        print(f"  converged {converged_at - last_fault:.0f} s after the last fault "
              f"(target <= 120 s); {converged_at - placed_at:.0f} s after the last call")
    else:
        print(f"  NOT converged within {args.timeout:.0f} s")
    if settled_at is not None:
        print(f"  every write-back done {settled_at - last_fault:.0f} s after the last fault")
    else:
        print("  write-backs still pending 180 s after convergence")


if __name__ == "__main__":
    sys.exit(main())
