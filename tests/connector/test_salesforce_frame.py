"""Which org may serve the softphone's Open CTI script: Salesforce domains the admin allowed."""

import pytest

from connector.config import DEFAULT_FRAME_ANCESTORS
from connector.salesforce_frame import normalise, org_origin, origin_allowed

ACME = ["https://acme.lightning.force.com", "https://acme.my.salesforce.com"]


@pytest.mark.parametrize(("candidate", "expected"), [
    ("https://acme.lightning.force.com", "https://acme.lightning.force.com"),
    ("https://ACME.lightning.force.com/lightning/page/home", "https://acme.lightning.force.com"),
    ("https://acme.my.salesforce.com:443", "https://acme.my.salesforce.com"),
    ("https://acme.my.salesforce.com:8443", None),  # a port the pattern does not name
    ("https://other.lightning.force.com", None),  # another org
    ("http://acme.lightning.force.com", None),  # not https
    ("https://acme.lightning.force.com.evil.example", None),
    ("https://user@acme.lightning.force.com", None),
    ("javascript:alert(1)", None),
    ("", None),
    (None, None),
])
def test_only_the_admins_org_is_accepted(candidate, expected):
    assert org_origin([candidate], ACME) == expected


def test_a_framer_allowed_but_not_salesforce_is_refused():
    ancestors = [*ACME, "https://acme.cybozu.com"]
    assert org_origin(["https://acme.cybozu.com"], ancestors) is None


def test_default_wildcards_accept_any_lightning_org_but_not_kintone():
    ancestors = list(DEFAULT_FRAME_ANCESTORS)
    assert org_origin(["https://x.lightning.force.com"], ancestors) == (
        "https://x.lightning.force.com")
    assert org_origin(["https://x--c.vf.force.com"], ancestors) == "https://x--c.vf.force.com"
    assert org_origin(["https://x.cybozu.com"], ancestors) is None
    assert org_origin(["https://lightning.force.com"], ancestors) is None  # *. needs a label


def test_first_acceptable_candidate_wins():
    assert org_origin([None, "https://evil.example", "https://acme.my.salesforce.com"],
                      ACME) == "https://acme.my.salesforce.com"


def test_loopback_origins_count_only_when_listed_exactly():
    assert org_origin(["http://localhost:8123"], ["http://localhost:8123"]) == (
        "http://localhost:8123")
    assert org_origin(["http://localhost:8124"], ["http://localhost:8123"]) is None
    assert org_origin(["http://evil.example:8123"], ["http://evil.example:8123"]) is None


def test_origin_matching_follows_csp():
    assert origin_allowed("https://a.b.example.com", ["https://*.example.com"])
    assert not origin_allowed("https://example.com", ["https://*.example.com"])
    assert not origin_allowed("http://a.example.com", ["https://*.example.com"])
    assert origin_allowed("https://a.example.com:8443", ["https://*.example.com:8443"])
    assert not origin_allowed("https://a.example.com:8443", ["https://*.example.com"])
    assert not origin_allowed("https://a.example.com", ["'self'", "*"])


def test_normalise():
    assert normalise("https://Acme.Lightning.force.com/x?y#z") == (
        "https://acme.lightning.force.com")
    assert normalise("https://acme.example:99999") is None
    assert normalise("ftp://acme.example") is None
