"""Per-number settings (CF-1, HT-2): max channels with overflow, display name, pop-up URLs."""

import threading

import pytest

from connector import db
from connector.voice import channels, numbers
from connector.voice.numbers import NumberChanges, Route, RoutingError
from voice.simulator import CallerScript, RecordInput, answers, no_answer
from voice.twiml import MESSAGES

from .conftest import CALLER, MAIN, NUMBER

CALLERS = ["+819011110001", "+819011110002", "+819011110003", "+819011110004"]


def talking(seconds: float) -> CallerScript:
    """A caller who leaves a message of ``seconds`` and hangs up."""
    return CallerScript(message=RecordInput(seconds=seconds, end="hangup"))


# --- the counter -------------------------------------------------------------------------------

def test_counter_admits_up_to_the_limit_and_frees_once(env):
    counter = channels.get_counter(env.app)
    assert [counter.admit(NUMBER, f"CA{i}", 2, 1000) for i in range(3)] == [True, True, False]
    assert counter.admit(NUMBER, "CA0", 2, 1000)  # Twilio retried the webhook: still its own
    assert counter.in_use(NUMBER) == 2
    assert counter.release(NUMBER, "CA0") and not counter.release(NUMBER, "CA0")
    assert counter.admit(NUMBER, "CA2", 2, 2000) and counter.in_use(NUMBER) == 2
    assert counter.admit(NUMBER, "CA9", 0, 2000)  # no limit: never counted
    assert counter.in_use(NUMBER) == 2


def test_counter_drops_calls_whose_final_callback_was_lost(env):
    counter = channels.get_counter(env.app)
    assert counter.admit(NUMBER, "CAold", 1, 0)
    assert not counter.admit(NUMBER, "CAnew", 1, channels.STALE_AFTER_MS)
    assert counter.admit(NUMBER, "CAnew", 1, channels.STALE_AFTER_MS + 1)


def test_racing_webhooks_never_exceed_the_limit(env):
    counter = channels.get_counter(env.app)
    admitted: list[bool] = []
    start = threading.Barrier(8)

    def call(i: int) -> None:
        start.wait()
        admitted.append(counter.admit(NUMBER, f"CA{i}", 3, 1000))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 3 and counter.in_use(NUMBER) == 3


# --- settings and their checks -----------------------------------------------------------------

@pytest.mark.parametrize(("changes", "field", "says"), [
    ({"max_channels": -1}, "max_channels", "between 0"),
    ({"max_channels": numbers.MAX_CHANNELS + 1}, "max_channels", "between 0"),
    ({"overflow": Route("group", "nope")}, "overflow", "no group"),
    ({"ring_popup_url": "ftp://crm/?n=@@@@"}, "ring_popup_url", "http"),
    ({"answer_popup_url": "https://crm/?q=a b"}, "answer_popup_url", "spaces"),
    ({"caller_id_name": "名" * 101}, "caller_id_name", "at most 100"),
])
def test_bad_settings_are_refused_naming_the_field(env, changes, field, says):
    with db.get_engine(env.app).begin() as conn, pytest.raises(RoutingError) as refused:
        numbers.save_number(conn, NUMBER, NumberChanges(**changes), now=env.now)
    assert says in refused.value.problems[field]


def test_admin_api_saves_and_checks_the_settings(env):
    env.add_agent("boss", role="admin")
    client, auth = env.app.test_client(), {**env.login("boss"), "Accept-Language": "en"}
    created = client.post("/api/admin/numbers", headers=auth, json={
        "e164": "050-1234-5678", "route": "voicemail", "max_channels": 2,
        "overflow": "voicemail", "caller_id_name": "サポート窓口",
        "ring_popup_url": "https://crm.example.jp/search?tel=@@@@",
        "answer_popup_url": "https://crm.example.jp/answer?tel=@@@@"})
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["number"]
    assert {k: number[k] for k in ("max_channels", "overflow", "caller_id_name",
                                   "ring_popup_url", "answer_popup_url")} == {
        "max_channels": 2, "overflow": "voicemail", "caller_id_name": "サポート窓口",
        "ring_popup_url": "https://crm.example.jp/search?tel=@@@@",
        "answer_popup_url": "https://crm.example.jp/answer?tel=@@@@"}
    bad = client.patch(f"/api/admin/numbers/{number['id']}", headers=auth,
                       json={"max_channels": -3, "ring_popup_url": "crm.example.jp"})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["details"]["fields"]) == {"max_channels",
                                                                 "ring_popup_url"}
    wrong_type = client.patch(f"/api/admin/numbers/{number['id']}", headers=auth,
                              json={"max_channels": "2"})
    assert list(wrong_type.get_json()["error"]["details"]["fields"]) == ["max_channels"]
    cleared = client.patch(f"/api/admin/numbers/{number['id']}", headers=auth,
                           json={"ring_popup_url": "", "max_channels": 0})
    assert cleared.get_json()["number"]["ring_popup_url"] == ""
    assert cleared.get_json()["number"]["max_channels"] == 0


