"""The calling window: may a campaign dial now, and when does it open next?

Japan time, because that is where the callees live (and where the law and manners apply);
public holidays (振替休日 included, from :class:`voice.flows.calendar.HolidayCalendar`) are
closed when ``skip_holidays`` is set, whatever their weekday.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from voice.flows.calendar import HolidayCalendar

from .settings import WEEKDAYS, CallingWindow

JST = timezone(timedelta(hours=9), "JST")


def is_open(window: CallingWindow, moment: datetime, calendar: HolidayCalendar) -> bool:
    """Whether ``moment`` (aware) falls inside the window."""
    local = moment.astimezone(JST)
    if not _day_open(window, local, calendar):
        return False
    return window.start <= local.time().replace(tzinfo=None) < window.end


def closes_at(window: CallingWindow, moment: datetime) -> datetime:
    """When today's window closes (``moment`` inside it): no call may *start* after it."""
    local = moment.astimezone(JST)
    return datetime.combine(local.date(), window.end, JST)


def next_opening(window: CallingWindow, moment: datetime, calendar: HolidayCalendar,
                 horizon_days: int = 370) -> datetime | None:
    """The first instant at or after ``moment`` inside the window (None: never, e.g. every
    day of the window is a holiday for a year)."""
    if is_open(window, moment, calendar):
        return moment
    local = moment.astimezone(JST)
    for offset in range(horizon_days + 1):
        day = local.date() + timedelta(days=offset)
        start = datetime.combine(day, window.start, JST)
        if start < local:
            continue
        if _day_open(window, start, calendar):
            return start.astimezone(moment.tzinfo)
    return None


def _day_open(window: CallingWindow, local: datetime, calendar: HolidayCalendar) -> bool:
    if WEEKDAYS[local.weekday()] not in window.days:
        return False
    return not (window.skip_holidays and calendar.is_holiday(local.date()))
