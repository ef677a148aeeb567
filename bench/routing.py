"""Routing-decision benchmark: the cost of one ACD decision on the live board (Redis).

One decision = read the group's members' live state (one pipeline), order them by the group's
strategy (pure Python), claim atomically (one Lua script) — what ``connector.acd.route``
does for each caller, without the database write that records the result. Measured for a
group of a board with 500 agents in 20 groups, against routing to a group of one agent, in
the same run; prints p50/p99 and the ratio (target: p99 ≤ 2 ms, ≤ 1.5× the one-agent case).
Each claim is released at once, so every decision sees the same board.

    .venv/bin/python bench/routing.py                        # Redis at 127.0.0.1:6379/14
    .venv/bin/python bench/routing.py --redis redis://127.0.0.1:6379/14 --samples 5000

Offers to waiting callers (the same claim, plus a sorted-set check) are not measured.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402

from connector.acd.board import AgentBoard, Snapshot  # noqa: E402
from voice.acd import strategies  # noqa: E402


def decide(board: AgentBoard, members: list[int], strategy: str, call: str, now_ms: int,
           rng: random.Random) -> list[int]:
    live = board.live(members, now_ms)
    candidates = [strategies.Candidate(a.agent_id, i, a.free, a.idle_since_ms, a.talk_ms_today,
                                       1 + i % 3) for i, a in enumerate(live)]
    ordered = strategies.order(strategy, candidates,
                               strategies.Context(board.last_rung(1), rng))
    return board.claim(call, ordered, max_agents=1, ttl_ms=60_000, now_ms=now_ms, group_id=1)


def measure(board: AgentBoard, members: list[int], strategy: str, samples: int) -> list[float]:
    rng, took = random.Random(1), []
    now_ms = int(time.time() * 1000)
    for n in range(samples):
        call = f"CA{n:032d}"
        start = time.perf_counter()
        claimed = decide(board, members, strategy, call, now_ms, rng)
        took.append((time.perf_counter() - start) * 1000)
        for agent in claimed:
            board.release(agent, call, status="available", now_ms=now_ms)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--strategy", default="longest_idle", choices=strategies.STRATEGIES)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis)
    board = AgentBoard(client, prefix="cti:acd:bench:")
    board.forget()
    rng = random.Random(7)
    now_ms = int(time.time() * 1000)
    # About half the agents are free; the others talk.
    board.load(Snapshot(a, "available" if rng.random() < 0.5 else "on_call", None, "", 0,
                        "available", now_ms - rng.randint(0, 3_600_000), None)
               for a in range(1, args.agents + 1))
    per_group = args.agents // args.groups
    group = list(range(1, per_group + 1))
    free_one = next(a for a in group if board.live([a], now_ms)[0].free)
    measure(board, group, args.strategy, 200)  # warm up (script cache, connections)
    big = measure(board, group, args.strategy, args.samples)
    one = measure(board, [free_one], args.strategy, args.samples)
    board.forget()
    client.close()

    def p99(values: list[float]) -> float:
        return statistics.quantiles(values, n=100)[98]

    print(f"board: {args.agents} agents in {args.groups} groups ({per_group} per group), "
          f"strategy {args.strategy}, {args.samples} decisions each")
    print(f"group of {per_group}: p50 {statistics.median(big):.3f} ms, p99 {p99(big):.3f} ms")
    print(f"one agent:   p50 {statistics.median(one):.3f} ms, p99 {p99(one):.3f} ms")
    print(f"ratio p99 (group / one agent): {p99(big) / p99(one):.2f}")


if __name__ == "__main__":
    main()
