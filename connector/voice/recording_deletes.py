"""Delete recordings at Twilio (SPEC AD-5 retention with ``recordings`` on).

``DELETE /2010-04-01/Accounts/{AC}/Recordings/{RE}.json`` answers 204; a 404 means the
recording is already gone (deleted in Twilio's console, or by an earlier run whose answer was
lost), which is just as good. 429 (20429, never processed) and 5xx and timeouts are retried
with capped exponential backoff and full jitter, at this one layer only
(reliability-performance.md §1.8, §6.1); anything else (401, 403 …) is a failure the caller keeps
for its next run. After :data:`GIVE_UP_AFTER` recordings in a row failed, Twilio is taken to be
down and the rest are not tried this run (they stay failed, so they are tried next run).

Twilio mode authenticates with the API key on the voice runtime's session; simulator mode
deletes from the simulator of this process (attached by simulated mode, built on first use).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import requests
from flask import Flask

from .runtime import TWILIO_API, ensure_simulator, get_runtime

log = logging.getLogger("cti.voice.recording_deletes")

#: (connect, read) seconds for one DELETE.
TIMEOUT = (5.0, 15.0)
#: Tries per recording (the first one included).
ATTEMPTS = 3
BACKOFF_BASE = 1.0
BACKOFF_CAP = 8.0
RETRYABLE = frozenset({429, 500, 502, 503, 504})
GIVE_UP_AFTER = 5


@dataclass
class Outcome:
    """What happened to each SID: confirmed gone, or why not (kept for the next run)."""

    deleted: list[str] = field(default_factory=list)
    already_gone: int = 0  # of ``deleted``: Twilio answered 404
    failed: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"recordings_deleted": len(self.deleted),
                "recordings_already_gone": self.already_gone,
                "recordings_failed": len(self.failed)}


def backoff(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Full jitter: ``random(0, min(cap, base · 2^(attempt-1)))`` seconds."""
    return rng() * min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempt - 1))


def delete_all(app: Flask, sids: Iterable[str], *,
               sleep: Callable[[float], None] | None = None,
               rng: Callable[[], float] = random.random) -> Outcome:
    """Delete each recording at Twilio (or the simulator); never raises for Twilio's answers."""
    sleep = sleep or time.sleep
    outcome = Outcome()
    pending = list(dict.fromkeys(sids))
    if not pending:
        return outcome
    reach = _session(app)
    if reach is None:
        outcome.failed = dict.fromkeys(pending, "no Twilio account or simulator")
        return outcome
    session, auth = reach
    account = get_runtime(app).account_sid
    in_a_row = 0
    for index, sid in enumerate(pending):
        if in_a_row >= GIVE_UP_AFTER:
            outcome.failed.update(dict.fromkeys(pending[index:], "not tried: Twilio failing"))
            break
        url = f"{TWILIO_API}/2010-04-01/Accounts/{account}/Recordings/{sid}.json"
        status, reason = _delete_one(session, url, auth, sleep, rng)
        if reason:
            in_a_row += 1
            outcome.failed[sid] = reason
            log.warning("recording not deleted at Twilio", extra={"recording_sid": sid,
                                                                  "reason": reason})
            continue
        in_a_row = 0
        outcome.deleted.append(sid)
        outcome.already_gone += status == 404
    return outcome


def _delete_one(session: requests.Session, url: str, auth: tuple[str, str],
                sleep: Callable[[float], None], rng: Callable[[], float]) -> tuple[int, str]:
    """``(status, "")`` when the recording is gone, else ``(status, reason)``."""
    reason = ""
    status = 0
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = session.delete(url, auth=auth, timeout=TIMEOUT)
        except requests.RequestException as exc:
            status, reason = 0, type(exc).__name__
        else:
            status = response.status_code
            response.close()
            if status in (200, 204, 404):
                return status, ""
            reason = f"HTTP {status}"
            if status not in RETRYABLE:
                return status, reason
        if attempt < ATTEMPTS:
            sleep(backoff(attempt, rng))
    return status, reason


def _session(app: Flask) -> tuple[requests.Session, tuple[str, str]] | None:
    ensure_simulator(app)
    runtime = get_runtime(app)
    if runtime.media is None:
        return None
    return runtime.media, runtime.media_auth()
