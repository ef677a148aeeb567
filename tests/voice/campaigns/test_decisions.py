"""The pure campaign decisions: settings, calling window, retries, pacing, next contact."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from voice.campaigns import dialing, results, window
from voice.campaigns.dialing import Candidate
from voice.campaigns.settings import CallingWindow, SettingsError, parse_settings
from voice.flows.calendar import HolidayCalendar

CAL = HolidayCalendar()


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=window.JST)


def test_settings_defaults_and_every_bad_field_named():
    settings = parse_settings({"caller_id": "03-1234-5678", "mode": "progressive"})
    assert settings.caller_id == "+81312345678"
    assert settings.max_attempts == 3 and settings.window.days == frozenset(
        ("mon", "tue", "wed", "thu", "fri"))
    with pytest.raises(SettingsError) as caught:
        parse_settings({"caller_id": "12", "mode": "predictive", "max_attempts": 0,
                        "window": {"days": ["mon", "funday"], "start": "18:00", "end": "09:00"},
                        "retry_minutes": {"busy": 0, "success": 5}, "colour": "red"})
    assert set(caught.value.problems) == {
        "caller_id", "mode", "max_attempts", "window.days", "window.end",
        "retry_minutes.busy", "retry_minutes.success", "colour"}
    assert caught.value.problems["window.end"][0] == "end_before_start"


def test_settings_round_trip_through_storage():
    settings = parse_settings({"caller_id": "+81312345678", "window": {
        "days": ["sat"], "start": "10:00", "end": "24:00", "skip_holidays": False},
        "dispositions": [{"code": "ok", "label": "成約"}, {"code": "later", "label": "検討",
                                                          "final": False}]})
    again = parse_settings(settings.public())
    assert again == settings
    assert settings.public()["window"]["end"] == "24:00"


def test_disposition_codes_must_not_shadow_system_results():
    with pytest.raises(SettingsError) as caught:
        parse_settings({"caller_id": "+81312345678",
                        "dispositions": [{"code": "busy", "label": "x"}]})
    assert "dispositions[0]" in caught.value.problems


def test_window_weekdays_hours_and_japanese_holidays():
    hours = CallingWindow(frozenset(("mon", "tue", "wed", "thu", "fri")), time(9), time(18))
    assert window.is_open(hours, jst(2026, 11, 20, 9, 0), CAL)  # Friday 09:00
    assert not window.is_open(hours, jst(2026, 11, 20, 18, 0), CAL)  # end is exclusive
    assert not window.is_open(hours, jst(2026, 11, 21, 10, 0), CAL)  # Saturday
    assert not window.is_open(hours, jst(2026, 11, 23, 10, 0), CAL)  # 勤労感謝の日 (Monday)
    assert not window.is_open(hours, jst(2026, 5, 6, 10, 0), CAL)  # 振替休日
    keep_holidays = CallingWindow(hours.days, time(9), time(18), skip_holidays=False)
    assert window.is_open(keep_holidays, jst(2026, 11, 23, 10, 0), CAL)
    # UTC input is judged in Japan time: 00:30 UTC Friday is 09:30 JST.
    assert window.is_open(hours, datetime(2026, 11, 20, 0, 30, tzinfo=UTC), CAL)


def test_next_opening_skips_weekend_and_holiday():
    hours = CallingWindow(frozenset(("mon", "tue", "wed", "thu", "fri")), time(9), time(18))
    # Friday evening → Monday is a holiday → Tuesday 09:00.
    assert window.next_opening(hours, jst(2026, 11, 20, 19, 0), CAL) == jst(2026, 11, 24, 9)
    assert window.next_opening(hours, jst(2026, 11, 24, 8, 0), CAL) == jst(2026, 11, 24, 9)


def test_retry_rules_and_attempt_limit():
    settings = parse_settings({"caller_id": "+81312345678", "max_attempts": 2,
                               "retry_minutes": {"busy": 5}})
    now = jst(2026, 11, 20, 10)
    assert results.after_attempt("busy", 1, settings, now) == results.Next(
        "pending", now + timedelta(minutes=5))
    assert results.after_attempt("no_answer", 1, settings, now).due == now + timedelta(hours=1)
    assert results.after_attempt("busy", 2, settings, now).state == "done"  # attempts used up
    assert results.after_attempt("restricted", 1, settings, now).state == "done"
    assert results.after_attempt("skipped", 1, settings, now) == results.Next(
        "pending", now + results.SKIP_DELAY)
    assert results.after_disposition(now + timedelta(days=1)).state == "pending"
    assert results.after_disposition(None).state == "done"


def test_pacing_one_call_per_free_agent_within_channels():
    assert dialing.calls_to_place(5, 0, 0) == 5
    assert dialing.calls_to_place(5, 3, 4) == 1
    assert dialing.calls_to_place(5, 4, 4) == 0
    assert dialing.calls_to_place(0, 0, 0) == 0


def test_assign_own_recalls_first_and_each_contact_once():
    now = jst(2026, 11, 20, 10)
    earlier = now - timedelta(minutes=5)
    contacts = [Candidate(1, earlier), Candidate(2, earlier),
                Candidate(3, now, owner_agent_id=7, recall=True),
                Candidate(4, now + timedelta(minutes=1)),  # not due yet
                Candidate(5, earlier, owner_agent_id=8, recall=True)]  # someone else's
    pairs = dialing.assign(contacts, [6, 7], now)
    assert [(a, c.contact_id) for a, c in pairs] == [(6, 1), (7, 3)]
    assert dialing.pick(contacts, 8, now).contact_id == 5
    assert dialing.pick(contacts, 9, now).contact_id == 1
