"""Phone-index benchmark: build an index of N numbers, then time lookups.

Prints the build time and rate, the database size and the process's peak memory, and lookup
latency percentiles (target: p99 ≤ 1 ms at 1,000,000 numbers). The build goes through the same
code as a CRM sync (``phone_index.upsert_customers`` in batches of 500).

    .venv/bin/python bench/lookup.py                  # 1,000,000 numbers, SQLite
    .venv/bin/python bench/lookup.py --numbers 100000 --database postgresql+psycopg://postgres@127.0.0.1/test

The inbound webhook's throughput with the index loaded, as a ratio to a fixed-TwiML floor, is
printed by ``bench/webhook.py --index N``.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector import db, phone_index  # noqa: E402
from crm_adapters.base import Customer  # noqa: E402

BATCH = 500


def fake_number(i: int) -> str:
    """The i-th of a million distinct valid Japanese numbers, in mixed stored formats."""
    prefix = ("03", "06", "090", "080", "070", "050")[i % 6]
    if prefix in ("03", "06"):
        digits = f"{prefix}{20000000 + i // 6:08d}"
        return f"{digits[:2]}-{digits[2:6]}-{digits[6:]}" if i % 2 else digits
    digits = f"{prefix}{20000000 + i // 6:08d}"
    return f"+81{digits[1:]}" if i % 3 == 0 else digits


def build(engine, count: int) -> float:
    now = datetime.now(UTC)
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        customers = [Customer("bench", f"R{i:07d}", f"顧客 {i}", object_type="Contact",
                              phone_numbers=(fake_number(i),),
                              updated_at="2026-11-20T00:00:00Z")
                     for i in range(start, min(count, start + BATCH))]
        with engine.begin() as conn:
            phone_index.upsert_customers(conn, "bench", customers, now)
    return time.perf_counter() - started


def time_lookups(engine, count: int, samples: int) -> list[float]:
    from voice.numbering import normalize

    rng = random.Random(7)
    targets = [normalize(fake_number(rng.randrange(count))) for _ in range(samples)]
    misses = [f"+8199{rng.randrange(10**8):08d}" for _ in range(samples // 10)]
    timings = []
    with engine.connect() as conn:
        for e164 in targets + misses:
            started = time.perf_counter()
            phone_index.lookup(conn, e164)
            timings.append((time.perf_counter() - started) * 1000)
    hits = 0
    with engine.connect() as conn:
        hits = sum(1 for e164 in targets[:100] if phone_index.lookup(conn, e164))
    if hits != 100:
        raise SystemExit(f"lookup returned nothing for {100 - hits} of 100 indexed numbers")
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--database", default="", help="SQLAlchemy URL (default: temp SQLite)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/index.db"
        engine = db.make_engine(url)
        db.upgrade(engine)
        seconds = build(engine, args.numbers)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = Path(f"{tmp}/index.db").stat().st_size / 2**20 if not args.database else None
        timings = time_lookups(engine, args.numbers, args.samples)
        engine.dispose()
    quantiles = statistics.quantiles(timings, n=100)
    print(f"index of {args.numbers:,} numbers on {engine.dialect.name}")
    print(f"  build: {seconds:.1f} s ({args.numbers / seconds:,.0f} numbers/s)")
    if size is not None:
        print(f"  database file: {size:.0f} MiB")
    print(f"  peak memory of this process: {rss_mb:.0f} MiB")
    print(f"  lookups: {len(timings):,} (10 % misses)  p50 {quantiles[49]:.3f} ms  "
          f"p99 {quantiles[98]:.3f} ms  max {max(timings):.3f} ms  (target p99 <= 1 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
