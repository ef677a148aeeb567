"""The groups screen (SPEC CF-5, AD-1): every group setting, members and their skill levels.

The page is a shell: ``static/admin/groups.js`` reads and saves through ``/console/api/acd/…``
(:mod:`.admin_api`), i.e. ``/api/acd/groups`` with its validation, so the screen, the admin API
and ``cti group`` refuse the same things with the same field names. The page lists which
settings exist and their ranges, taken from :mod:`voice.acd.settings`.
"""

from __future__ import annotations

import json
from typing import Any

from voice.acd.settings import INT_RANGES, TARGET_TYPES, GroupSettings
from voice.acd.strategies import LABELS_JA, STRATEGIES

from .. import db
from ..auth import accounts
from . import texts
from .admin_pages import _SCRIPT_WORDS
from .common import bp, page
from .guard import require

#: The form's sections: (heading word, settings in it).
SECTIONS = (
    ("set_strategy", ("strategy", "ring_seconds", "max_active", "ring_before_queue_seconds")),
    ("queue_settings", ("max_waiting", "overflow", "max_wait_seconds", "timeout",
                        "announce_every_seconds", "announce", "leave_key")),
    ("voice_settings", ("greeting", "whisper", "queue_music", "hold_music")),
    ("agent_settings", ("acw_seconds", "auto_pause_after", "auto_pause_minutes",
                        "display_name", "color")),
)
_WORDS = ("members", "skill", "remove", "add_member", "new_group", "group_id", "group_name",
          "set_strategy", "target_none")


@bp.get("/admin/groups", endpoint="groups_admin")
@require("groups", "view")
def groups_page() -> Any:
    lang = texts.language()
    t = texts.words(lang)
    with db.get_engine().connect() as conn:
        agents = [{"username": a.username, "name": a.display_name}
                  for a in accounts.list_agents(conn) if a.active]
    words = {k: t[k] for k in (*_SCRIPT_WORDS, *_WORDS)}
    strategies = [(s, f"{LABELS_JA[s]} ({s})" if lang == "ja" else s) for s in STRATEGIES]
    return page("admin_groups.html", "groups_admin", sections=SECTIONS,
                fields=_fields(t), strategies=strategies,
                targets=[(k, t[f"target_{k}"]) for k in TARGET_TYPES],
                words=json.dumps(words, ensure_ascii=False),
                agents=json.dumps(agents, ensure_ascii=False))


def _fields(t: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each setting's form control: its kind, label, limits and default."""
    defaults = GroupSettings().public()
    out: dict[str, dict[str, Any]] = {}
    for _, names in SECTIONS:
        for name in names:
            kind = ("int" if name in INT_RANGES else "target" if name in ("overflow", "timeout")
                    else "choice" if name in ("strategy", "announce") else "text")
            low, high = INT_RANGES.get(name, (None, None))
            out[name] = {"kind": kind, "label": t[f"set_{name}"], "min": low, "max": high,
                         "default": defaults[name]}
    return out
