"""Progressive pacing and the choice of the next contact.

Progressive mode places **one call per available assigned agent**: an agent is reserved for
a call before the callee's phone rings, so a callee who answers always has an agent, and no
agent is ever rung for two calls. ``max_channels`` caps the calls in flight (最大チャンネル).

The next contact for an agent is the earliest due one that is either the agent's own recall
or belongs to nobody; recalls come before first attempts and retries at the same time, so a
promised callback is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    """A contact that may be dialed (``state`` pending)."""

    contact_id: int
    due: datetime
    owner_agent_id: int | None = None
    recall: bool = False


def calls_to_place(free_agents: int, in_flight: int, max_channels: int) -> int:
    """How many calls to start now: one per free agent, within the channel cap (0 = none)."""
    if free_agents <= 0:
        return 0
    if max_channels <= 0:
        return free_agents
    return max(0, min(free_agents, max_channels - in_flight))


def order_key(candidate: Candidate) -> tuple[int, datetime, int]:
    return (0 if candidate.recall else 1, candidate.due, candidate.contact_id)


def pick(candidates: Iterable[Candidate], agent_id: int, now: datetime) -> Candidate | None:
    """The contact the agent should call next, or None (nothing due for them)."""
    eligible = [c for c in candidates if c.due <= now and c.owner_agent_id in (None, agent_id)]
    return min(eligible, key=order_key, default=None)


def assign(candidates: Sequence[Candidate], agent_ids: Sequence[int], now: datetime
           ) -> list[tuple[int, Candidate]]:
    """Pair free agents with contacts (each contact once): an agent's own recall first,
    then the shared contacts in order."""
    taken: set[int] = set()
    pairs: list[tuple[int, Candidate]] = []
    due = sorted((c for c in candidates if c.due <= now), key=order_key)
    for agent_id in agent_ids:
        chosen = next((c for c in due if c.contact_id not in taken
                       and c.owner_agent_id == agent_id), None)
        if chosen is None:
            chosen = next((c for c in due if c.contact_id not in taken
                           and c.owner_agent_id is None), None)
        if chosen is not None:
            taken.add(chosen.contact_id)
            pairs.append((agent_id, chosen))
    return pairs
