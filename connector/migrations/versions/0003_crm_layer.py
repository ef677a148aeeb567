"""CRM layer: local phone index, sync state, chosen records, CRM users, write-back claims.

Revision ID: 0003_crm_layer
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0003_crm_layer"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "phone_index",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("e164", sa.String(20), nullable=False),
        sa.Column("adapter", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False, server_default=""),
        sa.Column("object_type", sa.String(64), nullable=False, server_default=""),
        sa.Column("company", sa.String(255), nullable=False, server_default=""),
        sa.Column("url", sa.String(1000), nullable=False, server_default=""),
        sa.Column("updated_at", sa.String(40), nullable=False, server_default=""),
        sa.Column("synced_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("adapter", "record_id", "e164", name="uq_phone_index_entry"),
    )
    op.create_index("ix_phone_index_e164", "phone_index", ["e164"])
    op.create_table(
        "crm_sync_state",
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("cursor", sa.String(40), nullable=False, server_default=""),
        sa.Column("last_sync_at", UTCDateTime),
        sa.Column("last_full_sync_at", UTCDateTime),
        sa.Column("records_seen", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "number_choices",
        sa.Column("e164", sa.String(20), primary_key=True),
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("chosen_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "agent_crm_users",
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("crm_user", sa.String(255), nullable=False),
    )
    with op.batch_alter_table("crm_writebacks") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(32)))
        batch.add_column(sa.Column("claimed_until", UTCDateTime))
    op.create_index("ix_crm_writebacks_due", "crm_writebacks", ["adapter", "state",
                                                                 "next_attempt_at"])
