"""The agents' access to the CallSid field, for ``logging_path = "both"``.

With both paths on, the softphone's ``saveLog`` runs as the agent and sets ``CTI_CallSid__c``
so that the server's upsert finds that Task. An agent who cannot edit the field cannot set
it: the browser's log is then refused, and only the server logs the call. The check reads
what the package's agent permission set grants (``FieldPermissions``; a permission set without
access to a field has no row for it) and how many users hold it. Reading permission sets
needs the integration user to have "View Setup and Configuration" (UNVERIFIED: the exact
permission Salesforce requires for these objects); without it the verdict is a warning that
says how to check by hand.
"""

from __future__ import annotations

from typing import Any

from ..base import Check
from ..errors import AdapterError
from .rest import SalesforceRest
from .settings import SalesforceSettings

#: The package's permission set for agents (sfdc-package/…/permissionsets/).
AGENT_PERMISSION_SET = "CTI_Connector_Agent"
NAME = "salesforce.agent_callsid_field"
_REDEPLOY = (f"redeploy sfdc-package/ (its {AGENT_PERMISSION_SET} permission set gives edit "
             "access) or grant it in the org")


def agent_callsid_check(settings: SalesforceSettings, rest: SalesforceRest) -> Check:
    """One verdict on whether agents' browsers can write the CallSid their Tasks need."""
    field = settings.task_callsid_field
    if settings.logging_path != "both":
        return Check(NAME, True, f"logging_path = '{settings.logging_path}': agents' browsers "
                     f"write no Tasks beside the server, so their access to Task.{field} is "
                     "not needed", "info")
    try:
        rows, holders = _grants(rest, field)
    except AdapterError as exc:
        return Check(NAME, False, f"cannot read the agents' access to Task.{field} ({exc}): "
                     "give the integration user View Setup and Configuration, or check that "
                     f"{AGENT_PERMISSION_SET} gives agents edit access to it", "warning")
    if rows is None:
        return Check(NAME, False, f"permission set {AGENT_PERMISSION_SET} is not in the org: "
                     "deploy sfdc-package/ and assign it to every agent; agents need edit "
                     f"access to Task.{field} for logging_path = 'both'")
    if not any(r.get("PermissionsRead") for r in rows):
        return Check(NAME, False, f"agents ({AGENT_PERMISSION_SET}) cannot see Task.{field}: "
                     "their softphones' logs are refused and only the server logs calls — "
                     + _REDEPLOY)
    if not any(r.get("PermissionsEdit") for r in rows):
        return Check(NAME, False, f"Task.{field} is read-only for agents "
                     f"({AGENT_PERMISSION_SET}): their softphones cannot set the CallSid, so "
                     "their logs are refused and only the server logs calls — " + _REDEPLOY)
    if holders == 0:
        return Check(NAME, False, f"no user has the {AGENT_PERMISSION_SET} permission set: "
                     "assign it to every agent (Setup → Permission Sets → Manage "
                     "Assignments)", "warning")
    return Check(NAME, True, f"agents ({AGENT_PERMISSION_SET}, {holders} users) can edit "
                 f"Task.{field}")


def _grants(rest: SalesforceRest, field: str) -> tuple[list[dict[str, Any]] | None, int]:
    """The permission set's FieldPermissions rows for the field (None: no such permission
    set) and how many users hold it. Names are validated API names (settings.py)."""
    name = AGENT_PERMISSION_SET
    found = list(rest.query_all(f"SELECT Id FROM PermissionSet WHERE Name = '{name}'"))
    if not found:
        return None, 0
    # Activity custom fields may be granted as Task.<field> or Activity.<field> (UNVERIFIED
    # which one FieldPermissions reports), so both are read.
    rows = list(rest.query_all(
        "SELECT Field, PermissionsRead, PermissionsEdit FROM FieldPermissions WHERE "
        f"Parent.Name = '{name}' AND Field IN ('Task.{field}', 'Activity.{field}')"))
    holders = list(rest.query_all("SELECT AssigneeId FROM PermissionSetAssignment WHERE "
                                  f"PermissionSet.Name = '{name}'"))
    return rows, len(holders)
