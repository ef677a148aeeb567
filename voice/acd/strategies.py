"""Ring strategies (SPEC CF-5): in which order a group offers a call to its free agents.

Pure functions: each takes the group's members as :class:`Candidate` (the live facts routing
needs) and returns the agents' ids in the order they should be tried. Busy members are left
out. Which of them actually ring is decided afterwards, atomically (``connector.acd.board``):
the order only says who is preferred.

* ``ring_all`` — every free member at once (in member order; Twilio rings at most ten).
* ``longest_idle`` — the longest since their last call first (終話順).
* ``least_talk`` — the least talk time today first (通話時間が短い順).
* ``random`` — a shuffle; pass a seeded :class:`random.Random` for repeatable tests.
* ``round_robin`` — the member after the one rung last, wrapping around (順番に呼び出し).
* ``skill`` — the lowest skill level first (1 = best), ties by longest idle.
"""

from __future__ import annotations

import random as random_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

STRATEGIES = ("ring_all", "longest_idle", "least_talk", "random", "round_robin", "skill")
LABELS_JA = {"ring_all": "全て呼び出し", "longest_idle": "終話順", "least_talk": "通話時間が短い順",
             "random": "ランダム", "round_robin": "順番に呼び出し", "skill": "スキルレベル順"}


class Candidate(NamedTuple):
    """One group member as the strategies see them.

    A named tuple rather than a frozen dataclass: a routing decision builds one per member,
    and a tuple is made about three times faster (bench/routing.py).
    """

    agent_id: int
    position: int  # member order in the group
    free: bool
    idle_since_ms: int = 0  # when their last call ended (smaller = idle longer)
    talk_ms_today: int = 0
    skill: int = 1


@dataclass(frozen=True)
class Context:
    """What a strategy may need besides the members."""

    last_agent_id: int | None = None  # round robin: the member rung last
    rng: random_module.Random | None = None  # random: the generator (seedable)


def order(strategy: str, members: Sequence[Candidate], context: Context | None = None
          ) -> list[int]:
    """The free members' ids, best first, for ``strategy``.

    Raises:
        ValueError: An unknown strategy.
    """
    try:
        pick = _BY_NAME[strategy]
    except KeyError:
        raise ValueError(f"strategy: unknown strategy {strategy!r} "
                         f"(known: {', '.join(STRATEGIES)})") from None
    context = context or Context()
    if strategy == "round_robin":
        return round_robin_after(members, context.last_agent_id)
    free = sorted((m for m in members if m.free), key=lambda m: (m.position, m.agent_id))
    return [m.agent_id for m in pick(free, context)]


def rings_at_once(strategy: str) -> bool:
    """True when the strategy rings every chosen agent together (else one at a time)."""
    return strategy == "ring_all"


def _ring_all(free: list[Candidate], _: Context) -> list[Candidate]:
    return free


def _longest_idle(free: list[Candidate], _: Context) -> list[Candidate]:
    return sorted(free, key=lambda m: (m.idle_since_ms, m.position))


def _least_talk(free: list[Candidate], _: Context) -> list[Candidate]:
    return sorted(free, key=lambda m: (m.talk_ms_today, m.idle_since_ms, m.position))


def _shuffle(free: list[Candidate], context: Context) -> list[Candidate]:
    shuffled = list(free)
    (context.rng or random_module.Random()).shuffle(shuffled)
    return shuffled


def _skill(free: list[Candidate], _: Context) -> list[Candidate]:
    return sorted(free, key=lambda m: (m.skill, m.idle_since_ms, m.position))


_BY_NAME: dict[str, Callable[[list[Candidate], Context], list[Candidate]]] = {
    "ring_all": _ring_all, "longest_idle": _longest_idle, "least_talk": _least_talk,
    "random": _shuffle, "round_robin": _ring_all, "skill": _skill}


def round_robin_after(members: Sequence[Candidate], last_agent_id: int | None) -> list[int]:
    """Round robin over *all* members' positions: the free ones after ``last_agent_id``.

    The one rung last may be busy now (on the call they took); the turn still passes on from
    their place in the member list.
    """
    ordered = sorted(members, key=lambda m: (m.position, m.agent_id))
    ids = [m.agent_id for m in ordered]
    cut = ids.index(last_agent_id) + 1 if last_agent_id in ids else 0
    rotated = ordered[cut:] + ordered[:cut]
    return [m.agent_id for m in rotated if m.free]
