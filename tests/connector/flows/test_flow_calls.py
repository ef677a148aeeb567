"""Calls through flows: the simulator calls the real webhooks on set dates and times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voice.simulator import CallerScript, RecordInput, answers, no_answer

from ..voice.conftest import CALLER, NUMBER
from .conftest import EXAMPLE

WELCOME = "お電話ありがとうございます。ご注文は1を、サポートは2を押してください。"
CLOSED = ("お電話ありがとうございます。本日の営業は終了いたしました。"
          "営業時間は平日9時から18時です。")
VOICEMAIL = "ただいま電話が混み合っております。発信音のあとにご用件をお話しください。"
RETRY = "恐れ入りますが、もう一度お選びください。"


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text + "+09:00").astimezone(UTC)


@pytest.fixture
def main_flow(env):
    for name in ("sato", "ito"):
        env.add_agent(name)
    env.add_group("sales", ["sato"])
    env.add_group("support", ["ito"])
    env.import_flow(EXAMPLE.read_text())
    env.add_number(NUMBER, "flow:main")
    return env


def call(env, at: str, **script):
    env.sim.start_time = jst(at)
    placed = env.sim.place_inbound_call(CALLER, NUMBER, caller=CallerScript(**script))
    env.sim.run_until_idle()
    return placed


def test_weekday_in_hours_menu_key_rings_the_group(main_flow):
    main_flow.sim.on_client("sato", answers(after=3, hangup_after=30))
    placed = call(main_flow, "2026-12-07T10:00", digits=["1"])  # a Monday
    assert placed.heard[0] == WELCOME
    assert placed.answered_by == "client:sato"
    record = main_flow.record(placed.call_sid)
    assert record["outcome"] == "answered" and record["detail"] == "flow:main:sales"
    assert record["group_id"] is not None


def test_out_of_hours_announcement_then_voicemail(main_flow):
    placed = call(main_flow, "2026-12-07T19:30", message=RecordInput(seconds=6, end="#"))
    assert placed.heard == [CLOSED, VOICEMAIL, "beep", "ありがとうございました。"]
    assert main_flow.record(placed.call_sid)["outcome"] == "voicemail"


def test_new_years_day_is_a_holiday_even_on_a_weekday(main_flow):
    placed = call(main_flow, "2026-01-01T10:00", message=RecordInput(seconds=3, end="#"))
    assert placed.heard[0] == CLOSED  # 元日 2026 is a Thursday


def test_substitute_holiday_is_closed(main_flow):
    # 2026-05-06 (Wed) is 振替休日 for 憲法記念日 on Sunday 05-03.
    placed = call(main_flow, "2026-05-06T10:00", message=RecordInput(seconds=3, end="#"))
    assert placed.heard[0] == CLOSED


def test_company_day_is_closed_and_the_day_after_is_open(main_flow):
    main_flow.sim.on_client("ito", answers(after=2, hangup_after=10))
    closed = call(main_flow, "2026-12-29T10:00", message=RecordInput(seconds=3, end="#"))
    assert closed.heard[0] == CLOSED  # 年末年始, a Tuesday
    opened = call(main_flow, "2026-12-28T10:00", digits=["2"])
    assert opened.heard[0] == WELCOME and opened.answered_by == "client:ito"


def test_override_sends_calls_elsewhere_until_it_expires(main_flow):
    from connector import db
    from connector.flows import store

    with db.get_engine(main_flow.app).begin() as conn:
        store.set_override(conn, "main", "hours", "closed", jst("2026-12-07T12:00"),
                           now=jst("2026-12-07T09:00"), note="本日は臨時休業")
    during = call(main_flow, "2026-12-07T10:00", message=RecordInput(seconds=3, end="#"))
    assert during.heard[0] == CLOSED
    main_flow.sim.on_client("ito", answers(after=2, hangup_after=10))
    after = call(main_flow, "2026-12-07T13:00", digits=["2"])
    assert after.heard[0] == WELCOME and after.answered_by == "client:ito"


def test_wrong_key_then_silence_then_valid_key(main_flow):
    main_flow.sim.on_client("sato", answers(after=2, hangup_after=10))
    placed = call(main_flow, "2026-12-07T10:00", digits=["7", None, "1"])
    assert placed.heard[:5] == [WELCOME, RETRY, WELCOME, RETRY, WELCOME]
    assert placed.answered_by == "client:sato"


def test_silence_through_every_retry_takes_the_default(main_flow):
    main_flow.sim.on_client("ito", answers(after=2, hangup_after=10))
    placed = call(main_flow, "2026-12-07T10:00", digits=[None, None, None])
    assert placed.heard == [WELCOME, RETRY, WELCOME, RETRY, WELCOME]
    assert placed.answered_by == "client:ito"  # default = support


def test_nobody_in_the_group_goes_to_next(main_flow):
    main_flow.set_presence("sato", "away")
    placed = call(main_flow, "2026-12-07T10:00", digits=["1"],
                  message=RecordInput(seconds=4, end="#"))
    assert placed.heard == [WELCOME, VOICEMAIL, "beep", "ありがとうございました。"]


def test_unanswered_group_goes_to_next(main_flow):
    main_flow.sim.on_client("sato", no_answer())
    placed = call(main_flow, "2026-12-07T10:00", digits=["1"],
                  message=RecordInput(seconds=4, end="#"))
    assert placed.heard[-3:] == [VOICEMAIL, "beep", "ありがとうございました。"]
    assert main_flow.record(placed.call_sid)["outcome"] == "voicemail"


def test_simulated_time_decides_in_simulator_mode_only(main_flow):
    from connector.voice.runtime import get_runtime

    main_flow.sim.start_time = jst("2026-12-07T10:00")  # a Monday in hours
    at = {"CtiSimulatedTime": "2026-12-31T10:00+09:00"}  # 年末年始
    placed = main_flow.sim.place_inbound_call(CALLER, NUMBER, params=at,
                                              caller=CallerScript(message=RecordInput(3, "#")))
    main_flow.sim.run_until_idle()
    assert placed.heard[0] == CLOSED
    get_runtime(main_flow.app).mode = "twilio"  # Twilio never sends it; never trusted there
    try:
        main_flow.sim.on_client("sato", answers(after=2, hangup_after=5))
        placed = main_flow.sim.place_inbound_call(CALLER, NUMBER, params=at,
                                                  caller=CallerScript(digits=["1"]))
        main_flow.sim.run_until_idle()
    finally:
        get_runtime(main_flow.app).mode = "simulator"
    assert placed.heard[0] == WELCOME
