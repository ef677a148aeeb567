"""Admin screens for numbers, call flows, audio files, block lists and CRM links (SPEC AD-1,
AD-6, AD-7, CF-1, CF-9), and the voicemail screen for supervisors (CF-7).

The pages are shells: their ES modules (``static/admin/*.js``) read and change everything
through ``/console/api/...`` (:mod:`.admin_api`), i.e. the product's admin JSON APIs with their
own validation and error answers. Only the CRM screen is rendered here: the CRMs are set in the
configuration file, and the screen shows their state and, on request, their checks.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, g, request

from .. import clock, crm, db
from ..voice import number_lists
from . import audit, texts
from .common import bp, page
from .guard import require
from .security import client_ip

#: The words each screen's script uses (``data-words`` on its root element).
_SCRIPT_WORDS = ("save", "delete", "add", "confirm_delete", "deleted_ok", "saved", "no_rows",
                 "yes", "no", "error_http", "loading", "valid_flow", "imported", "unchanged",
                 "show_toml", "import_report", "preview_report", "play", "handled", "mark_handled",
                 "mark_unhandled", "edit")


def _words() -> str:
    """JSON for a ``data-words`` attribute (Jinja escapes it there)."""
    t = texts.words(texts.language())
    return json.dumps({k: t[k] for k in _SCRIPT_WORDS}, ensure_ascii=False)


@bp.get("/admin/numbers", endpoint="numbers_admin")
@require("numbers", "view")
def numbers_page() -> Any:
    return page("admin_numbers.html", "numbers_admin", words=_words())


@bp.get("/admin/flows", endpoint="flows_admin")
@require("flows", "view")
def flows_page() -> Any:
    return page("admin_flows.html", "flows_admin", words=_words())


@bp.get("/admin/audio", endpoint="audio_admin")
@require("audio", "view")
def audio_page() -> Any:
    return page("admin_audio.html", "audio_admin", words=_words())


@bp.get("/admin/number-lists", endpoint="number_lists_admin")
@require("number_lists", "view")
def number_lists_page() -> Any:
    return page("admin_lists.html", "number_lists_admin", words=_words(),
                lists=number_lists.LABELS)


@bp.get("/voicemail", endpoint="voicemail_page")
@require("voicemail", "view")
def voicemail_page() -> Any:
    return page("voicemail.html", "voicemail_page", words=_words())


@bp.get("/admin/crm", endpoint="crm_admin")
@require("crm", "view")
def crm_page() -> Any:
    """Each configured CRM: usable or why not, and (``?run=1``) its own connection checks."""
    layer = crm.get_layer(current_app)
    rows: list[dict[str, Any]] = []
    for name, adapter in layer.adapters.items():
        rows.append({"name": name, "title": getattr(adapter, "display_name", "") or name,
                     "ok": True, "reason": "", "server_side": adapter.server_side,
                     "checks": adapter.check() if request.args.get("run") else None})
    for name, reason in layer.unavailable.items():
        rows.append({"name": name, "title": name, "ok": False, "reason": reason,
                     "server_side": False, "checks": None})
    if request.args.get("run"):
        failed = [f"{r['name']}: {c.name}" for r in rows for c in r["checks"] or ()
                  if not c.ok]
        with db.get_engine().begin() as conn:
            audit.record(conn, at=clock.now(), action="checks.run", actor_id=g.agent.id,
                         actor=g.agent.username, target="crm", details={"failed": failed},
                         ip=client_ip(), user_agent=request.headers.get("User-Agent", ""))
    return page("admin_crm.html", "crm_admin", rows=rows, ran=bool(request.args.get("run")))
