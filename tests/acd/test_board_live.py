"""What the live board answers for the ring strategies (real Redis): lapsed timed statuses,
today's talk time, agents the board has never seen, and the not-loaded signal."""

from __future__ import annotations

import pytest

from connector.acd.board import AgentBoard, NotLoaded, Snapshot, day_of

NOW = 1_780_000_000_000  # ms


@pytest.fixture
def board(redis_client):
    board = AgentBoard(redis_client, prefix="cti:acd:test-live:")
    board.forget()
    yield board
    board.forget()


def _load(board: AgentBoard, *agents: Snapshot) -> None:
    assert board.load(agents)


def test_lapsed_after_call_work_counts_as_the_chosen_status(board):
    _load(board,
          Snapshot(1, "acw", None, "", NOW - 1, "available", NOW - 5_000, None),
          Snapshot(2, "acw", None, "", NOW + 60_000, "available", NOW - 5_000, None),
          Snapshot(3, "paused", 4, "", NOW - 1, "away", NOW - 9_000, None))
    one, two, three = board.live([1, 2, 3], NOW)
    assert (one.status, one.free) == ("available", True)
    assert (two.status, two.free) == ("acw", False)  # still within its after-call work
    assert (three.status, three.idle_since_ms) == ("away", NOW - 9_000)


def test_talk_time_counts_only_for_today_and_order_is_kept(board):
    _load(board, Snapshot(7, "available", None, "", 0, "available", NOW - 1, None),
          Snapshot(8, "on_call", None, "CA1", 0, "available", NOW - 2, None))
    board.release(8, "CA1", status="available", now_ms=NOW, talk_ms=90_000,
                  day=day_of(NOW), conversation=True)
    eight, seven = board.live([8, 7], NOW)
    assert (eight.agent_id, eight.talk_ms_today, eight.idle_since_ms) == (8, 90_000, NOW)
    assert (seven.agent_id, seven.talk_ms_today) == (7, 0)
    tomorrow = NOW + 86_400_000
    assert board.live([8], tomorrow)[0].talk_ms_today == 0  # a new day starts at zero


def test_a_claimed_agent_is_not_free_and_unknown_agents_are_offline(board):
    _load(board, Snapshot(1, "available", None, "", 0, "available", NOW, None))
    assert board.claim("CA9", [1], max_agents=1, ttl_ms=60_000, now_ms=NOW) == [1]
    claimed, unknown = board.live([1, 99], NOW)
    assert (claimed.status, claimed.call_sid, claimed.free) == ("ringing", "CA9", False)
    assert (unknown.status, unknown.call_sid, unknown.free) == ("offline", "", False)


def test_an_empty_board_says_so(board):
    with pytest.raises(NotLoaded):
        board.live([1], NOW)
