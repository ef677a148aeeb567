"""Who may do what on the console (SPEC AD-2): per role, per screen and action.

The three built-in roles start from :data:`DEFAULTS`; admins change single cells on the
permissions screen, stored as overrides in ``console_permissions``. Agents never reach the
console at all (the guard refuses them before any permission is looked at), and an admin always
keeps ``permissions``/``view`` and ``permissions``/``update`` so nobody can lock the admins out.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select

from ..schema import console_permissions

SCREENS = ("board", "history", "recordings", "stats", "users", "groups", "stop_statuses",
           "permissions", "audit", "security", "checks", "numbers", "flows", "audio",
           "number_lists", "crm", "voicemail", "monitor", "campaigns", "login_policy",
           "charges")
ACTIONS = ("view", "update", "delete", "download")
CONSOLE_ROLES = ("supervisor", "admin")

_SUPERVISOR = {
    "board": {"view", "update"},
    "history": {"view", "download"},
    "recordings": {"view"},
    "stats": {"view", "download"},
    "users": {"view"},
    "groups": {"view"},
    "stop_statuses": {"view"},
    "audit": set(),
    "permissions": set(),
    "security": set(),
    "checks": set(),
    "numbers": set(),
    "flows": set(),
    "audio": set(),
    "number_lists": set(),
    "crm": set(),
    "voicemail": {"view", "update"},
    "monitor": {"view", "update"},  # CF-11: listen to, whisper to, join agents' calls
    # Supervisors run campaigns (start, pause, stop) and report on them; admins set them up.
    "campaigns": {"view", "update", "download"},
    "login_policy": set(),  # SPEC AD-3: admins only
    "charges": {"view", "download"},  # ST-6: like the other statistics
}
#: The built-in permissions: admins may do everything, supervisors watch and report.
DEFAULTS: dict[str, dict[str, set[str]]] = {
    "supervisor": _SUPERVISOR,
    "admin": {screen: set(ACTIONS) for screen in SCREENS},
}
#: Cells that cannot be taken from admins (the way back from any mistake).
LOCKED = {("admin", "permissions", "view"), ("admin", "permissions", "update")}


class PermissionError_(ValueError):
    """An unknown role, screen or action (the message names the field)."""


def matrix(conn: Connection) -> dict[str, dict[str, dict[str, bool]]]:
    """``{role: {screen: {action: allowed}}}``: the defaults with the stored overrides."""
    table = {role: {screen: {action: action in DEFAULTS[role].get(screen, set())
                             for action in ACTIONS} for screen in SCREENS}
             for role in CONSOLE_ROLES}
    for row in conn.execute(select(console_permissions)):
        if row.role in table and row.screen in SCREENS and row.action in ACTIONS:
            table[row.role][row.screen][row.action] = bool(row.allowed)
    for role, screen, action in LOCKED:
        table[role][screen][action] = True
    return table


def allowed(conn: Connection, role: str, screen: str, action: str) -> bool:
    if role not in CONSOLE_ROLES:
        return False
    return matrix(conn)[role].get(screen, {}).get(action, False)


def set_cell(conn: Connection, role: str, screen: str, action: str, value: bool, *,
             by: int | None, now: datetime) -> bool:
    """Store one cell; returns whether it changed anything."""
    if role not in CONSOLE_ROLES:
        raise PermissionError_(f"role: one of {', '.join(CONSOLE_ROLES)}, got {role!r}")
    if screen not in SCREENS:
        raise PermissionError_(f"screen: one of {', '.join(SCREENS)}, got {screen!r}")
    if action not in ACTIONS:
        raise PermissionError_(f"action: one of {', '.join(ACTIONS)}, got {action!r}")
    if (role, screen, action) in LOCKED and not value:
        raise PermissionError_(f"{role}/{screen}/{action}: admins always keep this")
    before = matrix(conn)[role][screen][action]
    key = (console_permissions.c.role == role, console_permissions.c.screen == screen,
           console_permissions.c.action == action)
    conn.execute(delete(console_permissions).where(*key))
    if value != (action in DEFAULTS[role].get(screen, set())):
        conn.execute(insert(console_permissions).values(
            role=role, screen=screen, action=action, allowed=value, updated_at=now,
            updated_by=by))
    return before != value
