"""SPEC CF-9: block and restriction lists — rules, matching and CSV upload."""

import dataclasses

import pytest

from voice.number_lists import (
    ImportResult,
    NumberList,
    NumberRule,
    RowError,
    RuleKind,
    is_anonymous,
    parse_number_list_csv,
)
from voice.numbering import NumberError, parse_destination


@pytest.mark.parametrize(
    ("pattern", "canonical", "kind"),
    [
        ("03-1234-5678", "+81312345678", RuleKind.EXACT),
        ("０３－１２３４－５６７８", "+81312345678", RuleKind.EXACT),
        ("+1 212 555 1234", "+12125551234", RuleKind.EXACT),
        ("0120*", "+81120*", RuleKind.PREFIX),
        ("0120-*", "+81120*", RuleKind.PREFIX),
        ("０１２０＊", "+81120*", RuleKind.PREFIX),
        ("090-1234*", "+81901234*", RuleKind.PREFIX),
        ("+1*", "+1*", RuleKind.PREFIX),
        ("010-1*", "+1*", RuleKind.PREFIX),
        ("+81 (0)3*", "+813*", RuleKind.PREFIX),
        ("+8103*", "+813*", RuleKind.PREFIX),
        ("0*", "+81*", RuleKind.PREFIX),
        ("177", "177", RuleKind.SHORT_CODE),
        ("＃９９９９", "#9999", RuleKind.SHORT_CODE),
        ("anonymous", "anonymous", RuleKind.ANONYMOUS),
        (" Anonymous ", "anonymous", RuleKind.ANONYMOUS),
        ("非通知", "anonymous", RuleKind.ANONYMOUS),
    ],
)
def test_rule_patterns_are_normalised(pattern, canonical, kind):
    rule = NumberRule(pattern, " note ")
    assert (rule.pattern, rule.kind, rule.note) == (canonical, kind, "note")


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        ("", "empty"),
        ("*", "invalid_prefix"),
        ("81*", "invalid_prefix"),
        ("1*", "invalid_prefix"),
        ("010*", "invalid_prefix"),
        ("03*12*", "invalid_prefix"),
        ("0a*", "invalid_characters"),
        ("+1234567890123456*", "too_long"),
        ("0312", "too_short"),
        ("abc", "invalid_characters"),
        ("+811045000", "too_short"),
    ],
)
def test_bad_patterns_are_refused(pattern, code):
    with pytest.raises(NumberError) as caught:
        NumberRule(pattern)
    assert caught.value.code == code


def test_rules_with_equal_patterns_are_equal_and_frozen():
    assert NumberRule("03-1234-5678", "x") == NumberRule("+81312345678", "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        NumberRule("0120*").pattern = "+1*"  # type: ignore[misc]


LIST = NumberList(
    [
        NumberRule("03-1234-5678", "exact"),
        NumberRule("03*", "tokyo"),
        NumberRule("0312*", "tokyo-12"),
        NumberRule("0120*", "free"),
        NumberRule("anonymous", "hidden"),
        NumberRule("177", "weather"),
        NumberRule("#9999", "hash"),
        NumberRule("+8110*", "spoofed"),
    ]
)


@pytest.mark.parametrize(
    ("number", "note"),
    [
        ("+81312345678", "exact"),
        ("03-1234-5678", "exact"),
        ("+81312349999", "tokyo-12"),
        ("+81398765432", "tokyo"),
        ("0120-123-456", "free"),
        ("+819012345678", None),
        ("anonymous", "hidden"),
        ("Anonymous", "hidden"),
        ("RESTRICTED", "hidden"),
        ("+266696687", "hidden"),
        ("+7378742833", "hidden"),
        ("", "hidden"),
        (None, "hidden"),
        ("177", "weather"),
        ("１７７", "weather"),
        ("117", None),
        ("#9999", "hash"),
        ("+811045000", "spoofed"),  # invalid but E.164-shaped caller IDs still match prefixes
        ("client:alice", None),
        ("garbage", None),
    ],
)
def test_match_finds_the_most_specific_rule(number, note):
    rule = LIST.match(number)
    assert (rule.note if rule else None) == note


def test_match_works_on_destinations_and_without_an_anonymous_rule():
    assert LIST.match(parse_destination("0120-444-444").dial_string).note == "free"
    plain = NumberList([NumberRule("0120*")])
    assert plain.match("anonymous") is None
    assert len(plain) == 1 and list(plain) == [NumberRule("0120*")]


def test_first_of_duplicate_rules_wins():
    rules = NumberList([NumberRule("0120*", "first"), NumberRule("０１２０＊", "second")])
    assert rules.match("0120-123-456").note == "first"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("anonymous", True),
        ("Anonymous", True),
        ("UNAVAILABLE", True),
        ("+2562533", True),
        ("+8656696", True),
        ("+86282452253", True),
        ("", True),
        (None, True),
        ("+81312345678", False),
        ("client:alice", False),
    ],
)
def test_is_anonymous(value, expected):
    assert is_anonymous(value) is expected


# --- CSV ----------------------------------------------------------------------------------------


