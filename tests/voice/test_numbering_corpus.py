"""A corpus of dialled notations against the CF-12 table of docs/numbering.md (issue 17).

Every number of the corpus is written in every notation agents and CRMs use, and dialled from
every kind of caller ID. The expected verdict does not come from the code under test: it is
the docs table, restated here by national prefix (:func:`expected`), and the expected E.164
form is built from the national digits. A *false block* is a notation of a dialable number
that is refused (or dialled as another number); a *false allow* is a notation of a refused
number that would be placed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import phonenumbers
import pytest

from voice.dialing_rules import check_outbound
from voice.numbering import NumberError, parse_outbound

#: Caller IDs of every kind a tenant may own: 050, the two free-dial blocks, fixed, mobile.
CALLERS = ("050-1234-5678", "0120-123-456", "0800-123-4567", "03-5555-0000", "090-5555-0000")

#: (national prefix, digits after it, how many numbers to draw), for every kind of number.
BLOCKS = [
    ("03", 8, 16), ("06", 8, 12), ("011", 7, 12), ("045", 7, 12), ("0422", 6, 12),
    ("04992", 5, 8), ("090", 8, 16), ("080", 8, 12), ("070", 8, 12), ("050", 8, 12),
    ("020", 8, 8), ("060", 7, 8), ("0120", 6, 16), ("0800", 7, 16), ("0570", 6, 12),
    *[(f"0{b}", 6, 6) for b in ("130", "140", "150", "160", "170", "180", "190", "910", "990")],
    ("00376", 5, 12), ("00376", 6, 12), ("0066", 8, 12), ("0066", 6, 8), ("0088", 6, 8),
    ("0078", 8, 6), ("0037", 8, 6),
]  # fmt: skip

#: Refused whatever the caller ID (docs/numbering.md, "Outbound calls that are refused").
REFUSED_PREFIXES = ("0570", "0130", "0140", "0150", "0160", "0170", "0180", "0190", "0910",
                    "0990", "00")
FREE_DIAL_PREFIXES = ("0120", "0800")

#: 0AB0 blocks: phonenumbers knows few of them, so their numbers are drawn without it.
SPECIAL_0AB0 = {f"0{b}" for b in ("130", "140", "150", "160", "170", "180", "190", "910", "990")}

WIDE = str.maketrans("0123456789-+() ", "０１２３４５６７８９－＋（）\u3000")


def expected(national: str, caller: str) -> bool:
    """Whether the docs table lets ``caller`` dial ``national`` (digits with the trunk 0)."""
    if national.startswith(REFUSED_PREFIXES):
        return False
    return not (national.startswith(FREE_DIAL_PREFIXES) and caller.startswith("050"))


def corpus_numbers() -> Iterator[tuple[str, list[str]]]:
    """(national digits, their groups as written in Japan) for every number of the corpus."""
    rng = random.Random(17)  # the same corpus on every run
    for prefix, length, count in BLOCKS:
        found = 0
        for _ in range(count * 200):
            national = prefix + "".join(rng.choice("0123456789") for _ in range(length))
            groups = _groups(national, prefix)
            if groups is None:
                continue
            yield national, groups
            found += 1
            if found == count:
                break
        assert found == count, f"could not draw {count} numbers of {prefix}"


def _groups(national: str, prefix: str) -> list[str] | None:
    if prefix in SPECIAL_0AB0:
        return [national[:4], national[4:7], national[7:]]
    parsed = phonenumbers.parse(national, "JP")
    if not phonenumbers.is_valid_number(parsed):
        return None
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return formatted.split("-")


def notations(national: str, groups: list[str]) -> list[str]:
    """One number as typed on the dial pad, pasted from a CRM or kept in a spreadsheet."""
    head, *rest = groups
    intl = [head[1:], *rest] if not national.startswith("00") else groups
    forms = [
        national, "-".join(groups), " ".join(groups), f"{head}({rest[0]}){''.join(rest[1:])}",
        f"({head}){'-'.join(rest)}", ".".join(groups), "・".join(groups), "･".join(groups),
        "ー".join(groups), "-".join(groups).translate(WIDE), "・".join(groups).translate(WIDE),
        "+81" + "".join(intl), "+81 " + "-".join(intl), f"+81 (0){'-'.join(intl)}",
        "81" + "".join(intl), "0081" + "".join(intl), "0081-" + "-".join(intl),
        "0081 " + " ".join(intl), "0081・" + "・".join(intl), "tel:+81-" + "-".join(intl),
        ("+81 " + "-".join(intl)).translate(WIDE), "186-" + "-".join(groups),
    ]
    if national.startswith("00"):  # no trunk 0 to drop: the +81 forms keep all digits
        forms = forms[:11] + [f for f in forms[11:] if "(0)" not in f]
    return forms


def run_corpus() -> tuple[int, list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    checks, false_allows, false_blocks = 0, [], []
    for national, groups in corpus_numbers():
        e164 = "+81" + national[1:]
        for text in notations(national, groups):
            try:
                destination = parse_outbound(text)
            except NumberError as error:
                destination, refusal = None, error.code
            for caller in CALLERS:
                checks += 1
                allowed = False
                if destination is not None:
                    verdict = check_outbound(caller, destination)
                    allowed, refusal = verdict.allowed, verdict.code
                if not expected(national, caller):
                    if allowed:
                        false_allows.append((text, caller, f"placed as {destination.e164}"))
                elif not allowed:
                    false_blocks.append((text, caller, refusal))
                elif destination.e164 != e164:  # placed, but to another number
                    false_blocks.append((text, caller, f"placed as {destination.e164}"))
    return checks, false_allows, false_blocks


@pytest.fixture(scope="module")
def corpus() -> tuple[int, list, list]:
    return run_corpus()


def test_the_corpus_is_large_and_covers_every_block(corpus):
    checks, _, _ = corpus
    drawn = [national for national, _ in corpus_numbers()]
    assert len(drawn) == len(set(drawn)) == sum(count for _, _, count in BLOCKS)
    assert checks >= 28_000, checks
    refused = sum(not expected(n, c) for n in drawn for c in CALLERS)
    assert 0 < refused < len(drawn) * len(CALLERS)  # both kinds of verdict are checked


def test_no_notation_of_a_refused_number_is_placed(corpus):
    _, false_allows, _ = corpus
    assert false_allows == [], f"{len(false_allows)} false allows, e.g. {false_allows[:5]}"


def test_no_notation_of_a_dialable_number_is_refused(corpus):
    _, _, false_blocks = corpus
    assert false_blocks == [], f"{len(false_blocks)} false blocks, e.g. {false_blocks[:5]}"


def test_the_expected_table_itself_refuses_and_allows():
    """The oracle is not vacuous: it refuses the refused blocks and allows the rest."""
    assert not expected("0037612345", "0120-123-456")
    assert not expected("00663312345678", "0800-123-4567")
    assert not expected("0570064000", "03-5555-0000")
    assert not expected("0120123456", "050-1234-5678")
    assert expected("0120123456", "0800-123-4567")
    assert expected("0312345678", "050-1234-5678")
