"""The Twilio webhooks under gunicorn, side by side with a floor that does only the mandatory work.

Run with ``.venv/bin/python bench/webhook.py`` (``--help`` for options). Both servers run
under gunicorn on loopback with the same worker count; the same number of concurrent clients
POST signed, Twilio-shaped webhooks (a new CallSid each) for the same time. The real one
checks the signature, matches the block list, reads the number's route, claims the agent,
looks the caller up, records the call and answers ``<Dial><Client>`` TwiML with the caller's
parameters; the floor parses the form, checks the signature and answers fixed TwiML. Prints
requests/s, p50 and p99 for both and their ratio, measured in the same run (on a shared
machine compare ratios, not absolute figures). Target: ≥ 80 % of the floor's throughput, p99
≤ 1.5 × the floor's. Figures only, no assertions.

* ``--index N`` first loads N numbers into the local phone index (as a CRM sync would) and makes
  every caller one of them, so each webhook also finds its caller in the index.
* ``--mix``: whole calls instead of inbound webhooks alone — per call, in order, the inbound
  webhook, the agent leg's four status callbacks (initiated, ringing, in-progress, completed),
  the ``<Dial>`` action and the caller's final status: 1 : 5 : 1, as Twilio sends them.
* ``--compare-flow``: issue 13's comparison in one run — the same server takes inbound webhooks
  for a number routed straight to a group and for a number routed to a call flow of a schedule
  and a menu, in alternating rounds (so a machine's load drifts over both alike), and the
  flow's throughput and p99 are printed as a ratio to the group route's (target: within 10 %).
* ``--pg``: PostgreSQL at 127.0.0.1:5432, database ``test`` (a scratch schema).
* ``--crm-slow S``: a CRM (the Example adapter) whose lookups answer after S seconds, every
  other one with a 500; callers are unknown to the index, so each one is looked up live.
* The server gets its own Redis with an append-only file, as production should, so
  ``[voice] call_records = "auto"`` writes call records through the stream and a ``cti worker``
  (started alongside) writes them to the database; ``--call-records sync`` compares.

The load client: ``wrk`` when it is installed (``apt-get install wrk``; one thread, so it takes
little CPU from the servers), playing requests signed beforehand from a file through a Lua
script; ``--client python`` (and ``--mix``, whose calls must keep their order) uses Python
threads in this process, which take more CPU from the servers — one more reason to read the
ratio rather than the absolute figures.
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
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, request

from voice.signature import SIGNATURE_HEADER, compute_signature, validate_signature

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NUMBER = "+815012345678"
#: ``--compare-flow``: a second number, routed to the bench flow (NUMBER goes to the group).
FLOW_NUMBER = "+815012345679"
#: ``--compare-flow`` alternates the two routes this many times each.
COMPARE_ROUNDS = 2
PATH = "/twilio/voice/inbound"
FIXED_TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Dial answerOnBridge="true">'
               "<Client><Identity>sato</Identity></Client></Dial></Response>")


STATUS_PATH = "/twilio/voice/status"
DIAL_PATH = "/twilio/voice/dial-action"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'
PG_URL = "postgresql://127.0.0.1:5432/test"


def floor_app() -> Flask:
    """The floor: the mandatory work (parse the form, check the signature), then fixed TwiML."""
    app = Flask("floor")
    token, base = os.environ["BENCH_TOKEN"], os.environ["BENCH_BASE"]

    def checked(answer: str) -> Response:
        url = base + request.path
        if request.query_string:
            url += "?" + request.query_string.decode("latin-1")
        if not validate_signature(url, request.form, request.headers.get(SIGNATURE_HEADER, ""),
                                  token):
            return Response("invalid signature", status=403)
        return Response(answer, mimetype="text/xml")

    app.add_url_rule(PATH, "inbound", lambda: checked(FIXED_TWIML), methods=["POST"])
    app.add_url_rule(STATUS_PATH, "status", lambda: checked(EMPTY_TWIML), methods=["POST"])
    app.add_url_rule(DIAL_PATH, "dial", lambda: checked(EMPTY_TWIML), methods=["POST"])
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL (a scratch schema is made and dropped there); "
                             "default: SQLite in a temporary directory")
    parser.add_argument("--pg", action="store_true", help=f"the same as --database-url {PG_URL}")
    parser.add_argument("--index", type=int, default=0, metavar="N",
                        help="load N numbers into the phone index; callers are among them")
    parser.add_argument("--route", choices=("agent", "group", "flow"), default="agent",
                        help="the number's route: the agent, a group of them, or a call "
                             "flow of a schedule and a menu (issue 13's comparison)")
    parser.add_argument("--compare-flow", action="store_true",
                        help="measure a group route and a schedule + menu flow in the same "
                             "run and print their ratio (overrides --route)")
    parser.add_argument("--mix", action="store_true",
                        help="whole calls: inbound + 5 status callbacks + the dial action")
    parser.add_argument("--crm-slow", type=float, default=0.0, metavar="S",
                        help="a CRM answering lookups after S seconds (every other one a 500)")
    parser.add_argument("--call-records", choices=("auto", "stream", "sync"), default="auto",
                        help="[voice] call_records of the server (default auto: the stream, "
                             "since the bench's Redis writes an append-only file)")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="load client: wrk if installed (auto), or Python threads")
    args = parser.parse_args()
    args.client = _client(args)
    database_url = PG_URL if args.pg else args.database_url
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        database = stack.enter_context(_scratch_schema(database_url))
        redis_url = stack.enter_context(_redis(tmp))
        crm_url = stack.enter_context(_slow_crm(args.crm_slow)) if args.crm_slow else ""
        real_port = _free_port()
        base = f"http://127.0.0.1:{real_port}"  # the URL the signatures are over
        config = _write_config(tmp, real_port, database, redis_url=redis_url, crm_url=crm_url,
                               call_records=args.call_records)
        route = "group" if args.compare_flow else args.route
        token = _seed(config, args.index, route, flow_number=args.compare_flow)
        callers = _callers(args.index, unknown=bool(args.crm_slow))
        build = _calls if args.mix else _inbound_only
        results = {}
        for name, target, port in (
                ("floor (form+signature)", "bench.webhook:floor_app()", _free_port()),
                ("webhooks" if args.mix else "inbound webhook",
                 "connector.wsgi:create_wsgi_app()", real_port)):
            env = {"BENCH_TOKEN": token, "BENCH_BASE": base}
            with contextlib.ExitStack() as servers:
                servers.enter_context(_gunicorn(target, port, args.workers, config,
                                                tmp / f"{port}.log", env))
                if target.startswith("connector"):
                    servers.enter_context(_worker(config, tmp / "worker.log"))
                _load(port, build(base, token, 20, callers), args.clients)  # warm up
                if target.startswith("connector") and args.compare_flow:
                    results.update(_compare(port, config, build, base, token, callers, args))
                    continue
                if args.client == "wrk":
                    work = build(base, token, int(args.seconds * WRK_MAX_RPS), callers)
                    results[name] = _load_wrk(port, work, args.clients, args.seconds, tmp)
                else:
                    work = build(base, token, int(args.seconds * 1500), callers)
                    results[name] = _load(port, work, args.clients, args.seconds)
                if target.startswith("connector"):
                    results[name]["drain_s"] = _drain(config)
        backlog = _call_records(config)
    _report(results, args, backlog)


def _compare(port: int, config: Path, build: Any, base: str, token: str, callers: list[str],
             args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The group route and the flow route on one server, in alternating rounds."""
    rounds: dict[str, list[dict[str, float]]] = {"group route": [], "flow (schedule+menu)": []}
    seconds = args.seconds / COMPARE_ROUNDS
    for _ in range(COMPARE_ROUNDS):
        for name, to in zip(rounds, (NUMBER, FLOW_NUMBER), strict=True):
            work = build(base, token, int(seconds * 1500), callers, to=to)
            rounds[name].append(_load(port, work, args.clients, seconds))
            _drain(config)  # the next round starts without this one's backlog
    return {name: {key: statistics.fmean(r[key] for r in runs) if key in ("rps", "p50", "p99")
                   else sum(r[key] for r in runs) for key in runs[0]}
            for name, runs in rounds.items()}


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