def notes(result: ImportResult) -> list[tuple[str, str]]:
    return [(rule.pattern, rule.note) for rule in result.rules]


def test_csv_without_header():
    result = parse_number_list_csv("0312345678,いたずら電話\n090-1234-5678\n".encode())
    assert notes(result) == [("+81312345678", "いたずら電話"), ("+819012345678", "")]
    assert result.errors == ()


def test_csv_utf8_with_bom_and_english_header():
    data = "\ufeffnumber,note\r\n0120*,営業電話\r\n".encode()
    assert notes(parse_number_list_csv(data)) == [("+81120*", "営業電話")]


def test_csv_cp932_from_japanese_excel():
    data = "電話番号,備考\r\n03-1234-5678,クレーム\r\n非通知,非通知拒否\r\n".encode("cp932")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = parse_number_list_csv(data)
    assert notes(result) == [("+81312345678", "クレーム"), ("anonymous", "非通知拒否")]
    assert result.errors == ()


@pytest.mark.parametrize(
    "header",
    [
        "備考,電話番号",
        "メモ,着信拒否電話番号",
        "Note,Phone Number",
        "理由,発信規制電話番号,発信者番号",
    ],
)
def test_csv_header_names_the_columns(header):
    data = f"{header}\n通販,0120-123-456\n".encode()
    assert notes(parse_number_list_csv(data)) == [("+81120123456", "通販")]


def test_csv_bad_rows_are_reported_by_row_number_and_good_rows_kept():
    data = "電話番号,備考\n03-1234-5678,a\nabc,b\n0312,c\n\n9012345678,d\n090-1234-5678,e\n"
    result = parse_number_list_csv(data.encode())
    assert notes(result) == [("+81312345678", "a"), ("+819012345678", "e")]
    assert [(e.row, e.code, e.value) for e in result.errors] == [
        (3, "invalid_characters", "abc"),
        (4, "too_short", "0312"),
        (6, "missing_leading_zero", "9012345678"),
    ]
    assert (
        result.errors[1].message_ja
        == "4行目: 電話番号の桁数が足りません。市外局番から入力してください。"
    )
    assert (
        result.errors[1].message_en
        == "Row 4: The phone number is too short; include the area code."
    )


def test_csv_duplicates_are_reported_not_dropped_silently():
    data = "03-1234-5678,first\n+81312345678,second\n0120*,x\n０１２０＊,y\n".encode()
    result = parse_number_list_csv(data)
    assert notes(result) == [("+81312345678", "first"), ("+81120*", "x")]
    assert result.errors == (
        RowError(2, "duplicate", "2行目: 1行目と同じ番号です。", "Row 2: same number as row 1.",
                 "+81312345678"),
        RowError(4, "duplicate", "4行目: 3行目と同じ番号です。", "Row 4: same number as row 3.",
                 "０１２０＊"),
    )  # fmt: skip


def test_csv_blank_lines_are_ignored_but_counted():
    data = b"\n0312345678\n\n   ,  \nabc\n"
    result = parse_number_list_csv(data)
    assert notes(result) == [("+81312345678", "")]
    assert [(e.row, e.code) for e in result.errors] == [(5, "invalid_characters")]


def test_csv_quoted_note_with_comma_and_number_cell_missing():
    data = '"03-1234-5678","しつこい営業, 毎朝"\n,メモだけ\n'.encode()
    result = parse_number_list_csv(data)
    assert notes(result) == [("+81312345678", "しつこい営業, 毎朝")]
    assert [(e.row, e.code) for e in result.errors] == [(2, "empty")]


def test_csv_a_note_saying_memo_does_not_make_a_header():
    result = parse_number_list_csv("0312345678,メモ\n".encode())
    assert notes(result) == [("+81312345678", "メモ")]


def test_csv_utf16_tab_separated_from_excel_unicode_text():
    data = "電話番号\t備考\r\n0570-064-000\tナビダイヤル\r\n".encode("utf-16")
    assert notes(parse_number_list_csv(data)) == [("+81570064000", "ナビダイヤル")]


def test_csv_header_without_number_column():
    result = parse_number_list_csv(b"memo,comment\nx,y\n")
    assert result.rules == ()
    assert [(e.row, e.code) for e in result.errors] == [(1, "missing_number_column")]


def test_csv_with_unknown_encoding():
    result = parse_number_list_csv(b"03-1234-5678,\x85\x40\n")
    assert result.rules == ()
    assert [(e.row, e.code) for e in result.errors] == [(0, "encoding")]
    assert "UTF-8" in result.errors[0].message_ja


def test_csv_empty_file():
    assert parse_number_list_csv(b"") == ImportResult((), ())


def test_csv_broken_from_one_row_on_keeps_the_rows_before():
    data = b'0312345678,ok\n09012345678,"' + b"x" * 200_000 + b"\n0120*,later\n"
    result = parse_number_list_csv(data)
    assert notes(result) == [("+81312345678", "ok")]
    assert [(e.row, e.code) for e in result.errors] == [(2, "csv_syntax")]
    assert result.errors[0].message_ja.startswith("2行目: CSVの形式が正しくない")
