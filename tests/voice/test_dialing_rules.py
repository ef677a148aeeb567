"""SPEC CF-12: which caller ID may dial which destination through Twilio in Japan."""

import pytest

from voice.dialing_rules import (
    ALLOWED,
    OUTBOUND_RULES,
    OutboundRule,
    Verdict,
    check_caller_id_prefix,
    check_outbound,
)
from voice.numbering import Destination, NumberKind, parse_destination, parse_outbound

CALLERS = {
    "050": "050-1234-5678",
    "0120": "0120-123-456",
    "0800": "0800-123-4567",
    "fixed": "03-1234-5678",
    "mobile": "+819012345678",
    "foreign": "+12125551234",
}

#: destination, expected code from a 050 caller ID, expected code from any other caller ID
MATRIX = [
    ("177", "ok", "ok"),
    ("110", "forbidden_emergency", "forbidden_emergency"),
    ("118", "forbidden_emergency", "forbidden_emergency"),
    ("119", "forbidden_emergency", "forbidden_emergency"),
    ("117", "forbidden_short_code", "forbidden_short_code"),
    ("104", "forbidden_short_code", "forbidden_short_code"),
    ("#9999", "forbidden_hash_code", "forbidden_hash_code"),
    ("0570-064-000", "forbidden_navi_dial", "forbidden_navi_dial"),
    *[
        (f"0{block}-123-456", "forbidden_0ab0", "forbidden_0ab0")
        for block in ("130", "140", "150", "160", "170", "180", "190", "910", "990")
    ],
    ("0037-6-12345", "forbidden_carrier_free_dial", "forbidden_carrier_free_dial"),
    ("0037-680-1234", "forbidden_carrier_free_dial", "forbidden_carrier_free_dial"),
    ("0066-33-123456", "forbidden_carrier_free_dial", "forbidden_carrier_free_dial"),
    ("0088-22-1234", "forbidden_carrier_free_dial", "forbidden_carrier_free_dial"),
    ("0081-0037-6-12345", "forbidden_carrier_free_dial", "forbidden_carrier_free_dial"),
    ("0120-123-456", "forbidden_freephone_from_050", "ok"),
    ("0800-123-4567", "forbidden_freephone_from_050", "ok"),
    ("03-1234-5678", "ok", "ok"),
    ("090-1234-5678", "ok", "ok"),
    ("070-1234-5678", "ok", "ok"),
    ("050-9876-5432", "ok", "ok"),
    ("020-1234-5678", "ok", "ok"),
    ("060-012-3456", "ok", "ok"),
    ("+12125551234", "international_not_allowed", "international_not_allowed"),
    ("010-44-20-7946-0018", "international_not_allowed", "international_not_allowed"),
]


def test_matrix_covers_every_destination_kind():
    kinds = {parse_destination(text).kind for text, _, _ in MATRIX}
    assert kinds == set(NumberKind) - {NumberKind.UNKNOWN}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("destination", "from_050", "from_others"), MATRIX)
def test_cf12_matrix(caller, destination, from_050, from_others):
    verdict = check_outbound(CALLERS[caller], parse_destination(destination))
    expected = from_050 if caller == "050" else from_others
    assert verdict.code == expected
    assert verdict.allowed is (expected == "ok")
    assert verdict.message_ja and verdict.message_en


def test_refusals_have_specific_polite_messages():
    verdict = check_outbound("050-1234-5678", parse_destination("0120-444-444"))
    assert verdict == Verdict(
        False,
        "forbidden_freephone_from_050",
        "050番号からフリーダイヤル（0120）には発信できません。別の発信者番号を選んでください。",
        "Calls from a 050 number to free-dial numbers (0120) are not possible. "
        "Please choose another caller ID.",
    )
    emergency = check_outbound("03-1234-5678", parse_destination("119"))
    assert emergency.message_ja == (
        "この電話から緊急通報（119番）はできません。固定電話か携帯電話からおかけください。"
    )
    special = check_outbound("0800-123-4567", parse_destination("0180-99-1234"))
    assert special.message_ja == "フリーダイヤル番号から0180で始まる番号には発信できません。"
    assert special.message_en == (
        "Calls from a free-dial number to numbers starting with 0180 are not possible."
    )


def test_carrier_free_numbers_are_refused_with_the_reason():
    verdict = check_outbound("0120-123-456", parse_outbound("0066-33-123456"))
    assert verdict.code == "forbidden_carrier_free_dial" and not verdict.allowed
    assert verdict.message_ja.startswith("0066で始まる電話会社のフリーダイヤル（0066-")
    assert "0120か0800の番号" in verdict.message_ja
    assert "starting with 0066" in verdict.message_en
    prefixed = check_outbound("0800-123-4567", parse_outbound("186-0037-6-12345"))
    assert prefixed.code == "forbidden_carrier_free_dial"


