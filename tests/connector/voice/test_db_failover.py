"""A database connection lost mid-webhook (a failover) does not lose the callback."""

from sqlalchemy.exc import OperationalError

from connector.voice import calls as call_store
from voice.simulator import CallerScript, RecordInput

from .conftest import CALLER, NUMBER


def lost_connection():
    return OperationalError("UPDATE calls ...", {}, Exception("server closed the connection"),
                            connection_invalidated=True)


def test_a_final_callback_whose_connection_dropped_still_finishes_the_call(env, monkeypatch):
    env.add_number(NUMBER, "voicemail")
    real = call_store.apply_status
    failed = []

    def drops_once(conn, params, now):
        if params.get("CallStatus") == "completed" and not failed:
            failed.append(params["CallSid"])
            raise lost_connection()
        return real(conn, params, now)

    monkeypatch.setattr(call_store, "apply_status", drops_once)
    call = env.sim.place_inbound_call(
        CALLER, NUMBER, caller=CallerScript(message=RecordInput(seconds=5, end="#")))
    env.sim.run_until_idle()
    assert failed == [call.call_sid]
    record = env.record(call.call_sid)
    assert record["status"] == "completed" and record["finalized_at"] is not None
    assert env.handoffs.calls == [call.call_sid]


def test_other_errors_are_not_run_twice(env, monkeypatch):
    env.add_number(NUMBER, "voicemail")
    runs = []

    def broken(conn, params, now):
        runs.append(params.get("CallStatus"))
        raise RuntimeError("a bug")

    monkeypatch.setattr(call_store, "apply_status", broken)
    call = env.sim.place_inbound_call(
        CALLER, NUMBER, caller=CallerScript(message=RecordInput(seconds=5, end="#")))
    env.sim.run_until_idle()
    assert runs and len(runs) == len(set(runs))  # each callback tried once
    assert env.record(call.call_sid)["finalized_at"] is None
