"""Call flows: a small graph of nodes behind a phone number (SPEC CF-1…CF-4, CF-7, CF-8).

Pure logic, no Flask: :mod:`.model` (nodes and their fields), :mod:`.tomlio` (the TOML form
admins keep in git), :mod:`.check` (what ``cti flow check`` rejects), :mod:`.calendar`
(business hours, Japanese public holidays, company days), :mod:`.engine` (which node a call
is at and what the caller hears next) and :mod:`.render` (the TwiML of that). The webhooks
that run flows live in ``connector.flows``; see ``docs/call-flows.md``.
"""

from voice.flows.model import KINDS, Flow, FlowError, Node, Problem

__all__ = ["KINDS", "Flow", "FlowError", "Node", "Problem"]
