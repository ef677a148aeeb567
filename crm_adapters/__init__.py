"""CRM adapters for cti-connector: one small class per CRM behind one interface.

Adapters are found through the entry-point group ``cti.crm_adapters``; see ``base.py`` for the
interface, ``testing.py`` for the contract suite and ``example.py`` for a copyable template.
"""

from .base import (
    API_VERSION,
    AdapterEnvironment,
    CallLog,
    Check,
    CRMAdapter,
    Customer,
    Limiter,
    LocalLimiter,
    NoSettings,
    WriteResult,
)
from .errors import (
    AdapterAuthError,
    AdapterConfigError,
    AdapterError,
    AdapterPermanentError,
    AdapterRateLimited,
    AdapterTemporaryError,
)
from .settings import Secret

__all__ = [
    "API_VERSION",
    "AdapterAuthError",
    "AdapterConfigError",
    "AdapterEnvironment",
    "AdapterError",
    "AdapterPermanentError",
    "AdapterRateLimited",
    "AdapterTemporaryError",
    "CRMAdapter",
    "CallLog",
    "Check",
    "Customer",
    "Limiter",
    "LocalLimiter",
    "NoSettings",
    "Secret",
    "WriteResult",
]
