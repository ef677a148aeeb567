"""Block list (着信拒否) and restriction list (発信規制) in the database (SPEC CF-9).

The rules themselves — patterns, matching, the CSV format — are :mod:`voice.number_lists`.
Here they are stored and changed; every change bumps the list's version, so the webhooks'
compiled copies (:mod:`.cache`) are reloaded on the next call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from voice.number_lists import NumberRule, RowError, parse_number_list_csv
from voice.numbering import NumberError

from ..schema import NUMBER_LISTS, number_list_rules
from . import versions

LABELS = {"block": "着信拒否", "restrict": "発信規制"}


class UnknownList(ValueError):
    """Neither ``block`` nor ``restrict``."""


@dataclass(frozen=True)
class StoredRule:
    id: int
    pattern: str
    note: str
    created_at: datetime

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "pattern": self.pattern, "note": self.note,
                "kind": NumberRule(self.pattern).kind.value,
                "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class ImportReport:
    """What an upload did: rules added, rules already present, rows refused."""

    added: int
    existing: int
    errors: tuple[RowError, ...]
    dry_run: bool = False  # a preview: ``added`` is what an import would add

    def public(self) -> dict[str, Any]:
        return {"added": self.added, "existing": self.existing, "dry_run": self.dry_run,
                "errors": [{"row": e.row, "code": e.code, "value": e.value,
                            "message_ja": e.message_ja, "message_en": e.message_en}
                           for e in self.errors]}


def check_list(name: str) -> str:
    if name not in NUMBER_LISTS:
        raise UnknownList(f"unknown number list {name!r} (known: {', '.join(NUMBER_LISTS)})")
    return name


def list_rules(conn: Connection, name: str) -> list[StoredRule]:
    rows = conn.execute(select(number_list_rules).where(
        number_list_rules.c.list_name == check_list(name)).order_by(number_list_rules.c.id))
    return [StoredRule(r.id, r.pattern, r.note, r.created_at) for r in rows]


def add_rule(conn: Connection, name: str, pattern: str, note: str, *, now: datetime,
             by: int | None = None) -> tuple[StoredRule, bool]:
    """Add ``pattern`` (normalised); returns the rule and whether it is new.

    Raises:
        NumberError: The pattern is unusable (``.code`` says why).
    """
    rule = NumberRule(pattern, note[:200])
    existing = _find(conn, check_list(name), rule.pattern)
    if existing is not None:
        return existing, False
    conn.execute(insert(number_list_rules).values(
        list_name=name, pattern=rule.pattern, note=rule.note, created_by=by, created_at=now))
    versions.bump(conn, name)
    found = _find(conn, name, rule.pattern)
    assert found is not None
    return found, True


def remove_rule(conn: Connection, name: str, *, rule_id: int | None = None,
                pattern: str | None = None) -> bool:
    """Delete one rule by id or by pattern (any form of it); False if there was none."""
    condition = number_list_rules.c.list_name == check_list(name)
    if rule_id is not None:
        condition &= number_list_rules.c.id == rule_id
    else:
        condition &= number_list_rules.c.pattern == NumberRule(pattern or "").pattern
    removed = conn.execute(delete(number_list_rules).where(condition)).rowcount
    if removed:
        versions.bump(conn, name)
    return bool(removed)


def import_csv(conn: Connection, name: str, data: bytes, *, now: datetime,
               by: int | None = None, dry_run: bool = False) -> ImportReport:
    """Add every valid row of an uploaded CSV; bad rows are reported, good ones all kept.
    With ``dry_run`` nothing is written: the report previews the import."""
    parsed = parse_number_list_csv(data)
    present = {r.pattern for r in list_rules(conn, name)}
    new = [rule for rule in parsed.rules if rule.pattern not in present]
    if dry_run:
        return ImportReport(len(new), len(parsed.rules) - len(new), parsed.errors, True)
    if new:
        conn.execute(insert(number_list_rules), [
            {"list_name": name, "pattern": r.pattern, "note": r.note[:200], "created_by": by,
             "created_at": now} for r in new])
        versions.bump(conn, name)
    return ImportReport(len(new), len(parsed.rules) - len(new), parsed.errors)


def _find(conn: Connection, name: str, pattern: str) -> StoredRule | None:
    row = conn.execute(select(number_list_rules).where(
        number_list_rules.c.list_name == name, number_list_rules.c.pattern == pattern)).first()
    return StoredRule(row.id, row.pattern, row.note, row.created_at) if row else None


__all__ = ["LABELS", "ImportReport", "NumberError", "StoredRule",
           "UnknownList", "add_rule", "check_list", "import_csv", "list_rules", "remove_rule"]
