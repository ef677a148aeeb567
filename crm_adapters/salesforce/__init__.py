"""Salesforce: phone lookups, contact sync and call-log Tasks through the REST API, plus the
Open CTI call-center definition.

The adapter is registered under the entry point ``salesforce`` (``cti.crm_adapters`` group).
Admin guide: ``docs/salesforce.md``.
"""

from .adapter import SalesforceAdapter, record_url
from .callcenter import build_callcenter_metadata, build_callcenter_xml
from .settings import DEFAULT_OBJECT_FIELDS, ObjectFields, SalesforceSettings

__all__ = [
    "DEFAULT_OBJECT_FIELDS",
    "ObjectFields",
    "SalesforceAdapter",
    "SalesforceSettings",
    "build_callcenter_metadata",
    "build_callcenter_xml",
    "record_url",
]
