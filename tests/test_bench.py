"""The benchmark scripts keep working (tiny runs; figures are printed, never asserted on)."""

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
    assert "ratio p99 (group / one agent):" in done.stdout


def test_stats_bench_runs():
    done = run("stats.py", "--calls", "3000", "--agents", "10")
    assert done.returncode == 0, done.stderr
    assert "loaded 3,000 calls" in done.stdout and "slowest report" in done.stdout
