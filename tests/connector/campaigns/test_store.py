"""The dialing query: recalls first, and one agent's recalls never crowd out the others."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from connector import db
from connector.campaigns import store
from connector.schema import campaign_contacts
from tests.connector.campaigns.conftest import CampaignEnv


def test_due_contacts_recalls_first_without_crowding_out_shared(campaign_env: CampaignEnv):
    env = campaign_env
    sato = env.voice.add_agent("sato")
    campaign = env.create()
    rows = "".join(f"0901111{n:04d}\n" for n in range(10)).encode()
    assert env.upload(campaign["id"], rows).status_code == 200
    now = env.voice.now
    with db.get_engine(env.app).begin() as conn:
        ids = [c.id for c in store.contacts(conn, campaign["id"])]
        # Six recalls of sato (due), one not due yet; three shared contacts.
        conn.execute(update(campaign_contacts).where(campaign_contacts.c.id.in_(ids[:6])).values(
            owner_agent_id=sato.id, recall_at=now - timedelta(minutes=1),
            due_at=now - timedelta(minutes=1)))
        later = now + timedelta(hours=1)
        conn.execute(update(campaign_contacts).where(campaign_contacts.c.id == ids[6]).values(
            owner_agent_id=sato.id, recall_at=later, due_at=later))
        found = store.due_contacts(conn, campaign["id"], [sato.id, 999], now, limit=4)
        nobody = store.due_contacts(conn, campaign["id"], [999], now, limit=4)
    assert [r.id for r in found] == ids[:4] + ids[7:10]
    assert [r.id for r in nobody] == ids[7:10]
