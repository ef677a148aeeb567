"""Campaigns, contacts, attempts and do-not-call marks in the database.

State changes of a contact are conditional updates (``… WHERE state = 'pending'``), so two
processes ticking at once can never both take one contact: the loser's update changes no row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from voice.campaigns.calllist import Row
from voice.campaigns.settings import CampaignSettings, from_stored

from ..schema import agents, campaign_attempts, campaign_contacts, campaigns, do_not_call

STATUSES = ("draft", "running", "paused", "stopped", "completed")
#: Contact states that no longer change by themselves.
OPEN_STATES = ("pending", "dialing", "preview", "wrapup")


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    status: str
    settings: CampaignSettings
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "status": self.status,
                "settings": self.settings.public(), "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}


def _campaign(row: Any) -> Campaign:
    return Campaign(row.id, row.name, row.status, from_stored(row.settings), row.created_at,
                    row.updated_at)


# --- campaigns ------------------------------------------------------------------------------

def create(conn: Connection, name: str, settings: CampaignSettings, *, now: datetime,
           by: int | None) -> Campaign:
    campaign_id = conn.execute(insert(campaigns).values(
        name=name, status="draft", settings=settings.public(), created_at=now, updated_at=now,
        created_by=by)).inserted_primary_key[0]
    found = get(conn, campaign_id)
    assert found is not None
    return found


def get(conn: Connection, campaign_id: int) -> Campaign | None:
    row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).first()
    return _campaign(row) if row else None


def by_name(conn: Connection, name: str) -> Campaign | None:
    row = conn.execute(select(campaigns).where(campaigns.c.name == name)).first()
    return _campaign(row) if row else None


def all_campaigns(conn: Connection, status: str | None = None) -> list[Campaign]:
    query = select(campaigns).order_by(campaigns.c.id)
    if status:
        query = query.where(campaigns.c.status == status)
    return [_campaign(r) for r in conn.execute(query)]


def change(conn: Connection, campaign_id: int, *, now: datetime, name: str | None = None,
           settings: CampaignSettings | None = None, status: str | None = None) -> None:
    values: dict[str, Any] = {"updated_at": now}
    if name is not None:
        values["name"] = name
    if settings is not None:
        values["settings"] = settings.public()
    if status is not None:
        values["status"] = status
    conn.execute(update(campaigns).where(campaigns.c.id == campaign_id).values(**values))


def remove(conn: Connection, campaign_id: int) -> None:
    conn.execute(delete(campaign_attempts).where(campaign_attempts.c.campaign_id == campaign_id))
    conn.execute(delete(campaign_contacts).where(campaign_contacts.c.campaign_id == campaign_id))
    conn.execute(delete(campaigns).where(campaigns.c.id == campaign_id))


# --- contacts -------------------------------------------------------------------------------

def numbers_of(conn: Connection, campaign_id: int) -> set[str]:
    return set(conn.execute(select(campaign_contacts.c.e164).where(
        campaign_contacts.c.campaign_id == campaign_id)).scalars())


def add_contacts(conn: Connection, campaign_id: int, rows: Sequence[Row], *, now: datetime
                 ) -> int:
    if rows:
        conn.execute(insert(campaign_contacts), [{
            "campaign_id": campaign_id, "line": r.line, "e164": r.e164, "display": r.display,
            "name": r.name, "company": r.company, "crm_id": r.crm_id, "note": r.note,
            "extra": dict(r.extra) or None, "state": "pending", "attempts": 0, "due_at": now,
            "updated_at": now} for r in rows])
    return len(rows)


def contact(conn: Connection, contact_id: int) -> Any:
    return conn.execute(select(campaign_contacts).where(
        campaign_contacts.c.id == contact_id)).first()


def contacts(conn: Connection, campaign_id: int, *, state: str | None = None,
             limit: int = 100, after_id: int = 0) -> list[Any]:
    query = select(campaign_contacts).where(campaign_contacts.c.campaign_id == campaign_id,
                                            campaign_contacts.c.id > after_id)
    if state:
        query = query.where(campaign_contacts.c.state == state)
    return list(conn.execute(query.order_by(campaign_contacts.c.id).limit(limit)))


def due_contacts(conn: Connection, campaign_id: int, agent_ids: Sequence[int], now: datetime,
                 limit: int) -> list[Any]:
    """Pending contacts due now that one of ``agent_ids`` may take (their recalls, or
    nobody's): up to ``limit`` recalls first, then up to ``limit`` of the earliest due.

    Two queries, each walking an index in order and stopping at ``limit`` — one ``OR`` with a
    mixed ``ORDER BY`` would sort every due contact of a 100,000-contact list instead
    (``bench/campaign.py``).
    """
    c = campaign_contacts.c
    columns = (c.id, c.owner_agent_id, c.recall_at, c.due_at)
    owners = or_(c.owner_agent_id.is_(None), c.owner_agent_id.in_(list(agent_ids)))
    recalls = list(conn.execute(select(*columns).where(
        c.campaign_id == campaign_id, c.state == "pending", c.recall_at <= now, owners
    ).order_by(c.recall_at, c.id).limit(limit)))
    shared = list(conn.execute(select(*columns).where(
        c.campaign_id == campaign_id, c.state == "pending", c.due_at <= now,
        c.owner_agent_id.is_(None), c.recall_at.is_(None)
    ).order_by(c.due_at, c.id).limit(limit)))
    # Not cut to ``limit`` together: one agent's many recalls must not crowd out the shared
    # contacts the other agents need.
    return recalls + shared


def take(conn: Connection, contact_id: int, state: str, agent_id: int | None, now: datetime
         ) -> bool:
    """Move a pending contact to ``state`` for the agent; False if someone took it first."""
    done = conn.execute(update(campaign_contacts).where(
        campaign_contacts.c.id == contact_id, campaign_contacts.c.state == "pending").values(
        state=state, owner_agent_id=agent_id, updated_at=now))
    return done.rowcount == 1


def settle(conn: Connection, contact_id: int, *, state: str, now: datetime,
           due: datetime | None = None, result: str | None = None, attempts: int | None = None,
           owner_agent_id: int | None | str = "keep", recall_at: datetime | None | str = "keep",
           agent_note: str | None = None, from_states: Iterable[str] = OPEN_STATES) -> bool:
    values: dict[str, Any] = {"state": state, "updated_at": now}
    if due is not None:
        values["due_at"] = due
    if result is not None:
        values["result"] = result
    if attempts is not None:
        values["attempts"] = attempts
    if owner_agent_id != "keep":
        values["owner_agent_id"] = owner_agent_id
    if recall_at != "keep":
        values["recall_at"] = recall_at
    if agent_note is not None:
        values["agent_note"] = agent_note
    done = conn.execute(update(campaign_contacts).where(
        campaign_contacts.c.id == contact_id,
        campaign_contacts.c.state.in_(list(from_states))).values(**values))
    return done.rowcount == 1


def open_count(conn: Connection, campaign_id: int) -> int:
    return conn.execute(select(func.count()).select_from(campaign_contacts).where(
        campaign_contacts.c.campaign_id == campaign_id,
        campaign_contacts.c.state.in_(OPEN_STATES))).scalar_one()


def stop_contacts(conn: Connection, campaign_id: int, now: datetime) -> int:
    """A stopped campaign: every contact still waiting ends with 停止."""
    done = conn.execute(update(campaign_contacts).where(
        campaign_contacts.c.campaign_id == campaign_id,
        campaign_contacts.c.state.in_(("pending", "preview"))).values(
        state="done", result="stopped", updated_at=now))
    return done.rowcount


def recalls(conn: Connection, agent_id: int) -> list[Any]:
    """再コール一覧: the agent's own recalls (and the campaigns' shared ones), soonest first."""
    query = select(campaign_contacts, campaigns.c.name.label("campaign_name")).join(
        campaigns, campaigns.c.id == campaign_contacts.c.campaign_id).where(
        campaign_contacts.c.state == "pending", campaign_contacts.c.recall_at.is_not(None),
        or_(campaign_contacts.c.owner_agent_id == agent_id,
            campaign_contacts.c.owner_agent_id.is_(None)))
    return list(conn.execute(query.order_by(campaign_contacts.c.recall_at)))


# --- attempts -------------------------------------------------------------------------------

def open_attempt(conn: Connection, campaign_id: int, contact_id: int, agent_id: int | None,
                 number: int, now: datetime) -> int:
    return conn.execute(insert(campaign_attempts).values(
        campaign_id=campaign_id, contact_id=contact_id, agent_id=agent_id, number=number,
        started_at=now)).inserted_primary_key[0]


def attempt(conn: Connection, attempt_id: int) -> Any:
    return conn.execute(select(campaign_attempts).where(
        campaign_attempts.c.id == attempt_id)).first()


def attempt_by_call(conn: Connection, call_sid: str) -> Any:
    return conn.execute(select(campaign_attempts).where(
        campaign_attempts.c.call_sid == call_sid)).first()


def change_attempt(conn: Connection, attempt_id: int, *, only_open: bool = False,
                   **values: Any) -> bool:
    query = update(campaign_attempts).where(campaign_attempts.c.id == attempt_id)
    if only_open:
        query = query.where(campaign_attempts.c.result == "")
    return conn.execute(query.values(**values)).rowcount == 1


def in_flight(conn: Connection, campaign_id: int) -> int:
    return conn.execute(select(func.count()).select_from(campaign_contacts).where(
        campaign_contacts.c.campaign_id == campaign_id,
        campaign_contacts.c.state == "dialing")).scalar_one()


def last_attempt(conn: Connection, contact_id: int) -> Any:
    return conn.execute(select(campaign_attempts).where(
        campaign_attempts.c.contact_id == contact_id).order_by(
        campaign_attempts.c.id.desc()).limit(1)).first()


# --- do not call ----------------------------------------------------------------------------

def mark_do_not_call(conn: Connection, e164: str, note: str, *, now: datetime,
                     by: int | None) -> bool:
    if conn.execute(select(do_not_call.c.e164).where(do_not_call.c.e164 == e164)).first():
        return False
    conn.execute(insert(do_not_call).values(e164=e164, note=note[:200], created_at=now,
                                            created_by=by))
    return True


def unmark_do_not_call(conn: Connection, e164: str) -> bool:
    return conn.execute(delete(do_not_call).where(do_not_call.c.e164 == e164)).rowcount == 1


def is_do_not_call(conn: Connection, e164: str) -> bool:
    return conn.execute(select(do_not_call.c.e164).where(
        do_not_call.c.e164 == e164)).first() is not None


def do_not_call_numbers(conn: Connection) -> set[str]:
    return set(conn.execute(select(do_not_call.c.e164)).scalars())


def do_not_call_list(conn: Connection) -> list[Any]:
    return list(conn.execute(select(do_not_call).order_by(do_not_call.c.created_at)))


def end_do_not_call_contacts(conn: Connection, e164: str, now: datetime) -> int:
    """A number marked do-not-call: its waiting contacts in every campaign end now."""
    return conn.execute(update(campaign_contacts).where(
        campaign_contacts.c.e164 == e164, campaign_contacts.c.state == "pending").values(
        state="done", result="do_not_call", updated_at=now)).rowcount


def agent_ids(conn: Connection, usernames: Sequence[str]) -> dict[str, int]:
    if not usernames:
        return {}
    return {r.username: r.id for r in conn.execute(select(agents.c.username, agents.c.id).where(
        agents.c.username.in_(list(usernames)), agents.c.active.is_(True)))}


def set_last_call(conn: Connection, contact_id: int, call_sid: str, now: datetime) -> None:
    conn.execute(update(campaign_contacts).where(campaign_contacts.c.id == contact_id).values(
        last_call_sid=call_sid, updated_at=now))


def contacts_of_agent(conn: Connection, campaign_id: int, agent_id: int, state: str
                      ) -> list[Any]:
    return list(conn.execute(select(campaign_contacts).where(
        campaign_contacts.c.campaign_id == campaign_id, campaign_contacts.c.state == state,
        campaign_contacts.c.owner_agent_id == agent_id).order_by(campaign_contacts.c.id)))


def working_contact(conn: Connection, agent_id: int) -> Any:
    """The contact the agent works on now — in preview, being dialed for them, or waiting for
    their result — the latest first (an agent has one at a time; a second would be a race
    the newest wins)."""
    c = campaign_contacts.c
    return conn.execute(select(campaign_contacts).where(
        c.owner_agent_id == agent_id, c.state.in_(("preview", "dialing", "wrapup"))
    ).order_by(c.updated_at.desc(), c.id.desc()).limit(1)).first()


def expire_wrapups(conn: Connection, campaign_id: int, before: datetime, now: datetime) -> int:
    """Talked-to contacts whose agent never entered a result end as 未入力 (``no_result``)."""
    return conn.execute(update(campaign_contacts).where(
        campaign_contacts.c.campaign_id == campaign_id, campaign_contacts.c.state == "wrapup",
        campaign_contacts.c.updated_at < before).values(
        state="done", result="no_result", updated_at=now)).rowcount
