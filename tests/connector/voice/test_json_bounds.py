"""Bounded JSON: ``cti_record`` of an outbound call, and every JSON API body (issue 17)."""

import json
import logging

import pytest

from connector.json_limits import (
    MAX_BODY_DEPTH,
    MAX_FIELD_BYTES,
    MAX_FIELD_DEPTH,
    JSONTooComplex,
    loads_bounded,
    text_depth,
    value_depth,
)
from connector.voice.twilio_views import CTI_RECORD_MAX_BYTES
from voice.simulator import answers

from .test_outbound import MOBILE, RECORD, caller_env, dial  # noqa: F401  (fixture)


def test_text_depth_ignores_brackets_in_strings():
    assert text_depth('{"a": "[[[[{{{{", "b": [1, [2]]}') == 3
    assert text_depth('"\\"[[["') == 0
    assert text_depth("[" * 5000 + "]" * 5000) == 5000


def test_value_depth_stops_counting_past_the_limit():
    deep: list = []
    for _ in range(50):
        deep = [deep]
    assert value_depth(deep, 5) == 6
    assert value_depth({"a": [1, {"b": 2}]}, 10) == 3
    assert value_depth("x", 3) == 0


def test_loads_bounded_refuses_before_parsing():
    with pytest.raises(JSONTooComplex) as deep:
        loads_bounded("[" * 100_000 + "]" * 100_000, max_bytes=10**7, max_depth=20)
    assert deep.value.reason == "too_deep"
    with pytest.raises(JSONTooComplex) as large:
        loads_bounded('"' + "x" * 100 + '"', max_bytes=50, max_depth=2)
    assert large.value.reason == "too_large"
    assert loads_bounded('{"a": [1]}', max_bytes=50, max_depth=2) == {"a": [1]}


@pytest.mark.parametrize("raw", [
    "[" * 3000 + "]" * 3000,  # the parser would recurse 3,000 levels
    json.dumps({**RECORD, "name": "x" * (CTI_RECORD_MAX_BYTES + 1)}),
    json.dumps({**RECORD, "extra": {"a": {"b": {}}}}),
    "{not json",
])
def test_hostile_cti_record_is_ignored_with_a_reason_and_the_call_goes_ahead(
        caller_env, caplog, raw):  # noqa: F811
    env = caller_env
    caplog.set_level(logging.WARNING)
    env.sim.on_number(MOBILE, answers(after=2, hangup_after=5))
    call = env.sim.place_client_call("sato", {"To": MOBILE, "cti_record": raw})
    env.sim.run_until_idle()
    record = env.record(call.call_sid)
    assert record["outcome"] == "answered" and record["customer"]["selected"] is None
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    (warning,) = [r for r in caplog.records if "cti_record" in r.getMessage()]
    assert warning.field == "cti_record"
    assert warning.problem in {"too_deep", "too_large", "not_json"}


def test_a_normal_cti_record_is_kept(caller_env):  # noqa: F811
    env = caller_env
    env.sim.on_number(MOBILE, answers(after=2, hangup_after=5))
    call = dial(env, MOBILE, record=RECORD)
    assert env.record(call.call_sid)["customer"]["selected"] == RECORD


def _api(env, path, body):
    headers = {**env.login("boss"), "Content-Type": "application/json"}
    return env.app.test_client().post(path, data=body, headers=headers)


def test_deeply_nested_api_body_is_a_400_not_a_500(env, caplog):
    env.add_agent("boss", role="admin")
    caplog.set_level(logging.WARNING)
    body = '{"name": "g1", "members": ' + "[" * 5000 + "]" * 5000 + "}"
    response = _api(env, "/api/admin/groups", body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_body"
    assert str(MAX_BODY_DEPTH) in response.get_json()["error"]["message"]
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(("members", "code"), [
    ([[[[[[[[["x"]]]]]]]]], "too_deep"),
    (["u" * 1000] * (MAX_FIELD_BYTES // 1000 + 1), "too_large"),
])
def test_object_and_list_fields_are_bounded_by_name(env, members, code):
    env.add_agent("boss", role="admin")
    assert value_depth(members, MAX_FIELD_DEPTH) > MAX_FIELD_DEPTH or code == "too_large"
    response = _api(env, "/api/admin/groups", json.dumps({"name": "g1", "members": members}))
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details["codes"] == {"members": code}
    assert "members" in response.get_json()["error"]["message"]
