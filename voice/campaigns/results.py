"""Results of an attempt, and what happens to the contact next.

System results (seed 002's システム結果) are set by the connector; dispositions (結果) by the
agent after a conversation. A contact is *final* (``done``) after a final disposition, a
result that is never retried (発信規制, 停止, do-not-call) or when its attempts are used up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import CampaignSettings

#: result code → (Japanese label as on the admin screens, English).
SYSTEM_RESULTS = {
    "busy": ("ビジー", "busy"),
    "no_answer": ("制限時間", "no answer (rang out)"),
    "cancelled": ("キャンセル", "cancelled (declined, or the call was withdrawn)"),
    "error": ("エラー", "error"),
    "restricted": ("発信規制", "restricted destination (CF-12 or the restriction list)"),
    "channel_limit": ("チャンネル制限", "channel limit"),
    "abandoned": ("放棄", "answered, but no agent took the call"),
    "no_result": ("未入力", "answered; the agent entered no result"),
    "do_not_call": ("発信停止", "do not call"),
    "skipped": ("スキップ", "skipped by the agent (preview)"),
    "stopped": ("停止", "stopped by a supervisor"),
}
#: Results after which the contact is dialed again (after its delay), attempts permitting.
RETRYABLE = frozenset({"busy", "no_answer", "error", "channel_limit", "cancelled", "abandoned"})
#: Results that end the contact at once.
FINAL_SYSTEM = frozenset({"restricted", "do_not_call", "stopped", "no_result"})
DISPOSITION_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")

#: A skipped contact is offered again after this, so the next one comes first.
SKIP_DELAY = timedelta(minutes=1)
#: Recall presets of the softphone (10分後 / 1時間後 / 翌日).
RECALL_PRESETS = {"10m": timedelta(minutes=10), "1h": timedelta(hours=1),
                  "1d": timedelta(days=1)}


@dataclass(frozen=True)
class Next:
    """What becomes of the contact: ``state`` ``pending`` (due at ``due``) or ``done``."""

    state: str
    due: datetime | None = None


def after_attempt(result: str, attempts: int, settings: CampaignSettings, now: datetime
                  ) -> Next:
    """The contact's next state after an attempt (``attempts`` counts this one).

    A retryable result is dialed again after its delay while attempts remain; a skipped
    preview contact goes back to the list without using an attempt (the caller passes the
    count unchanged), behind the contacts due now (:data:`SKIP_DELAY`).
    """
    if result == "skipped":
        return Next("pending", now + SKIP_DELAY)
    delay = settings.retry_delay(result)
    if delay is None or attempts >= settings.max_attempts:
        return Next("done")
    return Next("pending", now + timedelta(minutes=delay))


def after_disposition(recall_at: datetime | None) -> Next:
    """After the agent's result: a recall keeps the contact (due then), else it is final.

    A disposition marked not final (検討, 本人不在) only makes the softphone offer a recall;
    without one there is nothing left to do with the contact.
    """
    if recall_at is not None:
        return Next("pending", recall_at)
    return Next("done")


def label(result: str, settings: CampaignSettings | None = None) -> str:
    if result in SYSTEM_RESULTS:
        return SYSTEM_RESULTS[result][0]
    found = settings.disposition(result) if settings else None
    return found.label if found else result