# --- calls -------------------------------------------------------------------------------------

def test_third_call_over_two_channels_hears_the_busy_announcement(env):
    env.add_number(NUMBER, "voicemail", max_channels=2)

    placed = [env.sim.place_inbound_call(c, NUMBER, caller=talking(30)) for c in CALLERS[:3]]
    env.sim.run(until=10)
    assert channels.get_counter(env.app).in_use(NUMBER) == 2
    env.sim.run_until_idle()

    first, second, third = placed
    assert MESSAGES["voicemail_greeting"] in first.heard
    assert MESSAGES["voicemail_greeting"] in second.heard
    assert third.heard == [MESSAGES["channel_limit"]]
    # Nobody is lost: every caller has a call record saying what happened.
    records = [env.record(call.call_sid) for call in placed]
    assert [(r["outcome"], r["detail"]) for r in records] == [
        ("voicemail", "route:voicemail"), ("voicemail", "route:voicemail"),
        ("channel_limit", "channel_limit")]
    assert [r["customer_number"] for r in records] == CALLERS[:3]
    assert sorted(env.handoffs.calls) == sorted(c.call_sid for c in placed)
    # The hang-ups freed both channels: the next caller gets through.
    assert channels.get_counter(env.app).in_use(NUMBER) == 0
    fourth = env.sim.place_inbound_call(CALLERS[3], NUMBER, caller=talking(5))
    env.sim.run_until_idle()
    assert MESSAGES["voicemail_greeting"] in fourth.heard
    assert env.record(fourth.call_sid)["outcome"] == "voicemail"


def test_calls_over_the_limit_take_the_overflow_route(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato", max_channels=1, overflow=Route("voicemail"))
    env.sim.on_client("sato", answers(after=2, hangup_after=60))

    talking_call = env.sim.place_inbound_call(CALLERS[0], NUMBER)
    env.sim.run(until=5)
    overflowed = env.sim.place_inbound_call(CALLERS[1], NUMBER, caller=talking(8))
    env.sim.run_until_idle()

    assert talking_call.answered_by == "client:sato"
    assert MESSAGES["voicemail_greeting"] in overflowed.heard
    record = env.record(overflowed.call_sid)
    assert (record["outcome"], record["detail"]) == ("voicemail",
                                                    "channel_limit:overflow:voicemail")
    assert channels.get_counter(env.app).in_use(NUMBER) == 0


def test_display_name_is_the_called_lines_name_on_the_softphone(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato", label="代表", caller_id_name="サポート窓口（新規）")
    browser = env.sim.on_client("sato", answers(after=1, hangup_after=5))
    env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()
    assert browser.rung[0].parameters["cti_number_label"] == "サポート窓口（新規）"


def test_softphone_gets_the_numbers_popups_on_ring_and_answer(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "agent:sato",
                   ring_popup_url="https://crm.example.jp/search?tel=@@@@",
                   answer_popup_url="https://crm.example.jp/answer/@@@@")
    env.sim.on_client("sato", answers(after=1, hangup_after=5))
    call = env.sim.place_inbound_call(CALLER, NUMBER)
    env.sim.run_until_idle()
    client, auth = env.app.test_client(), env.login("sato")

    def pops(event: str) -> list[dict]:
        answer = client.get(f"/api/integrations/pops?event={event}&call_sid={call.call_sid}",
                            headers=auth)
        assert answer.status_code == 200
        return answer.get_json()["pops"]

    assert pops("incoming") == [{"integration": "number", "method": "GET", "fields": [],
                                 "url": "https://crm.example.jp/search?tel=09012345678"}]
    assert [p["url"] for p in pops("answered")] == [
        "https://crm.example.jp/answer/09012345678"]
    assert pops("hangup") == []


def test_an_unanswered_overflow_agent_is_freed_and_the_caller_hears_the_apology(env):
    env.add_agent("sato")
    env.add_number(NUMBER, "voicemail", max_channels=1, overflow=Route("agent", "sato"))
    env.add_number(MAIN, "agent:sato")
    env.sim.on_client("sato", no_answer())

    holding = env.sim.place_inbound_call(CALLERS[0], NUMBER, caller=talking(120))
    env.sim.run(until=5)
    overflowed = env.sim.place_inbound_call(CALLERS[1], NUMBER)
    env.sim.run(until=100)

    assert overflowed.heard[-1] == MESSAGES["no_agent"]
    assert env.record(overflowed.call_sid)["detail"] == "channel_limit:nobody_available"
    env.sim.on_client("sato", answers(after=1, hangup_after=5))
    later = env.sim.place_inbound_call(CALLERS[2], MAIN)
    env.sim.run_until_idle()
    assert later.answered_by == "client:sato"  # the overflow's ring did not keep sato claimed
    assert env.record(holding.call_sid)["outcome"] == "voicemail"
