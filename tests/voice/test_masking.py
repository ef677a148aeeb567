"""Phone numbers are masked in logs; identifiers, timestamps and ports are not."""

import pytest

from voice.numbering import mask, mask_text


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("+81312345678", "+813******78"),
        ("+819012345678", "+819*******78"),
        ("03-1234-5678", "03-1***-**78"),
        ("090-1234-5678", "090-****-**78"),
        ("0312345678", "031*****78"),
        ("０９０１２３４５６７８", "０９０******７８"),
        ("1234-5678", "****-**78"),  # no area code: only the last 2 digits stay
        ("12345", "*****"),
        ("177", "177"),  # public service codes stay readable
        ("#9999", "#9999"),
        ("anonymous", "anonymous"),
        ("", ""),
    ],
)
def test_mask(number, expected):
    assert mask(number) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("incoming call from +81312345678", "incoming call from +813******78"),
        (
            '{"From": "+819012345678", "To": "+815012345678"}',
            '{"From": "+819*******78", "To": "+815*******78"}',
        ),
        ("dial 03-1234-5678 now", "dial 03-1***-**78 now"),
        ("dial 090 1234 5678", "dial 090 **** **78"),
        ("tel:+81-3-1234-5678", "tel:+81-3-****-**78"),
        ("+81 (0)3-1234-5678", "+81 (0)*-****-**78"),
        ("電話03(1234)5678まで", "電話03(1***)**78まで"),
        ("（０３）１２３４－５６７８", "（０３）１***－**７８"),
        ("０９０－１２３４－５６７８に折り返し", "０９０－****－**７８に折り返し"),
        ("forms 0312345678,81312345678", "forms 031*****78,813******78"),
        ("0120-123-456 and 0570-064-000", "012*-***-*56 and 057*-***-*00"),
        ("GET /cb?From=%2B81312345678&x=1", "GET /cb?From=%2B813******78&x=1"),
        # The notations of issue 17, as the CRM search page and others send them.
        ("GET /crm?q=090+1234+5678 HTTP/1.1", "GET /crm?q=090+****+**78 HTTP/1.1"),
        ("q=090%201234%205678&x", "q=090%20****%20**78&x"),
        ("q=03%2D1234%2D5678", "q=03%2D1***%2D**78"),
        ("q=%2B81%2090%201234%205678", "q=%2B81%209*%20****%20**78"),
        ("call 81-90-1234-5678 back", "call 81-9*-****-**78 back"),
        ("call 81 3 1234 5678", "call 81 3 **** **78"),
        ("dotted 090.1234.5678 and 03.1234.5678", "dotted 090.****.**78 and 03.1***.**78"),
        ("中黒 090・1234・5678", "中黒 090・****・**78"),
        ("半角 03･1234･5678", "半角 03･1***･**78"),
        ("q=090%E3%83%BB1234%E3%83%BB5678", "q=090%E3%83%BB****%E3%83%BB**78"),
        ("+81+90+1234+5678", "+81+9*+****+**78"),
    ],
)
def test_mask_text_masks_numbers(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "CallSid=CA0123456789abcdef0123456789abcdef",
        "CallSid=CA03123456780312345678031234567803",
        "AccountSid ACffffffff0312345678ffffffffffffff",
        "at 2026-11-21T06:59:06.123456+09:00",
        "at 2026-11-21 06:59:06,123",
        "connecting to 127.0.0.1:5432 and [::1]:6379",
        "request 01234567-0123-4567-8901-012345678901",
        "epoch 1732150000 ms 1732150000123",
        "ratio 0.0312345678",
        "digest 0312345678abcdef0312345678abcdef",
        "took 0.45 s; 12 calls; 3 queued",
        "a 15-digit id 031234567890123",
        "order A09012345678, build-09012345678, version 1.09012345678, x_0312345678",
        "短縮 177 と #9999",
        "version 10.12.1234 and 1.2.3.4 and 010.123.123.123",
        "q=%E3%81%82%E3%81%84",  # percent-encoded text
        "sum 1+2+3+4 and 2026%20",
        "no digits here",
    ],
)
def test_mask_text_leaves_non_numbers_alone(text):
    assert mask_text(text) == text
