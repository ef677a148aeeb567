"""Field-level security in the fake org: who may read and edit which field.

Mixed into :class:`tests.fakes.salesforce.FakeSalesforce`. The REST API and ``describe`` answer
as the integration user, whose access is the schema's (``FieldDef.createable``/``updateable``).
Other users:

* added with ``minimum_access=True`` — the "Minimum Access" profile Salesforce recommends when
  access comes from permission sets — see a custom field (``…__c``) only through the permission
  sets assigned to them; every other user's profile reads and edits every field;
* :meth:`deploy_permission_sets` reads the package's permission sets
  (``sfdc-package/…/permissionsets/*.permissionset-meta.xml``) into ``PermissionSet`` and
  ``FieldPermissions`` records, as a deployment does, so tests run against what we ship;
  :meth:`assign_permission_set` adds a ``PermissionSetAssignment``.

The three objects are queryable by SOQL like any other (``FieldPermissions`` has ``ParentId``
→ ``Parent.Name``, ``SobjectType``, ``Field`` = ``Task.CTI_CallSid__c``, ``PermissionsRead``,
``PermissionsEdit``). As in Salesforce, a permission set without access to a field has no
``FieldPermissions`` row for it. The Lightning ``saveLog`` (:mod:`tests.fakes.salesforce_lightning`)
refuses, for the signed-in browser user, a field they cannot see with ``INVALID_FIELD`` ("No
such column" — Salesforce's answer for a field hidden by field-level security) and one they
cannot edit with ``INVALID_FIELD_FOR_INSERT_UPDATE``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[2] / "sfdc-package"
PERMISSION_SETS = PACKAGE / "force-app" / "main" / "default" / "permissionsets"
_NS = {"md": "http://soap.sforce.com/2006/04/metadata"}


class FieldSecurity:
    """Test controls and access rules of the fake org's permission sets (a mixin)."""

    records: dict[str, dict[str, dict[str, Any]]]
    schema: dict[str, dict[str, Any]]
    integration_user_id: str

    def _init_permissions(self) -> None:
        self.minimum_access_users: set[str] = set()

    def deploy_permission_sets(self, directory: Path = PERMISSION_SETS) -> dict[str, str]:
        """Create the permission sets of ``directory``'s metadata files: {name: Id}."""
        created = {}
        for path in sorted(directory.glob("*.permissionset-meta.xml")):
            name = path.name.removesuffix(".permissionset-meta.xml")
            root = ET.parse(path).getroot()
            label = root.findtext("md:label", default=name, namespaces=_NS)
            parent = self.add_record("PermissionSet", Name=name,  # type: ignore[attr-defined]
                                     Label=label)
            for grant in root.findall("md:fieldPermissions", _NS):
                self.grant_field(parent, grant.findtext("md:field", "", _NS),
                                 readable=_true(grant.findtext("md:readable", "", _NS)),
                                 editable=_true(grant.findtext("md:editable", "", _NS)))
            created[name] = parent
        return created

    def grant_field(self, permission_set_id: str, field: str, *, readable: bool,
                    editable: bool) -> None:
        """Set one permission set's access to ``Object.Field`` (no access: no row)."""
        rows = self.records["FieldPermissions"]
        for row_id, row in list(rows.items()):
            if row["ParentId"] == permission_set_id and row["Field"] == field:
                del rows[row_id]
        if readable or editable:
            self.add_record("FieldPermissions",  # type: ignore[attr-defined]
                            ParentId=permission_set_id, SobjectType=field.split(".")[0],
                            Field=field, PermissionsRead=True, PermissionsEdit=editable)

    def permission_set_id(self, name: str) -> str:
        return next(r["Id"] for r in self.records["PermissionSet"].values()
                    if r["Name"] == name)

    def assign_permission_set(self, user_id: str, name: str) -> None:
        self.add_record("PermissionSetAssignment",  # type: ignore[attr-defined]
                        AssigneeId=user_id, PermissionSetId=self.permission_set_id(name))

    def add_agent_user(self, username: str, permission_set: str = "CTI_Connector_Agent") -> str:
        """An agent as the package's setup guide makes one: Minimum Access profile plus the
        agent permission set (deployed first if it is not there yet)."""
        if not any(r["Name"] == permission_set for r in self.records["PermissionSet"].values()):
            self.deploy_permission_sets()
        user = self.add_user(username, username)  # type: ignore[attr-defined]
        self.minimum_access_users.add(user)
        self.assign_permission_set(user, permission_set)
        return user

    def field_access(self, user_id: str | None, sobject: str, field: str) -> tuple[bool, bool]:
        """(readable, editable) of ``sobject.field`` for a user (None: the integration user)."""
        definition = self.schema[sobject].get(field)
        if definition is None:
            return False, False
        if user_id in (None, self.integration_user_id) or user_id not in self.minimum_access_users:
            return True, bool(definition.createable)
        if not field.endswith("__c"):
            return True, bool(definition.createable)
        assigned = {r["PermissionSetId"] for r in self.records["PermissionSetAssignment"].values()
                    if r["AssigneeId"] == user_id}
        rows = [r for r in self.records["FieldPermissions"].values()
                if r["ParentId"] in assigned and r["Field"] in (f"{sobject}.{field}",
                                                                 f"Activity.{field}")]
        readable = any(r["PermissionsRead"] for r in rows)
        return readable, readable and any(r["PermissionsEdit"] for r in rows)


def _true(text: str) -> bool:
    return text.strip().lower() == "true"
