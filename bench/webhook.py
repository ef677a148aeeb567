"""The inbound webhook under gunicorn, side by side with a Flask app that returns fixed TwiML.

Run with ``.venv/bin/python bench/webhook.py`` (``--help`` for options). Both servers run
under gunicorn on loopback with the same worker count; the same number of concurrent clients
POST signed, Twilio-shaped inbound webhooks (a new CallSid each) for the same time. The real
one checks the signature, matches the block list, reads the number's route and the agent's
presence, writes the call record and answers ``<Dial><Client>`` TwiML with the caller's
parameters; the floor only answers fixed TwiML. Prints requests/s, p50 and p99 for both and
their ratio. Target: ≥ 80 % of the floor's throughput, p99 ≤ 20 ms at 8 clients. Figures
only, no assertions.

``--index N`` first loads N numbers into the local phone index (as a CRM sync would) and makes
every caller one of them, so each webhook also finds its caller in the index and passes the
customer to the agent's browser (issue 4's "webhook with the index loaded").
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

from flask import Flask, Response

from voice.signature import SIGNATURE_HEADER, compute_signature

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NUMBER = "+815012345678"
PATH = "/twilio/voice/inbound"
FIXED_TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true">'
               "<Client><Identity>sato</Identity></Client></Dial></Response>")


def floor_app() -> Flask:
    """The floor: a minimal Flask app that answers every webhook with fixed TwiML."""
    app = Flask("floor")

    @app.post(PATH)
    def inbound() -> Response:
        return Response(FIXED_TWIML, mimetype="text/xml")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL (a scratch schema is made and dropped there); "
                             "default: SQLite in a temporary directory")
    parser.add_argument("--index", type=int, default=0, metavar="N",
                        help="load N numbers into the phone index; callers are among them")
    parser.add_argument("--route", choices=("agent", "group", "flow"), default="agent",
                        help="the number's route: the agent, a group of them, or a call "
                             "flow of a schedule and a menu (issue 13's comparison)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, _scratch_schema(args.database_url) as database:
        real_port = _free_port()
        config = _write_config(Path(tmp), real_port, database)
        token = _seed(config, args.index, args.route)
        callers = _callers(args.index)
        results = {}
        for name, target, port in (
                ("floor (fixed TwiML)", "bench.webhook:floor_app()", _free_port()),
                ("inbound webhook", "connector.wsgi:create_wsgi_app()", real_port)):
            with _gunicorn(target, port, args.workers, config, Path(tmp) / f"{port}.log"):
                base = f"http://127.0.0.1:{real_port}"  # the URL the signatures are over
                _load(port, _requests(base, token, 100, callers), args.clients)  # warm up
                bodies = _requests(base, token, int(args.seconds * 5000), callers)
                results[name] = _load(port, bodies, args.clients, args.seconds)
    _report(results, args)


# --- set-up -----------------------------------------------------------------------------------

@contextlib.contextmanager
def _scratch_schema(database_url: str) -> Iterator[str]:
    """On PostgreSQL, a schema of our own for the run (``search_path``), dropped afterwards."""
    if not database_url:
        yield ""
        return
    from sqlalchemy import create_engine, text

    from connector.db import make_engine

    schema = f"bench_{secrets.token_hex(6)}"
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in database_url else "?"
    try:
        yield f"{database_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with create_engine(admin.url).begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _write_config(tmp: Path, port: int, database_url: str) -> Path:
    path = tmp / "cti.toml"
    database = database_url or f"sqlite:///{tmp / 'var' / 'cti.db'}"
    path.write_text(f"""
[server]
public_base_url = "http://127.0.0.1:{port}"
data_dir = "{tmp / 'var'}"
secret_key = "{'b' * 40}"

[storage]
database_url = "{database}"

[logging]
level = "INFO"

[crm]
adapters = []
""", encoding="utf-8")
    return path


BENCH_FLOW = """
[flow]
name = "bench"
entry = "hours"

[nodes.hours]
kind = "schedule"
company_days = ["12-29..01-03"]
default = "menu"

[[nodes.hours.rules]]
days = ["mon", "tue", "wed", "thu", "fri"]
time = "09:00-18:00"
goto = "menu"

[nodes.menu]
kind = "menu"
say = "お電話ありがとうございます。サポートは1を押してください。"
keys = { 1 = "support" }
default = "support"

