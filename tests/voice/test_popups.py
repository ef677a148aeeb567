"""Per-number pop-up URLs: ``@@@@`` → the caller's number, URL-encoded (HT-2)."""

import pytest

from voice.popups import MAX_URL_LENGTH, caller_value, popup_problem, render_popup


@pytest.mark.parametrize(("caller", "url"), [
    ("+81312345678", "https://crm.example.jp/?num=0312345678"),
    ("+819012345678", "https://crm.example.jp/?num=09012345678"),
    ("+12125550100", "https://crm.example.jp/?num=%2B12125550100"),
    ("", "https://crm.example.jp/?num="),  # withheld
])
def test_marker_becomes_the_callers_number(caller, url):
    assert render_popup("https://crm.example.jp/?num=@@@@", caller) == url


def test_every_marker_is_replaced_and_nothing_else_changes():
    template = "https://crm.example.jp/c/@@@@/view?tel=@@@@&ref=a%20b"
    assert render_popup(template, "+81312345678") == (
        "https://crm.example.jp/c/0312345678/view?tel=0312345678&ref=a%20b")


def test_caller_value_keeps_odd_numbers_as_they_are():
    assert caller_value("+81") == "+81"  # not a valid number: not turned into digits


@pytest.mark.parametrize(("url", "says"), [
    ("crm.example.jp/?num=@@@@", "http"),
    ("javascript:alert(1)", "http"),
    ("https://crm.example.jp/?q=a b", "spaces"),
    ("https://@@@@.example.jp/", "host"),
    ("https://crm.example.jp/?q=" + "x" * MAX_URL_LENGTH, "at most"),
])
def test_unusable_urls_are_refused_with_a_reason(url, says):
    assert says in popup_problem(url)


def test_usable_urls_and_empty():
    assert popup_problem("") == ""
    assert popup_problem("http://xxxxxx/?num=@@@@") == ""
    assert popup_problem("https://crm.example.jp/search?tel=@@@@&from=cti") == ""
