"""The call-record state machine, as pure functions of a row and an event.

Twilio's callbacks may come twice, late or out of order (reliability-performance.md §1.6), so
every change is *monotonic*:

* a status only moves forward — queued/initiated → ringing → in-progress → a terminal status
  (completed, busy, failed, no-answer, canceled); once terminal, nothing changes any more;
* timestamps are set once; a terminal event that arrives before the ``answered`` one still
  gives the answer time, from Twilio's ``CallDuration`` (answer → end).

Each row is one leg. The *call record* is the parent leg (the customer's leg of an inbound
call; the browser's leg of an outbound one); its ``answered_at``, ``talk_seconds`` and (inbound)
agent come from the child leg that answered, because the parent itself is answered by Twilio.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

TERMINAL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_RANK = {"queued": 0, "initiated": 0, "ringing": 1, "in-progress": 2}
#: A callback's own ``Timestamp`` is trusted when it is this close to our clock.
TIMESTAMP_TOLERANCE = timedelta(minutes=10)
#: Outcomes decided when the call starts; the final outcome keeps them.
DECIDED_OUTCOMES = frozenset({"rejected", "unconfigured", "refused", "channel_limit"})

Row = Mapping[str, Any]


def rank(status: str) -> int:
    return 3 if status in TERMINAL else _RANK.get(status, 0)


def is_terminal(status: str) -> bool:
    return status in TERMINAL


@dataclass(frozen=True)
class LegEvent:
    """One status callback for one leg."""

    status: str
    at: datetime
    call_duration: int | None = None


def event_time(timestamp: str | None, now: datetime) -> datetime:
    """When the event happened: Twilio's ``Timestamp`` if sane, else when we received it."""
    if timestamp:
        try:
            stamped = parsedate_to_datetime(timestamp)
        except (TypeError, ValueError):
            return now
        if stamped.tzinfo is not None and abs(stamped - now) <= TIMESTAMP_TOLERANCE:
            return stamped
    return now


def seconds_between(start: datetime, end: datetime) -> int:
    return max(0, round((end - start).total_seconds()))


def leg_changes(row: Row, event: LegEvent, *, own_answer: bool) -> dict[str, Any]:
    """The columns ``event`` changes on a leg row; empty when it is stale or a repeat.

    Args:
        row: The leg's current ``status``, ``started_at`` and ``answered_at``.
        event: The status callback.
        own_answer: Whether this leg's own answer counts (dialed legs). A call record's answer
            comes from its children instead (:func:`parent_changes`).
    """
    if is_terminal(row["status"]) or rank(event.status) <= rank(row["status"]):
        return {}
    changes: dict[str, Any] = {"status": event.status}
    answered = row["answered_at"]
    if own_answer and event.status == "in-progress" and answered is None:
        answered = changes["answered_at"] = max(event.at, row["started_at"])
    if is_terminal(event.status):
        ended = max(event.at, row["started_at"])
        changes.update(ended_at=ended, duration_seconds=seconds_between(row["started_at"], ended))
        if own_answer:
            changes.update(_talk(row, answered, ended, event.call_duration))
    return changes


def _talk(row: Row, answered: datetime | None, ended: datetime,
          call_duration: int | None) -> dict[str, Any]:
    if answered is None and call_duration:
        # The "answered" callback is late or lost; Twilio's CallDuration runs answer → end.
        answered = max(row["started_at"], ended - timedelta(seconds=call_duration))
        return {"answered_at": answered, "talk_seconds": call_duration}
    if answered is None:
        return {"talk_seconds": 0}
    talk = call_duration if call_duration is not None else seconds_between(answered, ended)
    return {"talk_seconds": talk}


