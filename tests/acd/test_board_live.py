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


def test_every_change_keeps_the_agents_other_values(board):
    """The scripts rewrite an agent's one packed value: each keeps what it does not change."""
    now = NOW + 123  # exact milliseconds survive (values are stored as the strings they came as)
    _load(board, Snapshot(5, "paused", 3, "", 0, "away", NOW - 7_000, 2),
          Snapshot(6, "available", None, "", 0, "available", NOW - 1_000, None))
    assert board.choose(5, "available", None, now_ms=now) == "ok"
    assert board.claim("CA1", [5, 6], max_agents=1, ttl_ms=60_000, now_ms=now) == [5]
    assert board.occupy(5, "CA1", "on_call")
    assert board.release(5, "CA1", status="acw", until_ms=now + 30_000, now_ms=now,
                         talk_ms=61_000, day=day_of(now), conversation=True)
    five, six = board.live([5, 6], now)
    assert five == (5, "acw", "", now, 61_000)
    assert six == (6, "available", "", NOW - 1_000, 0)  # the neighbour is untouched
    # The after-call work lapses to the status chosen last (待機), the talk time adds up.
    assert board.live([5], now + 30_000)[0].status == "available"
    assert board.claim("CA2", [5], max_agents=1, ttl_ms=60_000, now_ms=now + 30_000) == [5]
    assert board.release(5, "CA2", status="available", now_ms=now + 40_000, talk_ms=9_000,
                         day=day_of(now), conversation=True)
    assert board.live([5], now + 40_000)[0] == (5, "available", "", now + 40_000, 70_000)
    assert board.timed(5, "paused", now + 50_000, stop_status_id=3)
    assert board.live([5], now + 40_000)[0].status == "paused"
    assert board.live([5], now + 50_000)[0].status == "available"


def test_a_call_sid_with_the_separator_is_refused(board):
    _load(board, Snapshot(1, "available", None, "", 0, "available", NOW, None))
    with pytest.raises(ValueError, match="call_sid"):
        board.claim("CA1|on_call", [1], max_agents=1, ttl_ms=60_000, now_ms=NOW)
    assert board.live([1], NOW)[0].free  # nothing was written


def test_a_large_board_is_read_in_order(board):
    """More ids than one HMGET takes (Lua's unpack limit): read in slices, order kept."""
    _load(board, *(Snapshot(a, "available" if a % 3 else "on_call", None, "", 0, "available",
                            NOW - a, None) for a in range(1, 2_502)))
    ids = list(range(2_600, 0, -1))
    agents = board.live(ids, NOW)
    assert [a.agent_id for a in agents] == ids
    assert [a.idle_since_ms for a in agents[100:103]] == [NOW - 2_500, NOW - 2_499, NOW - 2_498]
    assert {a.status for a in agents[:99]} == {"offline"}  # never loaded
    assert [a.free for a in agents[-3:]] == [False, True, True]
    assert board.live([], NOW) == []


def test_a_group_view_answers_the_last_rung_and_who_rang_for_the_caller(board):
    _load(board, *(Snapshot(a, "available", None, "", 0, "available", NOW - a, None)
                   for a in (1, 2, 3)))
    tried = f"{board.prefix}tried:CA1"
    empty = board.group_view([1, 2, 3], NOW, group_id=4, tried_key=tried)
    assert (empty.last_rung, empty.tried, [a.agent_id for a in empty.members]) == (
        None, set(), [1, 2, 3])
    assert board.claim("CA0", [3, 2], max_agents=2, ttl_ms=60_000, now_ms=NOW,
                       group_id=4) == [3, 2]
    board.redis.sadd(tried, 1, 3)
    seen = board.group_view([1, 2, 3], NOW, group_id=4, tried_key=tried)
    assert (seen.last_rung, seen.tried) == (2, {1, 3})
    assert [a.free for a in seen.members] == [True, False, False]
    board.forget()
    with pytest.raises(NotLoaded):
        board.group_view([1], NOW, group_id=4, tried_key=tried)


def test_a_board_of_the_old_layout_counts_as_not_loaded(board):
    """A Redis filled by a release with one hash per agent is loaded again from the record."""
    board.redis.set(f"{board.prefix}loaded", "1")
    board.redis.hset(f"{board.prefix}agent:1", mapping={"status": "available", "call": ""})
    with pytest.raises(NotLoaded):
        board.live([1], NOW)
    assert board.load([Snapshot(1, "available", None, "", 0, "available", NOW, None)])
    assert board.live([1], NOW)[0].free
