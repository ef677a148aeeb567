"""The call-center definition: every import rule, checked on the parsed XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from crm_adapters.salesforce import build_callcenter_metadata, build_callcenter_xml
from crm_adapters.salesforce.callcenter import CUSTOM_SECTION, METADATA_NAMESPACE

BASE = "https://cti.example.com"
PACKAGE_FILE = (Path(__file__).parents[3] / "sfdc-package/force-app/main/default/callCenters"
                / "CtiConnector.callCenter-meta.xml")


def sections(xml: str) -> dict[str, list[ET.Element]]:
    root = ET.fromstring(xml)
    assert root.tag == "callCenter"
    return {s.get("name"): s.findall("item") for s in root.findall("section")}


def values(items: list[ET.Element]) -> dict[str, str]:
    return {i.get("name"): i.text or "" for i in items}


def test_general_info_items_in_order() -> None:
    general = sections(build_callcenter_xml(BASE + "/"))["reqGeneralInfo"]
    assert [(i.get("sortOrder"), i.get("name")) for i in general] == [
        ("0", "reqInternalName"), ("1", "reqDisplayName"), ("2", "reqAdapterUrl"),
        ("3", "reqUseApi"), ("4", "reqSoftphoneHeight"), ("5", "reqSoftphoneWidth"),
        ("6", "reqSalesforceCompatibilityMode")]
    assert values(general) == {
        "reqInternalName": "CtiConnector", "reqDisplayName": "CTI Connector",
        "reqAdapterUrl": "https://cti.example.com/softphone/?crm=salesforce",
        "reqUseApi": "true", "reqSoftphoneHeight": "520", "reqSoftphoneWidth": "360",
        "reqSalesforceCompatibilityMode": "Lightning"}


def test_sort_orders_have_no_gaps_and_names_follow_the_rules() -> None:
    xml = build_callcenter_xml(BASE, custom={"TwilioEdge": "tokyo", "LoggingPath": "both",
                                             "TenantKey": "t-1"})
    root = ET.fromstring(xml)
    assert [s.get("sortOrder") for s in root.findall("section")] == ["0", "1"]
    for section in root.findall("section"):
        assert [i.get("sortOrder") for i in section] == [str(n) for n in range(len(section))]
        for element in (section, *section):
            assert element.get("name").isalnum() and len(element.get("name")) <= 40
            assert element.get("label")
    custom = sections(xml)[CUSTOM_SECTION[0]]
    assert not CUSTOM_SECTION[0].lower().startswith("req")
    assert list(values(custom).items()) == [("BackendUrl", BASE), ("LoggingPath", "both"),
                                            ("TenantKey", "t-1"), ("TwilioEdge", "tokyo")]


def test_output_is_deterministic_and_escaped() -> None:
    first = build_callcenter_xml(BASE, display_name="電話 <CTI> & Co",
                                 custom={"B": "2", "A": "x<y"})
    assert first == build_callcenter_xml(BASE, display_name="電話 <CTI> & Co",
                                         custom={"A": "x<y", "B": "2"})
    assert values(sections(first)["reqGeneralInfo"])["reqDisplayName"] == "電話 <CTI> & Co"
    assert first.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<callCenter>')


def test_sizes_at_the_limits_are_accepted() -> None:
    general = values(sections(build_callcenter_xml(BASE, width=200, height=2560))
                     ["reqGeneralInfo"])
    assert (general["reqSoftphoneWidth"], general["reqSoftphoneHeight"]) == ("200", "2560")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"base_url": "http://cti.example.com"}, "base_url: must be an absolute https URL"),
    ({"base_url": "/softphone"}, "base_url"),
    ({"base_url": "https://cti.example.com/?a=1"}, "base_url: must not have a query"),
    ({"internal_name": "1Cti"}, "internal_name"),
    ({"internal_name": "Cti-Connector"}, "internal_name"),
    ({"internal_name": "C" * 41}, "internal_name"),
    ({"display_name": " "}, "display_name: must not be empty"),
    ({"display_name": "x" * 1001}, "display_name: at most 1000"),
    ({"width": 199}, "width: must be a whole number of pixels from 200 to 1920"),
    ({"width": 1921}, "width"),
    ({"height": 239}, "height: must be a whole number of pixels from 240 to 2560"),
    ({"height": 2561}, "height"),
    ({"height": 520.0}, "height"),
    ({"width": True}, "width"),
    ({"custom": {"reqEdge": "tokyo"}}, "custom: name 'reqEdge' is reserved"),
    ({"custom": {"sortOrder": "1"}}, "reserved"),
    ({"custom": {"Twilio Edge": "tokyo"}}, "custom: name 'Twilio Edge' must be"),
    ({"custom": {"BackendUrl": "https://x"}}, "BackendUrl is set from base_url"),
    ({"custom": {"Edge": 1}}, "custom: value of Edge must be a string"),
])
def test_invalid_input_names_the_problem(kwargs: dict, message: str) -> None:
    arguments = {"base_url": BASE, **kwargs}
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        build_callcenter_xml(**arguments)
    with pytest.raises(ValueError):
        build_callcenter_metadata(**arguments)


def test_metadata_rendering() -> None:
    root = ET.fromstring(build_callcenter_metadata(BASE, custom={"TwilioEdge": "tokyo"}))
    ns = {"m": METADATA_NAMESPACE}
    assert root.tag == f"{{{METADATA_NAMESPACE}}}CallCenter"
    assert root.findtext("m:adapterUrl", namespaces=ns) == f"{BASE}/softphone/?crm=salesforce"
    assert root.findtext("m:displayName", namespaces=ns) == "CTI Connector"
    settings = json.loads(root.findtext("m:customSettings", namespaces=ns))
    assert settings["reqSalesforceCompatibilityMode"] == "Lightning"
    assert settings["reqUseApi"] == "true"
    names = [s.findtext("m:name", namespaces=ns) for s in root.findall("m:sections", ns)]
    assert names == ["reqGeneralInfo", CUSTOM_SECTION[0]]
    items = [i.findtext("m:name", namespaces=ns)
             for i in root.find("m:sections", ns).findall("m:items", ns)]
    assert "reqInternalName" not in items and items[0] == "reqAdapterUrl"


def test_package_file_is_the_generated_placeholder() -> None:
    """The SFDX package carries build_callcenter_metadata("https://cti.example.com");
    regenerate it with that call when the rendering changes."""
    text = PACKAGE_FILE.read_text(encoding="utf-8")
    assert text.split("\n", 1)[1].split("-->\n", 1)[1] == \
        build_callcenter_metadata(BASE).split("\n", 1)[1]
