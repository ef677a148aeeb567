"""Inbound ACD: server-owned presence, status intervals, group ACD settings, skills, supervision.

Revision ID: 0009_acd
Revises: 0008_integrations
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0009_acd"
down_revision = "0008_integrations"


def upgrade() -> None:
    with op.batch_alter_table("agent_presence") as batch:
        batch.add_column(sa.Column("call_sid", sa.String(34)))
        batch.add_column(sa.Column("group_id", sa.Integer))
        batch.add_column(sa.Column("until", UTCDateTime))
        batch.add_column(sa.Column("chosen_status", sa.String(16)))
        batch.add_column(sa.Column("chosen_stop_status_id", sa.Integer))
        batch.add_column(sa.Column("ring_outs", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "agent_status_intervals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stop_status_id", sa.Integer,
                  sa.ForeignKey("stop_statuses.id", ondelete="SET NULL")),
        sa.Column("group_id", sa.Integer, sa.ForeignKey("agent_groups.id", ondelete="SET NULL")),
        sa.Column("call_sid", sa.String(34)),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
    )
    op.create_index("ix_agent_status_intervals_agent_start", "agent_status_intervals",
                    ["agent_id", "started_at"])
    op.create_index("ix_agent_status_intervals_start", "agent_status_intervals",
                    ["started_at"])
    with op.batch_alter_table("agent_groups") as batch:
        batch.add_column(sa.Column("settings", sa.JSON))
    with op.batch_alter_table("agent_group_members") as batch:
        batch.add_column(sa.Column("skill", sa.Integer, nullable=False, server_default="1"))
    op.create_table(
        "acd_supervision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("supervisor_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("call_sid", sa.String(34), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("mode IN ('monitor', 'whisper', 'barge')", name="mode"),
    )
    op.create_index("ix_acd_supervision_started", "acd_supervision", ["started_at"])


def downgrade() -> None:
    op.drop_table("acd_supervision")
    with op.batch_alter_table("agent_group_members") as batch:
        batch.drop_column("skill")
    with op.batch_alter_table("agent_groups") as batch:
        batch.drop_column("settings")
    op.drop_table("agent_status_intervals")
    with op.batch_alter_table("agent_presence") as batch:
        for name in ("ring_outs", "chosen_stop_status_id", "chosen_status", "until", "group_id",
                     "call_sid"):
            batch.drop_column(name)