def test_every_refusal_code_is_distinct_with_distinct_messages():
    codes = [rule.code for rule in OUTBOUND_RULES]
    assert len(codes) == len(set(codes))
    assert len({rule.message_ja for rule in OUTBOUND_RULES}) == len(OUTBOUND_RULES)


@pytest.mark.parametrize(
    ("allowed_countries", "destination", "allowed"),
    [
        ((), "+12125551234", False),
        (["US"], "+12125551234", True),
        (["us"], "+12125551234", True),
        ({"GB"}, "+12125551234", False),
        ({"GB"}, "+44 20 7946 0018", True),
        (["US"], "0570-064-000", False),  # the Japanese rules still apply
    ],
)
def test_calls_abroad_only_to_allowed_countries(allowed_countries, destination, allowed):
    verdict = check_outbound(
        "050-1234-5678", parse_destination(destination), allowed_countries=allowed_countries
    )
    assert verdict.allowed is allowed


def test_refusal_abroad_names_the_country():
    verdict = check_outbound("03-1234-5678", parse_destination("+12125551234"))
    assert verdict.message_ja == (
        "海外（アメリカ合衆国）への発信は許可されていません。管理者にお問い合わせください。"
    )
    assert verdict.message_en == (
        "Calls abroad (United States) are not allowed. Please ask your administrator."
    )


@pytest.mark.parametrize("caller_id", ["", "abc", "177", "#9999", "client:alice", "0312"])
def test_invalid_caller_id_is_refused(caller_id):
    verdict = check_outbound(caller_id, parse_destination("03-1234-5678"))
    assert (verdict.allowed, verdict.code) == (False, "invalid_caller_id")


def test_unknown_destination_is_refused():
    destination = Destination(NumberKind.UNKNOWN, None, "999", "999")
    verdict = check_outbound("03-1234-5678", destination)
    assert (verdict.allowed, verdict.code) == (False, "invalid_destination")


def test_rule_table_can_be_replaced():
    navi = parse_destination("0570-064-000")
    assert check_outbound("03-1234-5678", navi, rules=()) == ALLOWED
    no_mobiles = OutboundRule(
        code="no_mobiles",
        destinations=frozenset({NumberKind.MOBILE}),
        callers=frozenset({NumberKind.FIXED}),
        message_ja="{caller_ja}から携帯電話（{dial}）には発信できません。",
        message_en="No mobiles from {caller_en} ({dial}).",
    )
    mobile = parse_destination("090-1234-5678")
    verdict = check_outbound("03-1234-5678", mobile, rules=[no_mobiles])
    assert verdict == Verdict(
        False,
        "no_mobiles",
        "この発信者番号から携帯電話（090-1234-5678）には発信できません。",
        "No mobiles from this caller ID (090-1234-5678).",
    )
    assert check_outbound("050-1234-5678", mobile, rules=[no_mobiles]).allowed


def test_refusal_abroad_of_a_non_geographic_number_names_its_calling_code():
    verdict = check_outbound("03-1234-5678", parse_destination("+800 1234 5678"))
    assert verdict.code == "international_not_allowed"
    assert "（+800）" in verdict.message_ja


# --- caller-ID prefixes ------------------------------------------------------------------------

def test_186_is_allowed_and_184_refused_naming_the_caller_id():
    assert check_outbound("+815012345678", parse_outbound("186-03-1234-5678")).allowed
    verdict = check_outbound("+815012345678", parse_outbound("184-03-1234-5678"))
    assert (verdict.allowed, verdict.code) == (False, "caller_id_withholding_unsupported")
    assert "050-1234-5678が表示されます" in verdict.message_ja
    assert "will see 050-1234-5678" in verdict.message_en


def test_the_number_is_judged_before_its_prefix():
    navi = check_outbound("+815012345678", parse_outbound("184-0570-000-111"))
    assert navi.code == "forbidden_navi_dial"
    abroad = check_outbound("+815012345678", parse_outbound("184+12125550100"),
                            allowed_countries=("US",))
    assert abroad.code == "caller_id_withholding_unsupported"


def test_prefix_refusals_are_a_table_a_deployment_may_change():
    withheld = parse_outbound("184-03-1234-5678")
    assert check_outbound("+815012345678", withheld, prefix_refusals={}).allowed
    assert not check_caller_id_prefix("+815012345678", withheld).allowed
