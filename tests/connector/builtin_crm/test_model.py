"""The rules every way into the built-in CRM shares (API, forms, CSV import, demo data)."""

from __future__ import annotations

import pytest

from connector.builtin_crm.model import MAX_PHONES, Invalid, kana, parse_customer, split_tags


@pytest.mark.parametrize(("typed", "stored"), [
    ("やまだ たろう", "ヤマダ タロウ"),
    ("ﾔﾏﾀﾞ  ﾀﾛｳ", "ヤマダ タロウ"),
    ("ヤマダ\u3000タロウ", "ヤマダ タロウ"),
    ("ゔぁ", "ヴァ"),
])
def test_readings_are_stored_in_katakana(typed, stored):
    assert kana(typed) == stored
    assert parse_customer({"name": "x", "name_kana": typed}).name_kana == stored


def test_tags_split_on_commas_and_readings_commas_and_dedupe():
    assert split_tags("VIP, 法人、VIP；定期購入") == ["VIP", "法人", "VIP", "定期購入"]
    assert parse_customer({"name": "x", "tags": "VIP, 法人、VIP"}).tags == ("VIP", "法人")


def test_same_number_twice_is_kept_once_remembering_where_each_was_typed():
    customer = parse_customer({"name": "x", "phones": ["03-1234-5678", "0312345678",
                                                      {"number": "090-1111-2222",
                                                       "label": "携帯"}]})
    assert [(p.e164, p.source, p.label) for p in customer.phones] == [
        ("+81312345678", 0, ""), ("+819011112222", 2, "携帯")]


def test_partial_input_names_only_what_was_given():
    changed = parse_customer({"notes": "  メモ  "}, partial=True)
    assert changed.present == {"notes"} and changed.values() == {"notes": "メモ"}
    full = parse_customer({"name": " 山田   太郎 "})
    assert full.name == "山田 太郎" and full.present >= {"name", "phones", "tags"}


@pytest.mark.parametrize(("data", "path", "code"), [
    ({"name": "x" * 201}, "name", "too_long"),
    ({"name": 7}, "name", "not_text"),
    ({"name": "x", "phones": "03-1234-5678"}, "phones", "not_a_list"),
    ({"name": "x", "phones": ["03-1234-5678"] * (MAX_PHONES + 1)}, "phones", "too_many"),
    ({"name": "x", "phones": [{"number": "03-1234-5678", "label": "l" * 51}]},
     "phones[0].label", "too_long"),
    ({"name": "x", "phones": [{"number": "03-1234-5678", "ext": "12"}]}, "phones[0].ext",
     "unknown_field"),
    ({"name": "x", "phones": [7]}, "phones[0]", "not_an_object"),
    ({"name": "x", "phones": ["117"]}, "phones[0].number", "short_code"),
    ({"name": "x", "tags": [f"t{i}" for i in range(31)]}, "tags", "too_many"),
    ({"name": "x", "tags": [1]}, "tags", "not_a_list"),
])
def test_problems_name_the_field(data, path, code):
    with pytest.raises(Invalid) as excinfo:
        parse_customer(data)
    assert excinfo.value.codes == {path: code}
    assert excinfo.value.problems[path]
