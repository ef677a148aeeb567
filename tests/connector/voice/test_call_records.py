"""Call records stay right whatever order Twilio's callbacks arrive in, however often.

A call is first run through the simulator; its requests are then replayed into a fresh app:
the TwiML requests in their order, the status callbacks delayed at random (never before the
request that caused them), each sent twice. Every replay must give the same record and legs
as the original, and exactly one hand-off to the write-back. (A *recording* that arrives
after the call is final is a second hand-off by design — see test_inbound.py.)
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import delete, update
from werkzeug.datastructures import MultiDict

from connector import db
from connector.schema import call_events, calls
from connector.voice import groups, webhook_auth_token
from voice.signature import SIGNATURE_HEADER, compute_signature
from voice.simulator import CallerScript, RecordInput, answers, no_answer

from .conftest import CALLER, NUMBER, make_env

RECORD_FIELDS = ("direction", "leg", "status", "outcome", "detail", "customer_number",
                 "our_number", "agent_id", "group_id", "started_at", "answered_at", "ended_at",
                 "duration_seconds", "talk_seconds", "recording_sid", "recording_duration")
LEG_FIELDS = ("call_sid", "leg", "status", "agent_id", "answered_at", "ended_at",
              "talk_seconds", "duration_seconds")
CALLBACKS = ("status-callback", "recording-callback")


def setup(env, scenario):
    for name in ("sato", "ito"):
        env.add_agent(name)
    with db.get_engine(env.app).begin() as conn:
        groups.save_group(conn, "support", members=["sato", "ito"], now=env.now)
    if scenario == "answered":
        env.add_number(NUMBER, "agent:sato", recording=True)
        env.sim.on_client("sato", answers(after=3, hangup_after=45))
    elif scenario == "group":
        env.add_number(NUMBER, "group:support", "voicemail")
        env.sim.on_client("sato", no_answer())
        env.sim.on_client("ito", answers(after=7, hangup_after=30))
    else:  # nobody answers: voicemail
        env.add_number(NUMBER, "group:support", "voicemail")
        env.sim.on_client("sato", no_answer())
        env.sim.on_client("ito", no_answer())


def snapshot(env, sid):
    record = env.record(sid)
    legs = [{k: leg[k] for k in LEG_FIELDS} for leg in env.legs(sid)]
    return {k: record[k] for k in RECORD_FIELDS}, legs, record["finalized_at"] is not None


def replay_orders(requests, seed):
    """TwiML requests in order; each status callback twice, both copies delayed at random;
    each recording callback in place, and once more later."""
    rng = random.Random(seed)
    keyed = []
    for index, request in enumerate(requests):
        if request.purpose == "status-callback":
            first = rng.uniform(index, len(requests) + 1)
        else:
            first = index
        keyed.append((first, 0, index, request))
        if request.purpose in CALLBACKS:
            keyed.append((rng.uniform(index, len(requests) + 1), 1, index, request))
    return [request for *_, request in sorted(keyed, key=lambda k: k[:3])]


def send(env, request):
    url = request.url
    params = list(request.params)
    headers = {SIGNATURE_HEADER: compute_signature(url, params, webhook_auth_token(env.app))}
    path = url.removeprefix("https://cti.example.com")
    response = env.app.test_client().post(path, data=MultiDict(params), headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)


def run_original(tmp_path, database_url, scenario):
    """Run the call once for real; return its transcript, expected state and a replica app
    (same database, clock stopped at the call's start) to replay into."""
    original = make_env(tmp_path / "original", database_url)
    setup(original, scenario)
    script = CallerScript(message=RecordInput(seconds=9, end="#"))
    call = original.sim.place_inbound_call(CALLER, NUMBER, caller=script)
    original.sim.run_until_idle()
    expected = snapshot(original, call.call_sid)
    assert expected[2] and original.handoffs.calls == [call.call_sid]
    db.get_engine(original.app).dispose()
    return call, expected, make_env(tmp_path / "replica", database_url)


def forget_calls(env):
    from connector.acd import get_acd
    from connector.schema import agent_presence

    with db.get_engine(env.app).begin() as conn:
        conn.execute(delete(call_events))
        conn.execute(delete(calls))
        # The replayed calls claimed agents: free them (database and the ACD's live board).
        conn.execute(update(agent_presence).values(status="available", call_sid=None))
    get_acd(env.app).board.forget()
    env.handoffs.calls.clear()


@pytest.mark.parametrize("scenario", ["answered", "group", "voicemail"])
def test_reordered_and_repeated_callbacks_leave_one_correct_record(tmp_path, database_url,
                                                                  scenario):
    call, expected, replica = run_original(tmp_path, database_url, scenario)
    requests = call.requests
    orders = [replay_orders(requests, seed) for seed in range(6)]
    reverse = [r for r in requests if r.purpose != "status-callback"] + [
        r for r in reversed(requests) if r.purpose == "status-callback"]
    for number, order in enumerate([reverse, *orders]):
        forget_calls(replica)
        for request in order:
            send(replica, request)
        assert snapshot(replica, call.call_sid) == expected, f"order {number}"
        assert replica.handoffs.calls == [call.call_sid], f"order {number}"
    db.get_engine(replica.app).dispose()


def test_call_waits_for_legs_whose_callbacks_are_late(tmp_path, sqlite_url):
    """The call record ends first; its agent's leg reports later: still one right record."""
    call, expected, replica = run_original(tmp_path, sqlite_url, "answered")
    requests = call.requests
    forget_calls(replica)
    parent_done = [r for r in requests if r.purpose == "status-callback"
                   and r.param_dict["CallSid"] == call.call_sid]
    others = [r for r in requests if r not in parent_done]
    send(replica, others[0])  # the inbound webhook
    for request in parent_done:
        send(replica, request)
    assert replica.handoffs.calls == []  # its dialed leg has not reported yet
    assert replica.record(call.call_sid)["finalized_at"] is None
    recording = [r for r in others if r.purpose == "recording-callback"]
    for request in others[1:]:
        if request not in recording:
            send(replica, request)
    assert replica.handoffs.calls == [call.call_sid]  # final once its leg has ended
    for request in recording:  # the recording comes last: a new revision of the record
        send(replica, request)
    assert snapshot(replica, call.call_sid) == expected
    assert replica.handoffs.calls == [call.call_sid]
    assert replica.handoffs.updates == [call.call_sid]  # the log is written again, with it
