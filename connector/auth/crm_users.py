"""Which agent is a given CRM user: the reverse of the agent -> CRM user mapping.

An agent's CRM user is the one mapped with ``cti user crm-user AGENT ADAPTER USER``, else the
agent's e-mail address — the same rule ``connector.call_logs`` applies when it names a call
log's owner, so the user who signs in is the user who owns that agent's call logs.
Comparison ignores case (Salesforce usernames and e-mail addresses are case-insensitive).
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from ..schema import agent_crm_users, agents
from . import accounts
from .accounts import Agent


def agents_for_crm_user(conn: Connection, adapter: str, crm_user: str) -> list[Agent]:
    """Every agent (active or not) whose CRM user in ``adapter`` is ``crm_user``."""
    wanted = crm_user.strip().lower()
    if not wanted:
        return []
    mapped_ids = select(agent_crm_users.c.agent_id).where(agent_crm_users.c.adapter == adapter)
    by_mapping = select(agent_crm_users.c.agent_id).where(
        agent_crm_users.c.adapter == adapter, func.lower(agent_crm_users.c.crm_user) == wanted)
    by_email = select(agents.c.id).where(func.lower(agents.c.email) == wanted,
                                         agents.c.id.not_in(mapped_ids))
    ids = sorted({*conn.execute(by_mapping).scalars(), *conn.execute(by_email).scalars()})
    found = [accounts.get_agent(conn, agent_id) for agent_id in ids]
    return [agent for agent in found if agent is not None]
