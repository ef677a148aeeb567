"""Ring strategies (SPEC CF-5) as pure functions."""

import random

import pytest

from voice.acd.strategies import STRATEGIES, Candidate, Context, order


def members(**overrides):
    base = [Candidate(10, 0, True, idle_since_ms=300, talk_ms_today=50, skill=2),
            Candidate(11, 1, True, idle_since_ms=100, talk_ms_today=90, skill=1),
            Candidate(12, 2, False, idle_since_ms=0, talk_ms_today=0, skill=1),
            Candidate(13, 3, True, idle_since_ms=200, talk_ms_today=10, skill=1)]
    return base


def test_busy_members_are_never_offered():
    for strategy in STRATEGIES:
        assert 12 not in order(strategy, members(), Context(rng=random.Random(1)))


def test_ring_all_keeps_member_order():
    assert order("ring_all", members()) == [10, 11, 13]


def test_longest_idle_first():
    assert order("longest_idle", members()) == [11, 13, 10]


def test_least_talk_today_first():
    assert order("least_talk", members()) == [13, 10, 11]


def test_skill_level_first_then_longest_idle():
    assert order("skill", members()) == [11, 13, 10]


def test_round_robin_continues_after_the_last_rung_even_when_busy():
    assert order("round_robin", members(), Context(last_agent_id=10)) == [11, 13, 10]
    assert order("round_robin", members(), Context(last_agent_id=12)) == [13, 10, 11]
    assert order("round_robin", members(), Context(last_agent_id=None)) == [10, 11, 13]


def test_random_is_seedable_and_a_permutation():
    first = order("random", members(), Context(rng=random.Random(7)))
    again = order("random", members(), Context(rng=random.Random(7)))
    assert first == again and sorted(first) == [10, 11, 13]
    seen = {tuple(order("random", members(), Context(rng=random.Random(s)))) for s in range(30)}
    assert len(seen) > 1


def test_unknown_strategy_is_named():
    with pytest.raises(ValueError, match="strategy: unknown strategy 'fifo'"):
        order("fifo", members())


def test_a_members_skill_is_read_by_position_and_defaults_to_the_best():
    from connector.voice.groups import Group

    group = Group(1, "support", "", ("sato", "ito", "kato"), (7, 3, 9), skills=(2, 4))
    assert [group.skill_at(p) for p in range(3)] == [2, 4, 1]
