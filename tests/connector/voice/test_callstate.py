"""The call-record state machine on its own, and the sweeper for lost callbacks."""

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from connector import db
from connector.runtime import app_secrets
from connector.voice import calls, callstate, jobs, webhook_auth_token
from connector.voice.callstate import LegEvent, leg_changes

T0 = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def leg(status="queued", answered=None):
    return {"status": status, "started_at": T0, "answered_at": answered}


def at(seconds):
    return T0 + timedelta(seconds=seconds)


def test_status_only_moves_forward():
    assert leg_changes(leg("in-progress"), LegEvent("ringing", at(1)), own_answer=True) == {}
    assert leg_changes(leg("ringing"), LegEvent("ringing", at(2)), own_answer=True) == {}
    assert leg_changes(leg("ringing"), LegEvent("in-progress", at(5)), own_answer=True) == {
        "status": "in-progress", "answered_at": at(5)}


def test_terminal_wins_and_nothing_changes_after_it():
    done = leg("completed")
    for status in ("in-progress", "ringing", "busy", "completed"):
        assert leg_changes(done, LegEvent(status, at(9)), own_answer=True) == {}


def test_completed_before_answered_recovers_the_answer_time_from_call_duration():
    changes = leg_changes(leg("ringing"), LegEvent("completed", at(70), 60), own_answer=True)
    assert changes == {"status": "completed", "ended_at": at(70), "duration_seconds": 70,
                       "answered_at": at(10), "talk_seconds": 60}


def test_unanswered_leg_talks_zero_seconds():
    changes = leg_changes(leg("ringing"), LegEvent("no-answer", at(20), 0), own_answer=True)
    assert changes["talk_seconds"] == 0 and "answered_at" not in changes


def test_call_record_does_not_take_its_own_answer():
    changes = leg_changes(leg("ringing"), LegEvent("completed", at(70), 70), own_answer=False)
    assert changes == {"status": "completed", "ended_at": at(70), "duration_seconds": 70}


@pytest.mark.parametrize(("stamp", "expected"), [
    ("Fri, 20 Nov 2026 00:01:00 +0000", at(60)),
    ("Fri, 20 Nov 2026 03:00:00 +0000", at(0)),  # too far from our clock: use ours
    ("garbage", at(0)), (None, at(0))])
def test_event_time_trusts_twilio_timestamps_near_our_clock(stamp, expected):
    assert callstate.event_time(stamp, at(0)) == expected


def test_ready_only_when_every_expected_leg_has_ended():
    parent = {"status": "completed", "expected_legs": 2}
    ended = {"status": "completed"}
    assert not callstate.ready_to_finalize(parent, [ended])
    assert not callstate.ready_to_finalize(parent, [ended, {"status": "ringing"}])
    assert callstate.ready_to_finalize(parent, [ended, ended])
    assert not callstate.ready_to_finalize({**parent, "status": "in-progress"}, [ended, ended])


def test_lost_leg_callbacks_are_finalized_by_the_sweeper(make_app, clock):
    app = make_app()
    handoffs = []
    app.extensions["cti.writeback"] = type("P", (), {"call_finished": lambda s, sid:
                                                     handoffs.append(sid)})()
    sid = "CA" + "7" * 32
    with db.get_engine(app).begin() as conn:
        calls.open_call(conn, call_sid=sid, direction="inbound", leg="customer",
                        status="ringing", now=clock(), expected_legs=1)
        calls.note_dial_result(conn, MultiDict({"CallSid": sid, "DialCallStatus": "completed",
                                                "DialCallSid": "CA" + "8" * 32,
                                                "DialCallDuration": "42"}), clock())
        clock.advance(seconds=50)
        calls.apply_status(conn, {"CallSid": sid, "CallStatus": "completed",
                                  "CallDuration": "50"}, clock())
    assert handoffs == []  # waiting for the dialed leg
    with app.app_context():
        assert jobs.finalize_overdue_calls() == []  # not overdue yet
        clock.advance(minutes=11)
        assert jobs.finalize_overdue_calls() == [sid]
        assert jobs.finalize_overdue_calls() == []
    with db.get_engine(app).connect() as conn:
        record = calls.get_row(conn, sid)
    assert record["outcome"] == "answered" and record["talk_seconds"] == 42
    assert record["answered_at"] == record["started_at"] + timedelta(seconds=8)
    assert handoffs == [sid]


def test_simulator_token_is_scrubbed_from_logs(app):
    assert webhook_auth_token(app) in app_secrets(app)
