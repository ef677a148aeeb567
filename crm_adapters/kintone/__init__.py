"""kintone adapter: CRM-app lookups and screen pops, call-history upserts, phone-index sync and
call-flow actions, within kintone's per-domain and per-app limits.

Entry point ``kintone = "crm_adapters.kintone:KintoneAdapter"``; settings come from the
``[crm.kintone]`` table (see ``docs/kintone.md``).
"""

from .adapter import KintoneAdapter
from .phones import stored_variants
from .settings import CallHistoryFields, KintoneApp, KintoneSettings

__all__ = [
    "CallHistoryFields",
    "KintoneAdapter",
    "KintoneApp",
    "KintoneSettings",
    "stored_variants",
]
