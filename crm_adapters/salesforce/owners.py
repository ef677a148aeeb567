"""Agents -> Salesforce User ids for ``Task.OwnerId``: one SOQL per batch, cached per adapter.

An agent without a matching active user is not an error: the Task is written anyway, owned by
the integration user, and a warning tells the admin which agent to map.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from . import soql
from .rest import SalesforceRest
from .settings import SalesforceSettings


class OwnerDirectory:
    """Resolves ``CallLog.agent_crm_user`` values by Username or Email (settings.agent_match)."""

    def __init__(self, settings: SalesforceSettings, rest: SalesforceRest,
                 log: logging.Logger) -> None:
        self.settings = settings
        self.rest = rest
        self.log = log
        self._lock = threading.Lock()
        self._ids: dict[str, str | None] = {}  # lower-cased user -> Id, None = no such user

    @property
    def match_field(self) -> str:
        return "Username" if self.settings.agent_match == "username" else "Email"

    def resolve(self, users: Iterable[str]) -> dict[str, str]:
        """Ids of the given users that exist; looks up only users not seen before."""
        wanted = {u.strip() for u in users if u and u.strip()}
        with self._lock:
            unknown = sorted(u for u in wanted if u.lower() not in self._ids)
            if unknown:
                self._look_up(unknown)
            return {u: self._ids[u.lower()] for u in wanted  # type: ignore[misc]
                    if self._ids.get(u.lower())}

    def _look_up(self, users: list[str]) -> None:
        found: dict[str, list[str]] = {}
        field = self.match_field
        for row in self.rest.query_all(soql.active_users(field, users)):
            found.setdefault(str(row.get(field) or "").lower(), []).append(str(row["Id"]))
        for user in users:
            ids = found.get(user.lower(), [])
            self._ids[user.lower()] = ids[0] if len(ids) == 1 else None
            if not ids:
                self.log.warning("no active Salesforce user with %s %r: that agent's Tasks "
                                 "are owned by the integration user", field, user)
            elif len(ids) > 1:
                self.log.warning("%d active Salesforce users share %s %r: that agent's Tasks "
                                 "are owned by the integration user; set agent_match = "
                                 "\"username\"", len(ids), field, user)
