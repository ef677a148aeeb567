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


# -- the softphone page -------------------------------------------------------------------------

def csp_of(response) -> dict[str, list[str]]:
    response.close()
    return {d.strip().split(" ")[0]: d.strip().split(" ")[1:]
            for d in response.headers["Content-Security-Policy"].split(";")}


@pytest.fixture
def acme_app(make_app):
    return make_app(server={"frame_ancestors": ACME + ["https://acme.cybozu.com"]})


@pytest.mark.parametrize(("query", "headers"), [
    ("&sfdcIFrameOrigin=https://acme.lightning.force.com", {}),
    ("", {"Referer": "https://acme.lightning.force.com/lightning/page/home"}),
    ("&sfdcIFrameOrigin=https://evil.example", {"Referer": "https://acme.lightning.force.com/"}),
])
def test_the_framing_org_may_serve_its_open_cti_script(acme_app, query, headers):
    response = acme_app.test_client().get("/softphone/?crm=salesforce" + query, headers=headers)

    csp = csp_of(response)
    assert csp["script-src"] == ["'self'", "https://acme.lightning.force.com"]
    assert "https://acme.lightning.force.com" in csp["connect-src"]


@pytest.mark.parametrize(("path", "headers"), [
    ("/softphone/?crm=salesforce&sfdcIFrameOrigin=https://other.lightning.force.com", {}),
    ("/softphone/?crm=salesforce", {"Referer": "https://acme.cybozu.com/k/1/"}),
    ("/softphone/?crm=kintone&sfdcIFrameOrigin=https://acme.lightning.force.com", {}),
    ("/softphone/?crm=salesforce", {}),
])
def test_no_other_page_or_origin_gets_a_foreign_script(acme_app, path, headers):
    csp = csp_of(acme_app.test_client().get(path, headers=headers))
    assert csp["script-src"] == ["'self'"]


def test_default_crm_salesforce_needs_no_parameter(make_app):
    app = make_app(server={"frame_ancestors": ACME}, softphone={"default_crm": "salesforce"})
    response = app.test_client().get(
        "/softphone/", headers={"Referer": "https://acme.my.salesforce.com/"})
    assert csp_of(response)["script-src"] == ["'self'", "https://acme.my.salesforce.com"]


def test_boot_config_tells_the_bridge_the_logging_path_and_sign_in(make_app):
    plain = make_app().test_client().get("/softphone/config.json").get_json()
    assert plain["salesforce"] == {"logging_path": "", "signin": False}

    app = make_app(crm={"adapters": ["salesforce"],
                        "salesforce": {"logging_path": "browser"}},
                   auth={"salesforce": {"enabled": True, "consumer_key": "k",
                                        "org_id": "00D000000000042"}})
    body = app.test_client().get("/softphone/config.json").get_json()
    assert body["salesforce"] == {"logging_path": "browser", "signin": True}