@contextlib.contextmanager
def _redis(tmp: Path) -> Iterator[str]:
    """A private redis-server with an append-only file (fsync every second), if installed;
    else the embedded one (which writes no AOF: call records are then written at once)."""
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        yield ""
        return
    sock = tmp / "redis.sock"
    process = subprocess.Popen([binary, "--port", "0", "--unixsocket", str(sock), "--dir",
                                str(tmp), "--appendonly", "yes", "--appendfsync", "everysec",
                                "--save", ""], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield f"unix://{sock}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def _slow_crm(seconds: float) -> Iterator[str]:
    """The Example CRM's lookup endpoint, answering after ``seconds``; every other one fails."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    counter = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            counter[0] += 1
            time.sleep(seconds)
            failing = counter[0] % 2 == 0
            body = json.dumps({"contacts": []}).encode()
            self.send_response(500 if failing else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _write_config(tmp: Path, port: int, database_url: str, *, redis_url: str = "",
                  crm_url: str = "", call_records: str = "auto") -> Path:
    path = tmp / "cti.toml"
    database = database_url or f"sqlite:///{tmp / 'var' / 'cti.db'}"
    crm = (f'adapters = ["example"]\n\n[crm.example]\nbase_url = "{crm_url}"\n'
           'api_token = "bench-token"' if crm_url else "adapters = []")
    path.write_text(f"""
[server]
public_base_url = "http://127.0.0.1:{port}"
data_dir = "{tmp / 'var'}"
secret_key = "{'b' * 40}"

[storage]
database_url = "{database}"

[queue]
redis_url = "{redis_url}"

[logging]
level = "INFO"

[voice]
call_records = "{call_records}"

[crm]
{crm}
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


def _seed(config: Path, index: int = 0, route: str = "agent", *,
          flow_number: bool = False) -> str:
    """An available agent, a number routed to them (directly, through a group or a flow), a
    block list of 1,000 rules, and ``index`` numbers in the phone index; ``flow_number``: also
    :data:`FLOW_NUMBER`, routed to the flow."""
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
        if flow_number:
            numbers.save_number(conn, FLOW_NUMBER, NumberChanges(
                label="サポート", route=Route("flow", "bench"), fallback=Route("voicemail")),
                now=now)
        rules = "\n".join(f"+8180{n:08d}" for n in range(1000)).encode()
        number_lists.import_csv(conn, "block", rules, now=now)
    if index:
        from bench.lookup import build

        seconds = build(db.get_engine(app), index)
        print(f"phone index: {index:,} numbers loaded in {seconds:.1f} s")
    token = webhook_auth_token(app)
    db.get_engine(app).dispose()
    return token


def _callers(index: int, *, unknown: bool = False) -> list[str]:
    """Caller numbers: ones in the index when there is one, else a fixed unknown number
    (``unknown``: a different unknown number each, so each is looked up live)."""
    if unknown:
        return [f"+8170{n:08d}" for n in range(20000)]
    if not index:
        return ["+819012345678"]
    from bench.lookup import fake_number
    from voice.numbering import normalize

    step = max(1, index // 997)
    return [normalize(fake_number(i)) for i in range(0, index, step)]


@contextlib.contextmanager
def _worker(config: Path, log: Path) -> Iterator[None]:
    """``cti worker``: the call-record stream's consumer (and the write-back jobs)."""
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "connector.cli", "--config", str(config), "worker"],
            env={**os.environ, "CTI_CONFIG": str(config), "PYTHONPATH": str(ROOT)}, cwd=ROOT,
            stdout=output, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # rq's warm shutdown waits for a job
                process.kill()
                process.wait()


def _drain(config: Path, timeout: float = 60.0) -> float:
    """Seconds until the worker has written every queued call record (after the load)."""
    from connector import callstream, create_app, db
    from connector.config import load_settings

    app = create_app(load_settings(config, environ={}))
    stream, began = callstream.get_stream(app), time.monotonic()
    try:
        while stream.active() and stream.backlog()["queued"] and (
                time.monotonic() - began < timeout):
            time.sleep(0.1)
        return time.monotonic() - began
    finally:
        db.get_engine(app).dispose()


def _call_records(config: Path) -> dict[str, int]:
    """After the run: call records in the database, and events still queued."""
    from sqlalchemy import func, select

    from connector import callstream, create_app, db
    from connector.config import load_settings
    from connector.schema import calls

    app = create_app(load_settings(config, environ={}))
    try:
        with db.get_engine(app).connect() as conn:
            written = conn.execute(select(func.count()).select_from(calls).where(
                calls.c.parent_call_sid.is_(None))).scalar_one()
        stream = callstream.get_stream(app)
        return {"written": written, "queued": stream.backlog()["queued"],
                "mode": stream.active()}
    finally:
        db.get_engine(app).dispose()


class _gunicorn:  # noqa: N801 - used like a function in a with statement
    def __init__(self, target: str, port: int, workers: int, config: Path, log: Path,
                 env: dict[str, str] | None = None) -> None:
        self.command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
                        f"127.0.0.1:{port}", "--backlog", "2048", target]
        self.env = {**os.environ, "CTI_CONFIG": str(config), "PYTHONPATH": str(ROOT),
                    **(env or {})}
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

