"""Short URLs in SMS: what counts as an address, what is left alone, one code per address."""

from __future__ import annotations

import itertools

from voice import sms_links

BASE = "https://cti.example.jp"


def codes():
    counter = itertools.count(1)
    return lambda: f"code{next(counter):04d}"


def test_a_long_address_in_japanese_text_is_replaced_and_the_sentence_kept():
    text = "詳細はhttps://example.co.jp/campaign/2026/winter?utm_source=sms&id=123をご覧ください。"
    short, links = sms_links.shorten(text, BASE, codes())
    assert short == "詳細はhttps://cti.example.jp/s/code0001をご覧ください。"
    assert links == (sms_links.Link("code0001",
                                    "https://example.co.jp/campaign/2026/winter?utm_source=sms&id=123"),)


def test_japanese_punctuation_and_trailing_ascii_end_an_address():
    text = ("予約（https://example.co.jp/reserve/form/abcdefghijk）、"
            "地図: https://example.co.jp/map/tokyo/shinjuku/office. 以上")
    short, links = sms_links.shorten(text, BASE, codes())
    assert short == ("予約（https://cti.example.jp/s/code0001）、"
                     "地図: https://cti.example.jp/s/code0002. 以上")
    assert [link.url for link in links] == ["https://example.co.jp/reserve/form/abcdefghijk",
                                            "https://example.co.jp/map/tokyo/shinjuku/office"]


def test_short_addresses_stay_and_a_repeated_address_gets_one_code():
    long = "https://example.co.jp/very/long/path/to/a/page"
    text = f"https://ex.jp/a と {long} と {long}"
    short, links = sms_links.shorten(text, BASE + "/", codes())
    assert short == ("https://ex.jp/a と https://cti.example.jp/s/code0001 と "
                     "https://cti.example.jp/s/code0001")
    assert len(links) == 1


def test_text_without_addresses_is_unchanged():
    assert sms_links.shorten("お電話ありがとうございました。", BASE) == (
        "お電話ありがとうございました。", ())


def test_codes_are_random_and_recognisable():
    made = {sms_links.new_code() for _ in range(200)}
    assert len(made) == 200 and all(sms_links.is_code(c) for c in made)
    assert not sms_links.is_code("abc") and not sms_links.is_code("0" * 8)
