"""Business hours (CF-2): time ranges × weekdays × dates, public holidays, company days.

A *day type* is the weekday (``mon`` … ``sun``) or ``holiday``: a Japanese public holiday
(from the maintained ``holidays`` package — 振替休日 and 国民の休日 included) or one of the
company's own days (年末年始, お盆) counts as ``holiday`` instead of its weekday, so
``days = ["mon", …, "fri"]`` does not open on 元日 when it falls on a Thursday.

A time range ``"22:00-06:00"`` crosses midnight: it belongs to the day it starts on, so a
Friday rule with it matches Friday 22:00–24:00 and Saturday 00:00–06:00. End times are
exclusive; ``"24:00"`` is the end of the day.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_TYPES = (*WEEKDAYS, "holiday")
_DATE = re.compile(r"(?:(\d{4})-)?(\d{2})-(\d{2})")
_RANGE = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")


@dataclass(frozen=True)
class DaySpec:
    """A date (``2026-12-31``), a yearly date (``12-31``) or a range of either (``a..b``)."""

    start: tuple[int | None, int, int]
    end: tuple[int | None, int, int]

    def matches(self, day: date) -> bool:
        (y1, m1, d1), (y2, m2, d2) = self.start, self.end
        if y1 is not None and y2 is not None:
            return date(y1, m1, d1) <= day <= date(y2, m2, d2)
        key, low, high = (day.month, day.day), (m1, d1), (m2, d2)
        return low <= key <= high if low <= high else key >= low or key <= high


def parse_day_spec(text: str) -> DaySpec:
    """``2026-12-31``, ``12-29``, ``12-29..01-03``, ``2026-08-13..2026-08-16``.

    Raises:
        ValueError: Not of these forms, a date that does not exist, or a range mixing forms.
    """
    parts = text.strip().split("..")
    if len(parts) > 2:
        raise ValueError(f"{text!r}: a range is two dates joined by ..")
    ends = [_parse_date(p.strip(), text) for p in parts]
    start, end = ends[0], ends[-1]
    if (start[0] is None) != (end[0] is None):
        raise ValueError(f"{text!r}: both ends need a year, or neither")
    if start[0] is not None and date(*start) > date(*end):  # type: ignore[arg-type]
        raise ValueError(f"{text!r}: the range ends before it starts")
    return DaySpec(start, end)


def _parse_date(part: str, text: str) -> tuple[int | None, int, int]:
    match = _DATE.fullmatch(part)
    if not match:
        raise ValueError(f"{text!r} is not a date such as \"2026-12-31\" or \"12-31\"")
    year = int(match[1]) if match[1] else None
    month, day = int(match[2]), int(match[3])
    try:
        date(year or 2024, month, day)  # 2024: a leap year, so 02-29 is a yearly date
    except ValueError:
        raise ValueError(f"{text!r}: no such date") from None
    return year, month, day


@dataclass(frozen=True)
class TimeRange:
    start: int  # minutes after midnight
    end: int  # exclusive; may be <= start: the range crosses midnight

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        match = _RANGE.fullmatch(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a time range such as \"09:00-18:00\"")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"{text!r}: no such time")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end:
            raise ValueError(f"{text!r}: the range is empty")
        return cls(start, end)

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:" \
               f"{self.end % 60:02d}"


@dataclass(frozen=True)
class Rule:
    """One schedule rule: empty parts match anything."""

    goto: str
    days: tuple[str, ...] = ()
    times: tuple[TimeRange, ...] = ()
    dates: tuple[str, ...] = ()

    @classmethod
    def parse(cls, table: Mapping[str, Any]) -> Rule:
        unknown = set(table) - {"goto", "days", "time", "dates"}
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r} (goto, days, time, dates)")
        goto = table.get("goto")
        if not isinstance(goto, str) or not goto.strip():
            raise ValueError("goto: needed, the node to go to")
        days = _strings(table.get("days", []), "days")
        for day in days:
            if day not in DAY_TYPES:
                raise ValueError(f"days: {day!r} is not one of {', '.join(DAY_TYPES)}")
        raw_times = table.get("time", [])
        times = _strings([raw_times] if isinstance(raw_times, str) else raw_times, "time")
        dates = _strings(table.get("dates", []), "dates")
        for text in dates:
            parse_day_spec(text)
        if not (days or times or dates):
            raise ValueError("give days, time or dates (a rule matching always is the default)")
        return cls(goto.strip(), tuple(days), tuple(TimeRange.parse(t) for t in times),
                   tuple(dates))

    def to_table(self) -> dict[str, Any]:
        table: dict[str, Any] = {}
        if self.days:
            table["days"] = list(self.days)
        if self.times:
            table["time"] = [str(t) for t in self.times]
        if self.dates:
            table["dates"] = list(self.dates)
        table["goto"] = self.goto
        return table


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: must be a list of strings")
    return [v.strip() for v in value]


class HolidayCalendar:
    """Japanese public holidays; the package fills in each year on first use, under a lock
    because webhooks of several threads share one calendar per process."""

    def __init__(self) -> None:
        self._table = holidays.country_holidays("JP")  # expand=True: years added on lookup
        self._lock = threading.Lock()

    def name(self, day: date) -> str:
        """The holiday's name (as the package gives it), or ``""``."""
        with self._lock:
            return self._table.get(day) or ""

    def is_holiday(self, day: date) -> bool:
        return bool(self.name(day))


def day_type(day: date, calendar: HolidayCalendar, company_days: Sequence[DaySpec],
             public_holidays: bool = True) -> str:
    """``holiday`` on a public holiday (when counted) or a company day, else the weekday."""
    if any(spec.matches(day) for spec in company_days):
        return "holiday"
    if public_holidays and calendar.is_holiday(day):
        return "holiday"
    return WEEKDAYS[day.weekday()]


def rule_matches(rule: Rule, moment: datetime, calendar: HolidayCalendar,
                 company_days: Sequence[DaySpec], public_holidays: bool = True) -> bool:
    """Whether ``rule`` matches the local time ``moment``."""
    today, minute = moment.date(), moment.hour * 60 + moment.minute
    if not rule.times:
        return _day_matches(rule, today, calendar, company_days, public_holidays)
    for span in rule.times:
        if span.start <= minute < (span.end if not span.crosses_midnight else 24 * 60):
            if _day_matches(rule, today, calendar, company_days, public_holidays):
                return True
        if span.crosses_midnight and minute < span.end:
            yesterday = today - timedelta(days=1)
            if _day_matches(rule, yesterday, calendar, company_days, public_holidays):
                return True
    return False


def _day_matches(rule: Rule, day: date, calendar: HolidayCalendar,
                 company_days: Sequence[DaySpec], public_holidays: bool) -> bool:
    if rule.dates and not any(parse_day_spec(d).matches(day) for d in rule.dates):
        return False
    if rule.days and day_type(day, calendar, company_days, public_holidays) not in rule.days:
        return False
    return True


def local_time(moment: datetime, zone: Any) -> datetime:
    """``moment`` (aware) in the flow's zone, seconds dropped (rules are per minute)."""
    return moment.astimezone(zone).replace(second=0, microsecond=0)


__all__ = ["DAY_TYPES", "WEEKDAYS", "DaySpec", "HolidayCalendar", "Rule", "TimeRange",
           "day_type", "local_time", "parse_day_spec", "rule_matches"]