Request = tuple[str, bytes, str]  # path (with query), body, signature


def _signed(base: str, token: str, path: str, params: list[tuple[str, str]]) -> Request:
    return path, urlencode(params).encode(), compute_signature(base + path, params, token)


def _inbound_only(base: str, token: str, count: int, callers: list[str],
                  to: str = NUMBER) -> list[list[Request]]:
    """Signed inbound webhooks, each for a new call."""
    return [[_inbound(base, token, "CA" + secrets.token_hex(16), callers[n % len(callers)], to)]
            for n in range(count)]


def _inbound(base: str, token: str, sid: str, caller: str, to: str = NUMBER) -> Request:
    return _signed(base, token, PATH, [
        ("AccountSid", "AC" + "0" * 32), ("ApiVersion", "2010-04-01"), ("CallSid", sid),
        ("CallStatus", "ringing"), ("Called", to), ("Caller", caller),
        ("Direction", "inbound"), ("From", caller), ("To", to)])


def _calls(base: str, token: str, count: int, callers: list[str],
           to: str = NUMBER) -> list[list[Request]]:
    """Whole calls, their webhooks in Twilio's order: inbound, the agent leg's statuses,
    the dial action, the caller's final status (1 : 5 : 1)."""
    out = []
    for n in range(max(1, count // 7)):
        caller, parent, child = callers[n % len(callers)], "CA" + secrets.token_hex(16), \
            "CA" + secrets.token_hex(16)
        common = [("AccountSid", "AC" + "0" * 32), ("ApiVersion", "2010-04-01")]
        leg = [*common, ("CallSid", child), ("ParentCallSid", parent), ("From", caller),
               ("To", "client:sato"), ("Direction", "outbound-dial")]
        work = [_inbound(base, token, parent, caller, to)]
        for status, extra in (("initiated", []), ("ringing", []), ("in-progress", []),
                              ("completed", [("CallDuration", "30")])):
            work.append(_signed(base, token, STATUS_PATH,
                                [*leg, ("CallStatus", status), *extra]))
        work.append(_signed(base, token, f"{DIAL_PATH}?step=route", [
            *common, ("CallSid", parent), ("CallStatus", "in-progress"),
            ("DialCallSid", child), ("DialCallStatus", "completed"),
            ("DialCallDuration", "30"), ("From", caller), ("To", to)]))
        work.append(_signed(base, token, STATUS_PATH, [
            *common, ("CallSid", parent), ("CallStatus", "completed"), ("CallDuration", "35"),
            ("From", caller), ("To", to), ("Direction", "inbound")]))
        out.append(work)
    return out


def _load(port: int, work: list[list[Request]], clients: int,
          seconds: float | None = None) -> dict[str, float]:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    position = iter(range(len(work)))
    stop_at = time.monotonic() + seconds if seconds else None

    def client() -> None:
        mine = []
        while stop_at is None or time.monotonic() < stop_at:
            with lock:
                index = next(position, None)
            if index is None:
                break
            for path, body, signature in work[index]:
                started = time.perf_counter()
                status = _post(port, path, body, signature)
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
            "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
            "requests": len(latencies), "errors": errors[0]}


def _client(args: argparse.Namespace) -> str:
    import shutil

    if args.client == "auto":
        return "wrk" if shutil.which("wrk") and not (args.mix or args.compare_flow) else "python"
    if args.client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--client wrk: wrk is not installed (apt-get install wrk)")
    if args.client == "wrk" and (args.mix or args.compare_flow):
        raise SystemExit("--client wrk cannot keep a call's webhooks in order: use --client "
                         "python with --mix and --compare-flow")
    return args.client


#: Requests signed beforehand per second of a wrk run (more than either server answers here;
#: each is a new call, so none is repeated).
WRK_MAX_RPS = 6000

# Each wrk connection takes the next request of the file: a new CallSid every time.
_WRK_SCRIPT = """
local requests, next_one = {}, 0
init = function(args)
  for line in io.lines(args[1]) do
    local path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = signature}, body)
  end
end
request = function()
  next_one = next_one % #requests + 1
  return requests[next_one]
end
"""


def _load_wrk(port: int, work: list[list[Request]], clients: int, seconds: float,
              tmp: Path) -> dict[str, float]:
    """The same load from ``wrk`` (one thread, ``clients`` connections), its figures parsed."""
    script, requests = tmp / "bench.lua", tmp / "requests.tsv"
    script.write_text(_WRK_SCRIPT)
    with requests.open("w") as out:
        for path, body, signature in (r for call in work for r in call):
            out.write(f"{path}\t{signature}\t{body.decode()}\n")
    done = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency",
                           "-s", str(script), f"http://127.0.0.1:{port}", "--", str(requests)],
                          capture_output=True, text=True, timeout=seconds + 60, check=True)
    return _wrk_figures(done.stdout)


