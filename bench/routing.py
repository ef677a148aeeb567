"""Routing-decision benchmark: the cost of one ACD decision on the live board (Redis).

One decision = read the group's members' live state, the member rung last and who already
rang for the caller (one script: one HMGET of the board's agents hash, an HGET, an SMEMBERS),
order them by the group's strategy (pure Python), claim atomically (one Lua script) — two
round trips, what ``connector.acd.route`` does for each caller, without the database write
that records the result. The board holds 500 agents in 20 groups (about half of them talking) and
200 callers waiting in the groups' queues. Measured for a group of 25 against the same
decision for a group of one agent, in the same run: the two cases alternate in blocks of
``--block`` decisions, so a neighbour's load on a shared machine falls on both alike. Each
claim is released at once, so every decision sees the same board.

Prints p50/p99 for both cases, the ratios, the target (p99 ≤ 2 ms and ≤ 1.5× the one-agent
case) and PASS/MISS (with ``--check``, a MISS exits 1). For information it also prints a
number routed straight to one agent (``connector.acd.route.claim_agent``: the claim alone,
no read).

    .venv/bin/python bench/routing.py                        # Redis at 127.0.0.1:6379/14
    .venv/bin/python bench/routing.py --redis redis://127.0.0.1:6379/14 --samples 5000
    .venv/bin/python bench/routing.py --strategy least_talk

Offers to waiting callers (the same claim, plus the queue checks) are not measured.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis  # noqa: E402

from connector.acd.board import AgentBoard, Snapshot  # noqa: E402
from connector.acd.waiting import WaitingQueues  # noqa: E402
from voice.acd import strategies  # noqa: E402

P99_TARGET_MS = 2.0
RATIO_TARGET = 1.5
WAITING_CALLERS = 200


def decide(board: AgentBoard, members: list[int], strategy: str, call: str, now_ms: int,
           rng: random.Random) -> list[int]:
    """What ``connector.acd.route.choose_agents`` does, without the database."""
    seen = board.group_view(members, now_ms, group_id=1, tried_key=f"{board.prefix}tried:{call}")
    candidates = [strategies.Candidate(a.agent_id, i, a.free, a.idle_since_ms, a.talk_ms_today,
                                       1 + i % 3)
                  for i, a in enumerate(seen.members) if a.agent_id not in seen.tried]
    ordered = strategies.order(strategy, candidates, strategies.Context(seen.last_rung, rng))
    at_once = 10 if strategies.rings_at_once(strategy) else 1
    return board.claim(call, ordered, max_agents=at_once, ttl_ms=60_000, now_ms=now_ms,
                       group_id=1)


Decision = Callable[[str], list[int]]


def measure(board: AgentBoard, decision: Decision, samples: int, start: int, now_ms: int
            ) -> list[float]:
    """Milliseconds per decision; the claims are released outside the timing."""
    took = []
    for n in range(start, start + samples):
        call = f"CA{n:032d}"
        begin = time.perf_counter()
        claimed = decision(call)
        took.append((time.perf_counter() - begin) * 1000)
        if not claimed:
            raise SystemExit(f"nobody was claimed for {call}: the bench board is wrong")
        for agent in claimed:
            board.release(agent, call, status="available", now_ms=now_ms)
    return took


def fill(board: AgentBoard, agents: int, groups: int, now_ms: int) -> None:
    """500 agents (about half talking), 200 callers waiting in the groups' queues."""
    rng, snapshots = random.Random(7), []
    for a in range(1, agents + 1):
        talking = rng.random() >= 0.5
        snapshots.append(Snapshot(a, "on_call" if talking else "available", None,
                                  f"CX{a:032d}" if talking else "", 0, "available",
                                  now_ms - rng.randint(0, 3_600_000), None))
    board.load(snapshots)
    queues = WaitingQueues(board)
    for n in range(WAITING_CALLERS):
        queues.join(f"CW{n:032d}", 1 + n % groups, now_ms=now_ms - n * 1000,
                    max_waiting=WAITING_CALLERS, number="+81300000000", step="route")


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def line(name: str, values: list[float]) -> str:
    return f"{name:<34} p50 {statistics.median(values):.3f} ms   p99 {p99(values):.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--samples", type=int, default=3000, help="decisions per case")
    parser.add_argument("--block", type=int, default=100,
                        help="decisions of one case before switching to the other")
    parser.add_argument("--strategy", default="longest_idle", choices=strategies.STRATEGIES)
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis)
    board = AgentBoard(client, prefix="cti:acd:bench:")
    board.forget()
    now_ms = int(time.time() * 1000)
    fill(board, args.agents, args.groups, now_ms)
    per_group = args.agents // args.groups
    group = list(range(1, per_group + 1))
    free_one = next(a.agent_id for a in board.live(group, now_ms) if a.free)
    rng = random.Random(1)
    cases: dict[str, Decision] = {
        "group": lambda call: decide(board, group, args.strategy, call, now_ms, rng),
        "one": lambda call: decide(board, [free_one], args.strategy, call, now_ms, rng),
        "direct": lambda call: board.claim(call, [free_one], max_agents=1, ttl_ms=60_000,
                                           now_ms=now_ms),
    }
    took: dict[str, list[float]] = {name: [] for name in cases}
    serial = 0
    for decision in cases.values():  # warm up (script cache, connection)
        measure(board, decision, 200, serial, now_ms)
        serial += 200
    while len(took["group"]) < args.samples:
        for name, decision in cases.items():
            took[name] += measure(board, decision, args.block, serial, now_ms)
            serial += args.block
    board.forget()
    client.close()
    report(args, per_group, took)


def report(args: argparse.Namespace, per_group: int, took: dict[str, list[float]]) -> None:
    big, one = took["group"], took["one"]
    ratio_p99, ratio_p50 = p99(big) / p99(one), statistics.median(big) / statistics.median(one)
    passed = p99(big) <= P99_TARGET_MS and ratio_p99 <= RATIO_TARGET
    print(f"board: {args.agents} agents in {args.groups} groups, {WAITING_CALLERS} callers "
          f"waiting; strategy {args.strategy}; {len(big)} decisions per case, alternating "
          f"in blocks of {args.block}")
    print(line(f"group of {per_group}:", big))
    print(line("group of one agent:", one))
    print(line("(info) one agent, claim only:", took["direct"]))
    print(f"ratio group / one agent: p50 {ratio_p50:.2f}x   p99 {ratio_p99:.2f}x")
    print(f"target: p99 <= {P99_TARGET_MS:.1f} ms and p99 ratio <= {RATIO_TARGET:.1f}x: "
          f"{'PASS' if passed else 'MISS'}")
    if args.check and not passed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
