"""Outbound campaigns: campaigns, their contacts and attempts, do-not-call marks (SPEC CA-1).

Revision ID: 0011_campaigns
Revises: 0010_console
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0011_campaigns"
down_revision = "0010_console"


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.CheckConstraint("status IN ('draft', 'running', 'paused', 'stopped', 'completed')",
                           name="status"),
    )
    op.create_table(
        "campaign_contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer,
                  sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("line", sa.Integer, nullable=False, server_default="0"),
        sa.Column("e164", sa.String(20), nullable=False),
        sa.Column("display", sa.String(32), nullable=False, server_default=""),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("company", sa.String(200), nullable=False, server_default=""),
        sa.Column("crm_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("extra", sa.JSON),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("owner_agent_id", sa.Integer,
                  sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("recall_at", UTCDateTime),
        sa.Column("result", sa.String(32), nullable=False, server_default=""),
        sa.Column("agent_note", sa.Text, nullable=False, server_default=""),
        sa.Column("last_call_sid", sa.String(34)),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("campaign_id", "e164", name="uq_campaign_contacts_campaign_e164"),
    )
    op.create_index("ix_campaign_contacts_due", "campaign_contacts",
                    ["campaign_id", "state", "due_at"])
    op.create_index("ix_campaign_contacts_recall", "campaign_contacts",
                    ["campaign_id", "state", "recall_at"])
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("campaign_id", sa.Integer,
                  sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
        sa.Column("contact_id", sa.Integer,
                  sa.ForeignKey("campaign_contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("call_sid", sa.String(34), unique=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("answered_at", UTCDateTime),
        sa.Column("bridged_at", UTCDateTime),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("result", sa.String(32), nullable=False, server_default=""),
        sa.Column("talk_seconds", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_campaign_attempts_campaign", "campaign_attempts",
                    ["campaign_id", "started_at"])
    op.create_table(
        "do_not_call",
        sa.Column("e164", sa.String(20), primary_key=True),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
    )


def downgrade() -> None:
    op.drop_table("do_not_call")
    op.drop_index("ix_campaign_attempts_campaign", "campaign_attempts")
    op.drop_table("campaign_attempts")
    op.drop_index("ix_campaign_contacts_recall", "campaign_contacts")
    op.drop_index("ix_campaign_contacts_due", "campaign_contacts")
    op.drop_table("campaign_contacts")
    op.drop_table("campaigns")
