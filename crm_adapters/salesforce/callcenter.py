"""The Open CTI call-center definition, generated for one deployment's URL (SPEC SF-1).

Two renderings of the same definition:

* :func:`build_callcenter_xml` — the import file for Setup > Call Centers > Import
  (Open CTI Developer Guide, "Call Center Definition File Format");
* :func:`build_callcenter_metadata` — the ``CallCenter`` metadata file of the SFDX package
  (``sfdc-package/force-app/main/default/callCenters/``), for ``sf project deploy``.

Rules enforced (ecosystem.md §2.1): ``sortOrder`` starts at 0 without gaps; ``reqInternalName``
is item 0 and ``reqDisplayName`` item 1; names are at most 40 alphanumerics and custom names must
not start with the reserved ``req``; the adapter URL is https (Lightning requires it); Lightning
softphone sizes are 200–1920 px wide and 240–2560 px high.

The custom section is read by the softphone with ``sforce.opencti.getCallCenterSettings``, which
returns keys like ``/CtiConnectorSettings/BackendUrl``. Whether an import accepts a custom
section whose name does not start with ``req`` is UNVERIFIED (vendor files all use ``req…``
names); if an org rejects it, change :data:`CUSTOM_SECTION` here, in one place.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

METADATA_NAMESPACE = "http://soap.sforce.com/2006/04/metadata"

#: (name, label) of the custom section; see the module docstring.
CUSTOM_SECTION = ("CtiConnectorSettings", "CTI Connector Settings")

#: Where the softphone lives, relative to the deployment's base URL.
ADAPTER_PATH = "/softphone/?crm=salesforce"

WIDTH_RANGE = (200, 1920)
HEIGHT_RANGE = (240, 2560)
COMPATIBILITY_MODE = "Lightning"

#: Labels of well-known custom settings; other keys are their own label.
CUSTOM_LABELS = {"BackendUrl": "Backend URL", "TwilioEdge": "Twilio Edge",
                 "LoggingPath": "Logging Path"}

_NAME = re.compile(r"[A-Za-z0-9]{1,40}")
_INTERNAL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,39}")
_RESERVED_NAMES = {"label", "sortorder", "internalnamelabel", "displaynamelabel"}


def build_callcenter_xml(base_url: str, *, internal_name: str = "CtiConnector",
                         display_name: str = "CTI Connector", width: int = 360,
                         height: int = 520, custom: dict[str, str] | None = None) -> str:
    """The call-center import file for a deployment served at ``base_url``.

    Args:
        base_url: the connector's public https base URL, e.g. ``https://cti.example.com``.
        internal_name: ``reqInternalName``: ≤ 40 alphanumerics starting with a letter.
        display_name: ``reqDisplayName`` shown in Setup (≤ 1000 characters).
        width: softphone width in px (200–1920).
        height: softphone height in px (240–2560).
        custom: extra settings for the softphone (name -> value); ``BackendUrl`` is always
            included.

    Raises:
        ValueError: naming the argument that breaks a rule.
    """
    general, settings = _definition(base_url, internal_name, display_name, width, height,
                                    custom)
    root = ET.Element("callCenter")
    for order, (name, label, items) in enumerate(
            [("reqGeneralInfo", "General Information", general), (*CUSTOM_SECTION, settings)]):
        section = ET.SubElement(root, "section", sortOrder=str(order), name=name, label=label)
        for item_order, (item_name, item_label, value) in enumerate(items):
            item = ET.SubElement(section, "item", sortOrder=str(item_order), name=item_name,
                                 label=item_label)
            item.text = value
    return _serialise(root)


def build_callcenter_metadata(base_url: str, *, internal_name: str = "CtiConnector",
                              display_name: str = "CTI Connector", width: int = 360,
                              height: int = 520, custom: dict[str, str] | None = None) -> str:
    """The same definition as a ``CallCenter`` metadata file (SFDX source format).

    The internal name is the file name (``<internal_name>.callCenter-meta.xml``), so the file
    carries no ``reqInternalName``/``reqDisplayName`` items, like Salesforce's own demo adapter.
    Arguments and errors as for :func:`build_callcenter_xml`.
    """
    general, settings = _definition(base_url, internal_name, display_name, width, height,
                                    custom)
    general = general[2:]  # internal and display names are separate elements here
    root = ET.Element("CallCenter", xmlns=METADATA_NAMESPACE)
    _text(root, "adapterUrl", general[0][2])
    _text(root, "customSettings", json.dumps({n: v for n, _, v in general},
                                             separators=(",", ":"), ensure_ascii=False))
    _text(root, "displayName", display_name)
    _text(root, "displayNameLabel", "Display Name")
    _text(root, "internalNameLabel", "InternalName")
    for name, label, items in [("reqGeneralInfo", "General Information", general),
                               (*CUSTOM_SECTION, settings)]:
        section = ET.SubElement(root, "sections")
        for item_name, item_label, value in items:
            item = ET.SubElement(section, "items")
            _text(item, "label", item_label)
            _text(item, "name", item_name)
            _text(item, "value", value)
        _text(section, "label", label)
        _text(section, "name", name)
    return _serialise(root)


Item = tuple[str, str, str]  # (name, label, value)


def _definition(base_url: str, internal_name: str, display_name: str, width: int,
                height: int, custom: dict[str, str] | None) -> tuple[list[Item], list[Item]]:
    base = _base_url(base_url)
    if not isinstance(internal_name, str) or not _INTERNAL_NAME.fullmatch(internal_name):
        raise ValueError(f"internal_name: {internal_name!r} must be 1-40 letters and digits, "
                         "starting with a letter")
    if not isinstance(display_name, str) or not display_name.strip():
        raise ValueError("display_name: must not be empty")
    if len(display_name) > 1000:
        raise ValueError(f"display_name: at most 1000 characters, got {len(display_name)}")
    _size("width", width, WIDTH_RANGE)
    _size("height", height, HEIGHT_RANGE)
    general = [
        ("reqInternalName", "InternalName", internal_name),
        ("reqDisplayName", "Display Name", display_name),
        ("reqAdapterUrl", "CTI Adapter URL", base + ADAPTER_PATH),
        ("reqUseApi", "Use CTI API", "true"),
        ("reqSoftphoneHeight", "Softphone Height", str(height)),
        ("reqSoftphoneWidth", "Softphone Width", str(width)),
        ("reqSalesforceCompatibilityMode", "Salesforce Compatibility Mode", COMPATIBILITY_MODE),
    ]
    return general, _custom_items(base, custom or {})


def _base_url(base_url: str) -> str:
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"base_url: must be an absolute https URL (Lightning loads the "
                         f"softphone only over https), got {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"base_url: must not have a query or fragment, got {base_url!r}")
    return base_url.rstrip("/")


def _size(key: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key}: must be a whole number of pixels from {low} to {high} "
                         f"(Lightning's range), got {value!r}")


def _custom_items(base: str, custom: dict[str, str]) -> list[Item]:
    if "BackendUrl" in custom:
        raise ValueError("custom: BackendUrl is set from base_url; do not pass it")
    items = [("BackendUrl", CUSTOM_LABELS["BackendUrl"], base)]
    for name in sorted(custom):
        value = custom[name]
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"custom: name {name!r} must be 1-40 letters and digits")
        if name.lower().startswith("req") or name.lower() in _RESERVED_NAMES:
            raise ValueError(f"custom: name {name!r} is reserved by Salesforce (names starting "
                             "with 'req', label, sortOrder, internalNameLabel, displayNameLabel)")
        if not isinstance(value, str):
            raise ValueError(f"custom: value of {name} must be a string, got {value!r}")
        items.append((name, CUSTOM_LABELS.get(name, name), value))
    return items


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _serialise(root: ET.Element) -> str:
    ET.indent(root, space="    ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
