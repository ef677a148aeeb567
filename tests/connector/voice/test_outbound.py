"""Calls from the softphone (the TwiML App) end to end, and the dial check API."""

import json

import pytest

from connector import db
from connector.voice import number_lists
from crm_adapters.base import Customer
from voice.simulator import CallerScript, answers, busy
from voice.simulator.transcript import Dialed

from .conftest import MAIN, NUMBER

MOBILE = "+819011112222"
RECORD = {"adapter": "salesforce", "id": "003xx000004TmiQ", "type": "Contact", "name": "山田 太郎"}


@pytest.fixture
def caller_env(env):
    env.add_number(MAIN, "none", label="本社")
    env.add_number(NUMBER, "none", label="サポート050")
    env.add_agent("sato", caller_ids=(MAIN, NUMBER))
    return env


def dial(env, to, *, caller_id=None, identity="sato", record=None, hangup_after=None):
    params = {"To": to}
    if caller_id:
        params["CallerId"] = caller_id
    if record:
        params["cti_record"] = json.dumps(record, ensure_ascii=False)
    call = env.sim.place_client_call(identity, params,
                                     caller=CallerScript(hangup_after=hangup_after))
    env.sim.run_until_idle()
    return call


def test_outbound_to_a_mobile(caller_env):
    env = caller_env
    customer = env.sim.on_number(MOBILE, answers(after=6, hangup_after=90))
    call = dial(env, "０９０ー１１１１ー２２２２", record=RECORD)  # typed in full width

    assert call.answered_by == MOBILE and call.error_codes == []
    assert customer.rung[0].from_ == MAIN  # the agent's default caller ID
    record = env.record(call.call_sid)
    legs = env.legs(call.call_sid)
    assert (record["direction"], record["outcome"], record["status"]) == (
        "outbound", "answered", "completed")
    assert record["customer_number"] == MOBILE and record["our_number"] == MAIN
    assert record["from_number"] == "client:sato" and record["agent_id"] is not None
    assert record["talk_seconds"] == 90
    assert record["customer"]["selected"] == RECORD
    assert [(leg["leg"], leg["customer_number"]) for leg in legs] == [("customer", MOBILE)]
    assert env.handoffs.calls == [call.call_sid]


def test_outbound_with_a_chosen_caller_id_and_busy_line(caller_env):
    env = caller_env
    customer = env.sim.on_number(MOBILE, busy())
    call = dial(env, "09011112222", caller_id="050-1234-5678")
    assert customer.rung[0].from_ == NUMBER
    assert call.heard == ["お相手は話し中です。"]
    assert env.record(call.call_sid)["outcome"] == "busy"


@pytest.mark.parametrize(("to", "code", "heard"), [
    ("0570-000-111", "forbidden_navi_dial", "ナビダイヤル"),
    ("110", "forbidden_emergency", "緊急通報（110番）"),
    ("#9999", "forbidden_hash_code", "「#」で始まる番号"),
    ("+1 212-555-0100", "international_not_allowed", "海外（アメリカ合衆国）"),
])
def test_forbidden_destinations_are_never_dialled(caller_env, to, code, heard):
    env = caller_env
    call = dial(env, to)
    assert call.of(Dialed) == []
    assert len(call.heard) == 1 and heard in call.heard[0]
    record = env.record(call.call_sid)
    assert (record["outcome"], record["detail"]) == ("refused", code)
    assert env.legs(call.call_sid) == []
    assert env.handoffs.calls == [call.call_sid]
    webhook = call.requests_to("/twilio/voice/outbound")[0].body
    assert 'language="ja-JP" voice="Polly.Mizuki"' in webhook


def test_free_dial_refused_only_from_050(caller_env):
    env = caller_env
    env.sim.on_number("+81120123456", answers(after=1, hangup_after=3))
    refused = dial(env, "0120-123-456", caller_id=NUMBER)
    assert env.record(refused.call_sid)["detail"] == "forbidden_freephone_from_050"
    allowed = dial(env, "0120-123-456", caller_id=MAIN)
    assert allowed.answered_by == "+81120123456"


