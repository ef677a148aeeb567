"""Call lists (発信リスト) from Salesforce: a list view's records, or a SOQL query's.

A list view's query comes from ``GET sobjects/<object>/listviews/<id>/describe`` (its
``query`` is the SOQL the list view runs, with its filters and order). Either way the
selected fields are replaced by the adapter's own (name, company and phone fields of the
object, as configured), so every row becomes a :class:`Customer` like a lookup's; the records
then come page by page through ``nextRecordsUrl`` (``query_all``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import AdapterPermanentError

_SELECT = re.compile(r"^\s*select\s+(.+?)\s+from\s+(\w+)\b(.*)$", re.IGNORECASE | re.DOTALL)
_LIST_VIEW_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")


def object_of(query: str) -> str:
    """The object a ``SELECT … FROM <object> …`` query reads."""
    found = _SELECT.match(query)
    if not found:
        raise AdapterPermanentError("not a SOQL query of the form SELECT … FROM <object> …",
                                    adapter="salesforce")
    return found.group(2)


def with_fields(query: str, fields: Sequence[str]) -> str:
    """``query`` selecting ``fields`` instead of its own (its filter and order are kept)."""
    found = _SELECT.match(query)
    if not found:
        raise AdapterPermanentError("not a SOQL query of the form SELECT … FROM <object> …",
                                    adapter="salesforce")
    return f"SELECT {', '.join(fields)} FROM {found.group(2)}{found.group(3)}"


def list_view_path(sobject: str, list_view: str) -> str:
    if not _LIST_VIEW_ID.fullmatch(list_view):
        raise AdapterPermanentError(f"not a list view id (15 or 18 characters): {list_view!r}",
                                    adapter="salesforce")
    return f"sobjects/{sobject}/listviews/{list_view}/describe"