def _wrk_figures(output: str) -> dict[str, float]:
    import re

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", output)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:  # read errors are gunicorn closing each connection after a response
        errors += sum(int(socket_errors.group(n)) for n in (1, 3, 4))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
            "p50": ms(percentiles["50"]), "p99": ms(percentiles["99"]), "requests": total,
            "errors": errors}


def _post(port: int, path: str, body: bytes, signature: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request("POST", path, body, {
            "Content-Type": "application/x-www-form-urlencoded", SIGNATURE_HEADER: signature})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _report(results: dict[str, dict[str, float]], args: argparse.Namespace,
            records: dict[str, int]) -> None:
    import shutil

    shape = ("whole calls (inbound : status : dial action = 1 : 5 : 1)" if args.mix
             else "inbound webhooks")
    print(f"{shape}; {args.clients} concurrent clients, {args.seconds:.0f} s each, gunicorn "
          f"--workers {args.workers}, loopback, "
          f"{'PostgreSQL' if args.pg or args.database_url else 'SQLite'}"
          + (f", {args.index:,} numbers indexed" if args.index else "")
          + (f", CRM answering in {args.crm_slow:g} s" if args.crm_slow else ""))
    if args.client == "wrk":
        print("load client: wrk, one thread (requests signed beforehand)")
    else:
        print("load client: Python threads in this process"
              + ("" if shutil.which("wrk") else " (wrk not installed)"))
    print(f"{'':24}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}")
    for name, r in results.items():
        print(f"{name:24}{r['rps']:>12,.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}"
              f"{r['requests']:>10,.0f}{r['errors']:>8,.0f}")
    floor, real, *flow = results.values()
    print(f"ratio to the floor, same run: throughput {real['rps'] / floor['rps']:.0%} "
          f"(target ≥ 80 %), p99 {real['p99'] / floor['p99']:.2f}× (target ≤ 1.5×)")
    if flow:
        print(f"flow (schedule+menu) / group route, same run: throughput "
              f"{flow[0]['rps'] / real['rps']:.0%}, p99 {flow[0]['p99'] / real['p99']:.2f}× "
              "(issue 13: within 10 %)")
    if "drain_s" in real:
        print(f"the worker wrote the last queued call record {real['drain_s']:.1f} s after "
              "the load ended")
    print(f"call records: {'stream' if records['mode'] else 'written at once'}; "
          f"{records['written']:,} in the database, {records['queued']:,} still queued "
          "after the run")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    main()
