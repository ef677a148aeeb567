"""Softphone call control: held and transferred calls.

Revision ID: 0006_softphone
Revises: 0005_voice
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0006_softphone"
down_revision = "0005_voice"


def upgrade() -> None:
    op.create_table(
        "call_controls",
        sa.Column("call_sid", sa.String(34), primary_key=True),
        sa.Column("customer_call_sid", sa.String(34), nullable=False),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("queue_name", sa.String(64), nullable=False),
        sa.Column("our_number", sa.String(20), nullable=False, server_default=""),
        sa.Column("target_kind", sa.String(16), nullable=False, server_default=""),
        sa.Column("target", sa.String(100), nullable=False, server_default=""),
        sa.Column("target_label", sa.String(100), nullable=False, server_default=""),
        sa.Column("consult_call_sid", sa.String(34)),
        sa.Column("context", sa.JSON),
        sa.Column("last_error", sa.String(200), nullable=False, server_default=""),
        sa.Column("held_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("state IN ('active', 'held', 'consulting', 'transferring', "
                           "'transferred', 'ended')", name="state"),
    )
    op.create_index("ix_call_controls_agent_id", "call_controls", ["agent_id"])
