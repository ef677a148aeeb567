"""CSV that Japanese Excel opens: UTF-8 with BOM, CP932 on request, no live formulas."""

from __future__ import annotations

import csv
import io

import pytest

from connector.console import csvout

DANGEROUS = ["=1+1", "+81 3 1234", "-2+3", "@SUM(A1)", "\t=cmd", "=HYPERLINK(\"x\")"]


@pytest.mark.parametrize("encoding, codec", [("utf-8", "utf-8-sig"), ("cp932", "cp932")])
def test_files_open_in_python_csv_with_kanji_and_no_live_formula(encoding, codec):
    body = csvout.encode_csv(["名前", "メモ"], [["山田 太郎", v] for v in DANGEROUS] + [
        ["数値", -3], ["髙橋", "①"]], encoding)
    if encoding == "utf-8":
        assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode(codec), newline="")))
    assert rows[0] == ["名前", "メモ"]
    assert rows[1][0] == "山田 太郎"
    for row in rows[1:]:
        assert not row[1].startswith(("=", "+", "@", "\t")) and not row[1].startswith("-2")
    assert rows[len(DANGEROUS) + 1][1] == "-3"  # a number we computed stays a number
    assert rows[-1] == ["髙橋", "①"]  # CP932 (not plain Shift_JIS) has both


def test_unknown_encodings_are_refused_with_the_field_name():
    with pytest.raises(ValueError, match="encoding"):
        csvout.encode_csv(["a"], [], "latin-1")
