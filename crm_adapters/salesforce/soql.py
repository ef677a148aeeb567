"""SOQL and SOSL text: quoting, escaping and the few query shapes the adapter sends.

Values are always escaped here — never formatted into queries elsewhere. Object and field names
come from validated settings (``settings.py``), so only values need escaping.

SOSL: every reserved character must be backslash-escaped inside ``FIND {...}``; an unescaped
``+`` or ``-`` breaks the search for E.164 numbers (restforce/restforce#203,
jsforce/jsforce#1071).
https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_sosl_find.htm
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

#: Characters SOSL reserves inside ``FIND {...}`` (each is escaped with a backslash).
SOSL_RESERVED = frozenset("?&|!{}[]()^~*:\\\"'+-")

#: SOQL string literal escapes (Salesforce SOQL reference, "Quoted String Escape Sequences").
_SOQL_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                 "\b": "\\b", "\f": "\\f", '"': '\\"'}

#: Rows one phone lookup may return at most: a ringing call needs a handful, not 2,000.
SEARCH_LIMIT = 50


def escape_sosl(term: str) -> str:
    """Backslash-escape every SOSL reserved character in one search term."""
    return "".join("\\" + ch if ch in SOSL_RESERVED else ch for ch in term)


def quote_soql(value: str) -> str:
    """A SOQL string literal: ``O'Brien`` -> ``'O\\'Brien'``."""
    return "'" + "".join(_SOQL_ESCAPES.get(ch, ch) for ch in value) + "'"


def soql_datetime(moment: datetime) -> str:
    """A SOQL dateTime literal in UTC (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def phone_search(terms: Sequence[str], returning: Sequence[tuple[str, Sequence[str]]],
                 limit: int = SEARCH_LIMIT) -> str:
    """``FIND {t1 OR t2} IN PHONE FIELDS RETURNING Obj(f, ...), ... LIMIT n``.

    Terms containing whitespace are dropped: SOSL would read them as several terms.
    """
    usable = [escape_sosl(t) for t in terms if t and not any(c.isspace() for c in t)]
    if not usable:
        raise ValueError("no usable search terms")
    objects = ", ".join(f"{name}({', '.join(fields)})" for name, fields in returning)
    return (f"FIND {{{' OR '.join(usable)}}} IN PHONE FIELDS RETURNING {objects} "
            f"LIMIT {int(limit)}")


def changed_since(sobject: str, fields: Sequence[str], phone_fields: Sequence[str],
                  since: datetime | None) -> str:
    """Records with a phone number, changed after ``since``, oldest change first."""
    conditions = ["(" + " OR ".join(f"{f} != null" for f in phone_fields) + ")"]
    if since is not None:
        conditions.insert(0, f"LastModifiedDate > {soql_datetime(since)}")
    return (f"SELECT {', '.join(fields)} FROM {sobject} WHERE {' AND '.join(conditions)} "
            "ORDER BY LastModifiedDate, Id")


def active_users(match_field: str, values: Iterable[str]) -> str:
    """Active users whose ``match_field`` (Username or Email) is one of ``values``."""
    literals = ", ".join(quote_soql(v) for v in sorted(set(values)))
    return (f"SELECT Id, Username, Email FROM User WHERE IsActive = true "
            f"AND {match_field} IN ({literals})")