[nodes.support]
kind = "group"
group = "support"
"""


def _seed(config: Path, index: int = 0, route: str = "agent") -> str:
    """An available agent, a number routed to them (directly, through a group or a flow), a
    block list of 1,000 rules, and ``index`` numbers in the phone index."""
    from datetime import UTC, datetime

    from connector import create_app, db, presence
    from connector.auth import accounts
    from connector.config import load_settings
    from connector.flows import store
    from connector.voice import groups, number_lists, numbers, webhook_auth_token
    from connector.voice.numbers import NumberChanges, Route

    app = create_app(load_settings(config, environ={}))
    now = datetime.now(UTC)
    db.upgrade(db.get_engine(app))
    with db.get_engine(app).begin() as conn:
        agent = accounts.create_agent(conn, username="sato", display_name="佐藤",
                                      password=secrets.token_urlsafe(16) + "a1",
                                      policy=app.config["CTI_SETTINGS"].auth, now=now)
        presence.set_status(conn, agent.id, "available", now=now)
        groups.save_group(conn, "support", members=["sato"], now=now)
        store.import_flow(conn, BENCH_FLOW, now=now)
        target = {"agent": Route("agent", "sato"), "group": Route("group", "support"),
                  "flow": Route("flow", "bench")}[route]
        numbers.save_number(conn, NUMBER, NumberChanges(label="サポート", route=target,
                                                        fallback=Route("voicemail")), now=now)
        rules = "\n".join(f"+8180{n:08d}" for n in range(1000)).encode()
        number_lists.import_csv(conn, "block", rules, now=now)
    if index:
        from bench.lookup import build

        seconds = build(db.get_engine(app), index)
        print(f"phone index: {index:,} numbers loaded in {seconds:.1f} s")
    token = webhook_auth_token(app)
    db.get_engine(app).dispose()
    return token


def _callers(index: int) -> list[str]:
    """Caller numbers: ones in the index when there is one, else a fixed unknown number."""
    if not index:
        return ["+819012345678"]
    from bench.lookup import fake_number
    from voice.numbering import normalize

    step = max(1, index // 997)
    return [normalize(fake_number(i)) for i in range(0, index, step)]


class _gunicorn:  # noqa: N801 - used like a function in a with statement
    def __init__(self, target: str, port: int, workers: int, config: Path, log: Path) -> None:
        self.command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
                        f"127.0.0.1:{port}", "--backlog", "2048", target]
        self.env = {**os.environ, "CTI_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
        self.port, self.log = port, log

    def __enter__(self) -> _gunicorn:
        self.output = self.log.open("w")
        self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT,
                                        stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not start: {self.log.read_text()}")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.output.close()


# --- load -------------------------------------------------------------------------------------

def _requests(base: str, token: str, count: int,
              callers: list[str]) -> list[tuple[bytes, str]]:
    """Signed inbound webhooks, each for a new call."""
    out = []
    for n in range(count):
        caller = callers[n % len(callers)]
        params = [("AccountSid", "AC" + "0" * 32), ("ApiVersion", "2010-04-01"),
                  ("CallSid", "CA" + secrets.token_hex(16)), ("CallStatus", "ringing"),
                  ("Called", NUMBER), ("Caller", caller), ("Direction", "inbound"),
                  ("From", caller), ("To", NUMBER)]
        out.append((urlencode(params).encode(), compute_signature(base + PATH, params, token)))
    return out


def _load(port: int, bodies: list[tuple[bytes, str]], clients: int,
          seconds: float | None = None) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    position = iter(range(len(bodies)))
    stop_at = time.monotonic() + seconds if seconds else None

    def client() -> None:
        mine = []
        while stop_at is None or time.monotonic() < stop_at:
            with lock:
                index = next(position, None)
            if index is None:
                break
            body, signature = bodies[index]
            started = time.perf_counter()
            status = _post(port, body, signature)
            mine.append(time.perf_counter() - started)
            if status != 200:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
            "requests": len(latencies), "errors": errors[0]}


def _post(port: int, body: bytes, signature: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("POST", PATH, body, {
            "Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: signature})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _report(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    print(f"{args.clients} concurrent clients, {args.seconds:.0f} s each, gunicorn "
          f"--workers {args.workers}, loopback")
    print(f"{'':22}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}")
    for name, r in results.items():
        print(f"{name:22}{r['rps']:>12,.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}"
              f"{r['requests']:>10,.0f}{r['errors']:>8,.0f}")
    floor, real = results.values()
    print(f"ratio: {real['rps'] / floor['rps']:.0%} of the floor's throughput "
          f"(target ≥ 80 %); p99 {real['p99']:.1f} ms (target ≤ 20 ms)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
