"""Queue order on real Redis: strict priority, then longest waiting; places kept on requeue."""

from __future__ import annotations

import pytest

from connector.acd.board import AgentBoard
from connector.acd.waiting import PRIORITY_STEP_MS, WaitingQueues

NOW = 1_780_000_000_000


@pytest.fixture
def queues(redis_client):
    board = AgentBoard(redis_client, prefix="cti:acd:test-prio:")
    board.forget()
    yield WaitingQueues(board)
    board.forget()


def _join(queues: WaitingQueues, sid: str, at_ms: int, priority: int = 0) -> int:
    return queues.join(sid, 1, now_ms=at_ms, max_waiting=10, number="+81312345678",
                       step="route", priority=priority)


def test_higher_priority_first_then_longest_waiting(queues):
    _join(queues, "CA-old", NOW)
    _join(queues, "CA-new", NOW + 1_000)
    assert _join(queues, "CA-vip", NOW + 3_600_000, priority=1) == 1  # an hour later, first
    _join(queues, "CA-vip2", NOW + 3_600_001, priority=1)
    assert queues.head(1, count=4) == ["CA-vip", "CA-vip2", "CA-old", "CA-new"]
    waiter = queues.waiter("CA-vip")
    assert (waiter.priority, waiter.since_ms) == (1, NOW + 3_600_000)
    assert waiter.score == NOW + 3_600_000 - PRIORITY_STEP_MS


def test_an_offer_nobody_took_keeps_the_callers_place(queues, redis_client):
    _join(queues, "CA-a", NOW, priority=2)
    _join(queues, "CA-b", NOW + 5)
    # An offer takes the caller out; as if no agent answered, it goes back.
    redis_client.zrem(queues.queue_key(1), "CA-a")
    redis_client.hset(queues.waiter_key("CA-a"), "state", "offered")
    assert queues.requeue("CA-a", 1) == 1


def test_the_priority_set_for_a_call_is_what_it_joins_with(queues):
    assert queues.priority_of("CA-x") == 0
    queues.set_priority("CA-x", 9)
    assert queues.priority_of("CA-x") == 9
    with pytest.raises(ValueError, match="priority: must be 0–9"):
        queues.set_priority("CA-x", 10)
