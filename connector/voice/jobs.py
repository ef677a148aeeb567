"""Background jobs of the voice layer (run by ``cti worker``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app

from .. import clock, db, writeback
from . import calls, charges

log = logging.getLogger("cti.voice.jobs")


def finalize_overdue_calls(grace_minutes: int = 10) -> list[str]:
    """Finalize calls that ended ``grace_minutes`` ago but whose legs never reported, and hand
    them to the write-back. Safe to run at any time and from several workers at once."""
    with db.get_engine().begin() as conn:
        done = calls.finalize_overdue(conn, clock.now(), timedelta(minutes=grace_minutes))
    for call_sid in done:
        log.warning("call finalized without its legs' last callbacks",
                    extra={"call_sid": call_sid})
        writeback.call_finished(call_sid, app=current_app)
        charges.call_final(call_sid, app=current_app)
    return done
