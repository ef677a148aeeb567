"""The benchmark scripts keep working (tiny runs; figures are printed, never asserted on)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(script, *args):
    return subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_lookup_bench_runs():
    done = run("lookup.py", "--numbers", "2000", "--samples", "200")
    assert done.returncode == 0, done.stderr
    assert "index of 2,000 numbers" in done.stdout and "p99" in done.stdout


@pytest.mark.slow
def test_writeback_bench_runs(redis_url):
    done = run("writeback.py", "--calls", "20", "--seconds", "1", "--timeout", "60")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "logged: 20/20, duplicates: 0" in done.stdout


@pytest.mark.slow
def test_routing_bench_runs(redis_url):
    done = run("routing.py", "--redis", redis_url, "--agents", "100", "--samples", "200")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "group of 5:" in out and "group of one agent:" in out, out
    assert "ratio group / one agent: p50" in out, out
    assert "target: p99 <= 2.0 ms and p99 ratio <= 1.5x: " in out, out
    assert out.rstrip().endswith(("PASS", "MISS")), out


def test_stats_bench_runs():
    done = run("stats.py", "--calls", "3000", "--agents", "10")
    assert done.returncode == 0, done.stderr
    assert "loaded 3,000 calls" in done.stdout and "slowest report" in done.stdout


def test_fault_run_loses_and_duplicates_nothing():
    """A small bench/faults.py run: every fault of the schedule, nothing lost or doubled."""
    if shutil.which("redis-server") is None:
        pytest.skip("bench/faults.py starts its own redis-server (Debian package redis-server)")
    done = run("faults.py", "--calls", "150", "--timeout", "150")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "logs expected: 150, logs present: 150, lost: 0" in out, out
    assert "duplicates (second CRM record for a call): 0;" in out, out
    for fault in ("worker 1 SIGKILL", "Redis FLUSHALL", "Redis restart", "CRM 401, then fixed",
                  "CRM timeout", "CRM apply-then-500", "CRM HTML 502"):
        assert f"  {fault}: " in out and f"{fault}: could not" not in out, fault
    assert "dead letters now: 0;" in out, out


@pytest.mark.slow
def test_campaign_bench_runs(redis_url):
    done = run("campaign.py", "--redis", redis_url, "--agents", "10", "--contacts", "2000",
               "--rounds", "3", "--naive-rounds", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "10 agents, 2,000 contacts: per call p50" in done.stdout
    assert "naive / indexed:" in done.stdout


@pytest.mark.slow
def test_webhook_bench_compares_a_flow_with_a_group_route():
    done = run("webhook.py", "--compare-flow", "--seconds", "1", "--clients", "2",
               "--workers", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for name in ("floor (form+signature)", "group route", "flow (schedule+menu)"):
        assert f"\n{name}" in out, out
    assert "flow (schedule+menu) / group route, same run: throughput" in out, out


WRK_OUTPUT = """Running 8s test @ http://127.0.0.1:41234
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    3.01ms  40.10ms   80.00%
    Req/Sec     1.59k   120.00     1.80k    70.00%
  Latency Distribution
     50%    4.50ms
     75%    6.00ms
     90%    8.20ms
     99%  850.00us
  12658 requests in 8.01s, 2.10MB read
  Socket errors: connect 0, read 12658, write 2, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   1579.40
Transfer/sec:    268.00KB
"""


def test_wrk_output_is_read_as_the_python_client_reports():
    sys.path.insert(0, str(ROOT))
    from bench.webhook import _wrk_figures

    figures = _wrk_figures(WRK_OUTPUT)
    # gunicorn closes each connection after its answer: wrk's read errors are not failures
    assert figures == {"rps": 1579.4, "p50": 4.5, "p99": 0.85, "requests": 12658,
                       "errors": 7}


@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("wrk") and os.environ.get("CI") != "true",
                    reason="wrk is not installed (apt-get install wrk; .ci/run does)")
def test_webhook_bench_runs_with_wrk():
    done = run("webhook.py", "--seconds", "1", "--clients", "2", "--workers", "1",
               "--client", "wrk")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "load client: wrk" in done.stdout and "ratio to the floor" in done.stdout
    inbound = next(line for line in done.stdout.splitlines() if line.startswith("inbound webhook "))
    assert int(inbound.split()[2].replace(",", "")) > 0  # requests/s
    assert inbound.split()[-1] == "0", done.stdout  # no errors
