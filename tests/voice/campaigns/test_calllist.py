"""Call lists from CSV: encodings, delimiters, headers, mapping, every bad row reported."""

from __future__ import annotations

import pytest

from voice.campaigns.calllist import ListError, parse_call_list


def restricted_0120(destination):
    if destination.e164.startswith("+81120"):
        return ("restricted", "発信規制リストにある番号です。", "on the restriction list")
    return None


HEADER_CSV = ("氏名,電話番号,会社名\n"
              "山田太郎,090-1234-5678,山田商事\n"
              "佐藤花子,０３－１２３４－５６７８,\n"
              "重複,+819012345678,\n"
              "フリー,0120-123-456,\n"
              "壊れ,12345,\n"
              ",,\n"
              "鈴木,06-1234-5678,鈴木工業\n")


def test_cp932_file_with_header_reports_each_bad_row_by_line():
    parsed = parse_call_list(HEADER_CSV.encode("cp932"), check=restricted_0120)
    assert parsed.encoding == "cp932" and parsed.delimiter == "comma"
    assert parsed.header == ("氏名", "電話番号", "会社名")
    assert [(r.line, r.e164, r.name, r.company) for r in parsed.rows] == [
        (2, "+819012345678", "山田太郎", "山田商事"), (3, "+81312345678", "佐藤花子", ""),
        (8, "+81612345678", "鈴木", "鈴木工業")]
    assert [(r.line, r.code) for r in parsed.rejected] == [
        (4, "duplicate"), (5, "restricted"), (6, "too_short")]
    assert parsed.rejected[0].message_en == "same number as line 2"


def test_utf8_bom_tab_separated_without_header():
    data = "\ufeff090-1111-2222\t田中\n03-5555-6666\t中村\n".encode()
    parsed = parse_call_list(data)
    assert parsed.encoding == "utf-8-bom" and parsed.delimiter == "tab"
    assert parsed.header is None
    assert [(r.line, r.e164, r.name) for r in parsed.rows] == [
        (1, "+819011112222", "田中"), (2, "+81355556666", "中村")]


def test_mapping_by_header_and_by_column_with_extra_fields():
    data = "お客様,TEL,担当メモ\nA社,090-1111-2222,午前中\n".encode()
    parsed = parse_call_list(data, mapping={"name": "お客様", "phone": "TEL",
                                            "memo": "担当メモ"})
    assert parsed.rows[0].name == "A社" and parsed.rows[0].extra == {"memo": "午前中"}
    by_column = parse_call_list(b"x,09011112222\n", mapping={"phone": 2, "name": 1})
    assert by_column.rows[0].e164 == "+819011112222" and by_column.rows[0].name == "x"


def test_numbers_already_in_the_campaign_are_duplicates():
    parsed = parse_call_list(b"09011112222\n09033334444\n", existing={"+819011112222"})
    assert [r.e164 for r in parsed.rows] == ["+819033334444"]
    assert parsed.rejected[0].code == "duplicate" and parsed.rejected[0].line == 1


@pytest.mark.parametrize(("data", "mapping", "code", "field"), [
    (b"\xff\xfe\x00", None, "undecodable", "file"),
    (b"\n\n", None, "empty_file", "file"),
    ("名前,住所\nA,B\n".encode(), None, "no_phone_column", "mapping.phone"),
    (b"a,b\n", {"phone": "TEL"}, "unknown_column", "mapping.phone"),
    (b"a,b\n", {"name": 1}, "required", "mapping.phone"),
    (b'"090,1\n', None, "csv_syntax", "file"),
])
def test_whole_file_problems_name_what_to_fix(data, mapping, code, field):
    with pytest.raises(ListError) as caught:
        parse_call_list(data, mapping=mapping)
    assert (caught.value.code, caught.value.field) == (code, field)


def test_short_codes_and_numbers_cannot_be_campaign_contacts():
    parsed = parse_call_list("電話番号\n117\n#9999\n".encode())
    assert [r.code for r in parsed.rejected] == ["short_code", "short_code"]