def parent_changes(parent: Row, child: Row) -> dict[str, Any]:
    """What a child leg tells its call record: who answered, when, and how long they talked.

    Only blanks are filled, and only from the first child that answered, so a repeated or
    late child event changes nothing.
    """
    answered = child["answered_at"]
    if answered is None or child["leg"] not in ("agent", "customer", "external"):
        return {}
    changes: dict[str, Any] = {}
    if parent["answered_at"] is None:
        changes["answered_at"] = answered
        if parent["direction"] == "inbound" and child["agent_id"] and not parent["agent_id"]:
            changes["agent_id"] = child["agent_id"]
    first = changes.get("answered_at", parent["answered_at"])
    if first == answered and parent["talk_seconds"] is None and child["talk_seconds"] is not None:
        changes["talk_seconds"] = child["talk_seconds"]
    return changes


def dial_changes(parent: Row, dial: Mapping[str, str], at: datetime) -> dict[str, Any]:
    """What a ``<Dial>`` action's parameters tell a call record whose dialed legs never
    reported (used only when finalizing such a call late)."""
    duration = dial.get("DialCallDuration", "")
    if dial.get("DialCallStatus") not in ("completed", "answered") or not duration.isdigit() \
            or not int(duration):
        return {}
    changes: dict[str, Any] = {}
    if parent["answered_at"] is None:
        changes["answered_at"] = max(parent["started_at"], at - timedelta(seconds=int(duration)))
    if parent["talk_seconds"] is None:
        changes["talk_seconds"] = int(duration)
    return changes


def ready_to_finalize(parent: Row, children: Iterable[Row]) -> bool:
    """Final when the call record has ended, every dialed leg has reported, and all ended.

    ``expected_legs`` counts the legs our TwiML dialed, so a call record ending before its
    legs' callbacks arrive waits for them.
    """
    children = list(children)
    return (is_terminal(parent["status"]) and len(children) >= parent["expected_legs"]
            and all(is_terminal(c["status"]) for c in children))


def final_outcome(parent: Row, children: Iterable[Row]) -> str:
    """The business outcome of an ended call.

    Inbound: ``answered`` (an agent), ``forwarded`` (an outside number, CF-8), ``voicemail``,
    ``ivr`` (a flow ended it without an agent), ``abandoned`` (the caller hung up while a
    group rang), ``missed``, or the refusals decided at once (``rejected``, ``unconfigured``,
    ``channel_limit``: the number had no free channel and no overflow route).
    Outbound: ``answered``, ``busy``, ``no_answer``, ``failed``, ``canceled`` (the agent gave up) or
    ``refused`` (CF-12, CF-9).
    """
    if parent["outcome"] in DECIDED_OUTCOMES:
        return parent["outcome"]
    children = list(children)
    if parent["answered_at"] is not None:
        bridged = [c for c in children if c["answered_at"] == parent["answered_at"]]
        if parent["direction"] == "inbound" and bridged and bridged[0]["leg"] == "external":
            return "forwarded"
        return "answered"
    if parent["direction"] == "inbound":
        return _unanswered_inbound(parent)
    dialed = [c for c in children if c["leg"] == "customer"]
    if not dialed:
        return "canceled"
    return _UNANSWERED.get(dialed[-1]["status"], "failed")


#: Provisional outcomes an unanswered inbound call keeps: the flow's IVR ended it (``ivr``,
#: set by ``connector.flows.runner``), a voicemail, or a queue that reported the hang-up.
KEPT_INBOUND = frozenset({"voicemail", "ivr", "abandoned"})


def _unanswered_inbound(parent: Row) -> str:
    """``abandoned`` when the caller hung up while a group rang for them: the plan that rang
    it left the outcome open (``""``); ``missed`` for everything else unanswered — nobody
    available (its plan says ``missed``), or a single agent who did not answer."""
    provisional = parent["outcome"]
    if provisional in KEPT_INBOUND:
        return provisional
    if provisional == "" and parent.get("group_id") is not None:
        return "abandoned"
    return "missed"


_UNANSWERED = {"busy": "busy", "no-answer": "no_answer", "failed": "failed",
               "canceled": "canceled"}