def test_carrier_free_numbers_are_refused_even_from_free_dial_caller_ids(caller_env):
    """0037-6… would go to Twilio as +810037…, which it cannot reach: refused, never dialled."""
    env = caller_env
    env.add_number("+81120111222", "none", label="フリーダイヤル")
    env.add_agent("kato", caller_ids=("+81120111222",))
    env.sim.on_number("+810037612345", answers(after=1, hangup_after=3))
    call = dial(env, "0037-6-12345", identity="kato")
    assert call.of(Dialed) == []
    assert len(call.heard) == 1 and "0037で始まる電話会社のフリーダイヤル" in call.heard[0]
    assert env.record(call.call_sid)["detail"] == "forbidden_carrier_free_dial"


def test_the_00_international_form_and_middle_dots_are_dialled(caller_env):
    env = caller_env
    customer = env.sim.on_number(MOBILE, answers(after=1, hangup_after=3))
    for typed in ("0081-90-1111-2222", "090・1111・2222"):
        call = dial(env, typed)
        assert call.answered_by == MOBILE, typed
    assert len(customer.rung) == 2


def test_restriction_list_refuses(caller_env):
    env = caller_env
    with db.get_engine(env.app).begin() as conn:
        number_lists.add_rule(conn, "restrict", "090-1111*", "テスト", now=env.now)
    call = dial(env, MOBILE)
    assert call.heard == ["この番号への発信は規制されています。管理者にお問い合わせください。"]
    assert env.record(call.call_sid)["detail"] == "restricted"


def test_186_dials_the_number_after_the_prefix(caller_env):
    env = caller_env
    customer = env.sim.on_number(MOBILE, answers(after=2, hangup_after=10))
    call = dial(env, "186-090-1111-2222")
    assert call.answered_by == MOBILE and call.error_codes == []
    assert customer.rung[0].to == MOBILE and customer.rung[0].from_ == MAIN
    hooks = "https://cti.example.com/twilio/voice"
    assert call.requests_to("/twilio/voice/outbound")[0].body == (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Dial action="'
        f'{hooks}/dial-action?step=outbound" answerOnBridge="true" callerId="{MAIN}" '
        f'timeout="60"><Number statusCallback="{hooks}/status" statusCallbackEvent="initiated '
        f'ringing answered completed">{MOBILE}</Number></Dial></Response>')
    record = env.record(call.call_sid)
    assert (record["to_number"], record["customer_number"]) == (MOBILE, MOBILE)


def test_184_is_refused_with_the_reason_and_never_dialled(caller_env):
    env = caller_env
    env.sim.on_number(MOBILE, answers(after=1))
    call = dial(env, "184 090-1111-2222")
    assert call.of(Dialed) == []
    assert call.heard == ["184（非通知）を付けた発信はできません。この電話では発信者番号を非通知に"
                          "できません。184を付けずにおかけください（相手には03-1234-5678が"
                          "表示されます）。"]
    record = env.record(call.call_sid)
    assert (record["outcome"], record["detail"]) == ("refused", "caller_id_withholding_unsupported")
    assert record["customer_number"] == MOBILE


@pytest.mark.parametrize(("to", "code"), [
    ("186-090-1111-2222", "restricted"),
    ("184-090-1111-2222", "restricted"),  # the number's own refusal comes first
    ("184-0570-000-111", "forbidden_navi_dial"),
    ("186110", "forbidden_emergency"),
    ("184", "forbidden_short_code"),  # on its own, 184 is a service number
])
def test_rules_apply_to_the_number_after_the_prefix(caller_env, to, code):
    env = caller_env
    with db.get_engine(env.app).begin() as conn:
        number_lists.add_rule(conn, "restrict", "090-1111*", "テスト", now=env.now)
    call = dial(env, to)
    assert call.of(Dialed) == []
    assert env.record(call.call_sid)["detail"] == code


def test_dial_check_api_shows_the_prefix(caller_env):
    env = caller_env
    client, auth = env.app.test_client(), env.login("sato")
    shown = client.post("/api/dial/check", json={"to": "１８６０９０１１１１２２２２"},
                        headers=auth).get_json()
    assert shown["allowed"] is True and shown["destination"] == {
        "e164": MOBILE, "display": "090-1111-2222", "kind": "mobile", "caller_id_prefix": "186"}
    withheld = client.post("/api/dial/check", json={"to": "184-090-1111-2222",
                                                     "caller_id": NUMBER}, headers=auth).get_json()
    assert withheld["allowed"] is False
    assert withheld["code"] == "caller_id_withholding_unsupported"
    assert "050-1234-5678" in withheld["message_ja"] and "without 184" in withheld["message_en"]


