"""Business-hours rules, Japanese public holidays and company days (CF-2)."""

from datetime import date, datetime

import pytest

from voice.flows import calendar
from voice.flows.calendar import HolidayCalendar, Rule, parse_day_spec, rule_matches

CAL = HolidayCalendar()
WEEKDAYS = Rule.parse({"days": ["mon", "tue", "wed", "thu", "fri"], "time": "09:00-18:00",
                       "goto": "open"})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(("day", "holiday"), [
    (date(2026, 1, 1), True),  # 元日 (Thursday)
    (date(2026, 1, 12), True),  # 成人の日 (second Monday)
    (date(2026, 5, 6), True),  # 振替休日 for 憲法記念日 on a Sunday
    (date(2026, 9, 22), True),  # 国民の休日 between 敬老の日 and 秋分の日
    (date(2026, 12, 7), False),
    (date(2027, 2, 23), True),  # 天皇誕生日 next year (the calendar fills years on demand)
])
def test_public_holidays(day, holiday):
    assert CAL.is_holiday(day) is holiday


def test_a_holiday_is_not_its_weekday():
    assert rule_matches(WEEKDAYS, at("2026-12-07T10:00"), CAL, [])  # Monday
    assert not rule_matches(WEEKDAYS, at("2026-01-01T10:00"), CAL, [])  # 元日, a Thursday
    assert rule_matches(WEEKDAYS, at("2026-01-01T10:00"), CAL, [], public_holidays=False)
    holiday_rule = Rule.parse({"days": ["holiday"], "goto": "closed"})
    assert rule_matches(holiday_rule, at("2026-05-06T10:00"), CAL, [])


def test_end_is_exclusive():
    assert rule_matches(WEEKDAYS, at("2026-12-07T17:59"), CAL, [])
    assert not rule_matches(WEEKDAYS, at("2026-12-07T18:00"), CAL, [])
    assert not rule_matches(WEEKDAYS, at("2026-12-07T08:59"), CAL, [])


def test_range_crossing_midnight_belongs_to_the_day_it_starts():
    night = Rule.parse({"days": ["fri"], "time": "22:00-06:00", "goto": "night"})
    assert rule_matches(night, at("2026-12-11T23:30"), CAL, [])  # Friday night
    assert rule_matches(night, at("2026-12-12T05:59"), CAL, [])  # Saturday early morning
    assert not rule_matches(night, at("2026-12-12T06:00"), CAL, [])
    assert not rule_matches(night, at("2026-12-11T05:00"), CAL, [])  # Thursday's night
    assert not rule_matches(night, at("2026-12-12T23:00"), CAL, [])  # Saturday night


def test_company_days_yearly_range_across_new_year():
    specs = [parse_day_spec("12-29..01-03")]
    for day in (date(2026, 12, 29), date(2026, 12, 31), date(2027, 1, 3)):
        assert calendar.day_type(day, CAL, specs) == "holiday"
    assert calendar.day_type(date(2027, 1, 4), CAL, specs) == "mon"
    assert calendar.day_type(date(2026, 12, 28), CAL, specs) == "mon"


def test_dated_rules():
    special = Rule.parse({"dates": ["2026-12-28"], "time": ["09:00-12:00"], "goto": "short"})
    assert rule_matches(special, at("2026-12-28T11:00"), CAL, [])
    assert not rule_matches(special, at("2026-12-28T13:00"), CAL, [])
    assert not rule_matches(special, at("2027-12-28T11:00"), CAL, [])


@pytest.mark.parametrize(("text", "message"), [
    ("2026-13-01", "no such date"), ("12/29", "is not a date"),
    ("2026-12-29..12-31", "both ends need a year"), ("2026-12-31..2026-12-01", "ends before"),
])
def test_bad_day_specs(text, message):
    with pytest.raises(ValueError, match=message):
        parse_day_spec(text)


@pytest.mark.parametrize(("table", "message"), [
    ({"goto": "x"}, "give days, time or dates"),
    ({"days": ["monday"], "goto": "x"}, "'monday' is not one of"),
    ({"time": "9:00-18:00", "goto": "x"}, "is not a time range"),
    ({"time": "25:00-26:00", "goto": "x"}, "no such time"),
    ({"time": "09:00-09:00", "goto": "x"}, "empty"),
    ({"days": ["mon"]}, "goto: needed"),
    ({"days": ["mon"], "goto": "x", "when": 1}, "unknown field 'when'"),
])
def test_bad_rules(table, message):
    with pytest.raises(ValueError, match=message):
        Rule.parse(table)
