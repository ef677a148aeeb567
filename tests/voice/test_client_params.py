"""The <Parameter> contract the softphone relies on."""

import json

from voice.client_params import (
    MAX_PARAMETERS,
    NAME_MAX_BYTES,
    VALUE_MAX_BYTES,
    CallerInfo,
    Match,
    client_parameters,
    encode_matches,
    fit_bytes,
)

SID = "CA" + "a" * 32


def info(**kw):
    values = dict(parent_call_sid=SID, caller_number="090-1234-5678",
                  caller_e164="+819012345678", caller_name="山田 太郎",
                  caller_company="山田商事", number_label="代表")
    values.update(kw)
    return CallerInfo(**values)


def test_parameters_in_contract_order():
    matches = [Match("builtin", "42", "customer", "山田 太郎")]
    pairs = client_parameters(info(matches=matches, group="support"))
    assert pairs == [
        ("cti_parent_call_sid", SID), ("cti_caller_number", "090-1234-5678"),
        ("cti_caller_e164", "+819012345678"), ("cti_caller_name", "山田 太郎"),
        ("cti_caller_company", "山田商事"),
        ("cti_matches", '[{"adapter":"builtin","id":"42","type":"customer","name":"山田 太郎"}]'),
        ("cti_number_label", "代表"), ("cti_group", "support")]


def test_group_only_when_via_group():
    names = [name for name, _ in client_parameters(info())]
    assert "cti_group" not in names and len(names) == 7


def test_every_value_and_name_within_twilio_limits():
    long = "長い名前" * 40
    pairs = client_parameters(info(caller_name=long, caller_company=long, number_label=long,
                                   group=long, matches=[Match("salesforce", "x" * 200)]))
    assert len(pairs) <= MAX_PARAMETERS
    for name, value in pairs:
        assert len(name.encode()) <= NAME_MAX_BYTES
        assert len(value.encode()) <= VALUE_MAX_BYTES, name


def test_fit_bytes_cuts_at_character_boundary_with_ellipsis():
    text = "あ" * 50  # 150 bytes
    cut = fit_bytes(text)
    assert cut.endswith("…") and len(cut.encode()) <= 128
    assert cut == "あ" * 41 + "…"  # 123 + 3 bytes
    assert fit_bytes("short") == "short"


def test_matches_prefer_more_records_over_urls():
    matches = [Match("b", "1", "c", "山田", "https://c.jp/1"),
               Match("b", "2", "c", "田中", "https://c.jp/2"),
               Match("b", "3", "c", "三人目")]
    encoded = encode_matches(matches)
    decoded = json.loads(encoded)
    assert [m["id"] for m in decoded] == ["1", "2"]  # the third does not fit
    assert decoded[0]["url"] == "https://c.jp/1"  # the best match keeps its link
    assert "url" not in decoded[1]  # no room for the second link
    assert len(encoded.encode()) <= 128


def test_matches_at_most_five_and_empty_list():
    tiny = [Match("a", str(i)) for i in range(8)]
    assert len(json.loads(encode_matches(tiny, limit=10_000))) == 5
    assert encode_matches([]) == "[]"
    assert encode_matches([Match("a", "x" * 300)]) == "[]"
