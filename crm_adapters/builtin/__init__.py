"""The built-in CRM (SPEC CR-1): customers, numbers and call history in the connector's own
database — the embedded default for users without a CRM.

Entry point ``builtin = "crm_adapters.builtin:BuiltinCRMAdapter"``; settings come from the
optional ``[crm.builtin]`` table (see ``docs/builtin-crm.md``). The web pages, API and CSV import
that edit the customers live in ``connector/builtin_crm``.
"""

from .adapter import OBJECT_TYPE, WRITE_LIMIT, BuiltinCRMAdapter, BuiltinSettings

__all__ = ["OBJECT_TYPE", "WRITE_LIMIT", "BuiltinCRMAdapter", "BuiltinSettings"]
