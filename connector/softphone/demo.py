"""A demo phone number for a fresh embedded install (``cti serve`` without configuration).

With the demo accounts and the built-in CRM's demo customers, it completes the newcomer's tour
in simulated mode: sign in as ``agent1``, press 模擬着信を発生, and 山田 太郎 (090-1234-5678)
calls the demo number, which rings agent1 — ring, answer, screen pop, after-call work, history.
When agent1 is away or does not answer, the caller is offered voicemail (SPEC CF-7), as a real
support line would.
"""

from __future__ import annotations

from flask import Flask

from .. import clock, db
from ..auth import accounts
from ..builtin_crm.demo import OUR_NUMBER
from ..voice import get_runtime, numbers
from ..voice.numbers import NumberChanges, Route

DEMO_AGENT = "agent1"
DEMO_LABEL = "デモ窓口"


def create_demo_number(app: Flask) -> str | None:
    """Add the demo number routed to the demo agent (voicemail behind), who may call from it.

    Only in simulated mode, only when no number exists yet and the demo agent does.
    Returns the number added, or ``None``.
    """
    if get_runtime(app).mode != "simulator":
        return None
    with db.get_engine(app).begin() as conn:
        if numbers.list_numbers(conn) or accounts.find_agent(conn, DEMO_AGENT) is None:
            return None
        numbers.save_number(conn, OUR_NUMBER, NumberChanges(
            label=DEMO_LABEL, route=Route.parse(f"agent:{DEMO_AGENT}"),
            fallback=Route("voicemail")), now=clock.now(app))
        numbers.grant_caller_id(conn, DEMO_AGENT, OUR_NUMBER, default=True)
    return OUR_NUMBER