def test_caller_id_must_be_one_the_agent_may_use(caller_env):
    env = caller_env
    env.add_number("+81612345678", "none")
    call = dial(env, MOBILE, caller_id="+81612345678")
    assert env.record(call.call_sid)["detail"] == "caller_id_not_allowed"
    env.add_agent("ito")  # no caller IDs at all
    call = dial(env, MOBILE, identity="ito")
    assert env.record(call.call_sid)["detail"] == "no_caller_id"


def test_unknown_or_disabled_client_cannot_dial(caller_env):
    env = caller_env
    call = dial(env, MOBILE, identity="stranger")
    assert call.heard == ["この電話からは発信できません。管理者にお問い合わせください。"]
    assert env.record(call.call_sid)["detail"] == "unknown_agent"


def test_dial_check_api(caller_env):
    env = caller_env
    client, auth = env.app.test_client(), env.login("sato")
    ok = client.post("/api/dial/check", json={"to": "090-1111-2222"}, headers=auth)
    assert ok.status_code == 200
    assert ok.get_json() == {
        "allowed": True, "code": "ok", "message_ja": "発信できます。",
        "message_en": "The call can be placed.", "caller_id": MAIN,
        "destination": {"e164": MOBILE, "display": "090-1111-2222", "kind": "mobile",
                        "caller_id_prefix": None},
        "customer": {"name": "", "company": "", "matches": []}}
    navi = client.post("/api/dial/check", json={"to": "0570-000-111", "caller_id": NUMBER},
                       headers=auth).get_json()
    assert navi["allowed"] is False and navi["code"] == "forbidden_navi_dial"
    assert navi["destination"]["kind"] == "navi_dial" and navi["message_ja"].startswith("050番号")
    bad = client.post("/api/dial/check", json={"to": "12345"}, headers=auth).get_json()
    assert bad["allowed"] is False and bad["destination"] is None and bad["message_ja"]
    assert client.post("/api/dial/check", json={}, headers=auth).status_code == 422
    assert client.post("/api/dial/check", json={"to": MOBILE}).status_code == 401


def test_my_caller_ids(caller_env):
    env = caller_env
    body = env.app.test_client().get("/api/me/caller-ids", headers=env.login("sato")).get_json()
    assert body == [
        {"e164": MAIN, "display": "03-1234-5678", "label": "本社", "default": True},
        {"e164": NUMBER, "display": "050-1234-5678", "label": "サポート050", "default": False}]


YAMADA = Customer("builtin", "7", "山田 太郎", "customer", "山田商事",
                  url="https://cti.example.com/crm/customers/7")
YAMADA_MATCH = {"adapter": "builtin", "id": "7", "type": "customer", "name": "山田 太郎",
                "company": "山田商事", "url": "https://cti.example.com/crm/customers/7"}
OFFICE = "+81612345678"


def test_dial_check_looks_the_dialed_number_up_like_a_caller(caller_env):
    env = caller_env
    env.crm.known[OFFICE] = [YAMADA]
    client, auth = env.app.test_client(), env.login("sato")
    body = client.post("/api/dial/check", json={"to": "06-1234-5678"}, headers=auth).get_json()
    assert body["allowed"] is True
    assert body["customer"] == {"name": "山田 太郎", "company": "山田商事",
                                "matches": [YAMADA_MATCH]}
    assert env.crm.budgets == [0.3]  # [voice] lookup_budget_ms, as for an incoming call
    refused = client.post("/api/dial/check", json={"to": "110"}, headers=auth).get_json()
    assert refused["customer"]["matches"] == [] and env.crm.budgets == [0.3]  # not looked up


def test_outbound_call_record_keeps_the_dialed_customer(caller_env):
    env = caller_env
    env.crm.known[OFFICE] = [YAMADA]
    env.sim.on_number(OFFICE, answers(after=2, hangup_after=10))
    call = dial(env, "06-1234-5678")  # typed, not clicked in a CRM
    customer = env.record(call.call_sid)["customer"]
    assert customer["name"] == "山田 太郎" and customer["matches"] == [YAMADA_MATCH]
    assert customer["selected"] is None
    assert env.crm.budgets == [0.3]  # the webhook's lookup has the inbound budget too
    clicked = dial(env, "06-1234-5678", record=RECORD)
    customer = env.record(clicked.call_sid)["customer"]
    assert customer["selected"] == RECORD and customer["name"] == "山田 太郎"
    assert customer["matches"] == [YAMADA_MATCH]
