"""Supervisor monitoring: one row per mode stretch of a supervisor on a call (SPEC CF-11).

The placeholder table ``acd_supervision`` (0009, never written) gives way to it.

Revision ID: 0012_monitor
Revises: 0012_sms_links
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0012_monitor"
down_revision = "0012_sms_links"


def upgrade() -> None:
    op.create_table(
        "monitor_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("supervisor_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("supervisor", sa.String(64), nullable=False, server_default=""),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("call_sid", sa.String(34), nullable=False),
        sa.Column("supervisor_call_sid", sa.String(34), nullable=False, server_default=""),
        sa.Column("joined_from", sa.String(80), nullable=False, server_default=""),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("end_reason", sa.String(32), nullable=False, server_default=""),
        sa.CheckConstraint("mode IN ('monitor', 'whisper', 'barge')", name="mode"),
    )
    op.create_index("ix_monitor_sessions_started", "monitor_sessions", ["started_at"])
    op.create_index("ix_monitor_sessions_leg", "monitor_sessions", ["supervisor_call_sid"])
    op.drop_index("ix_acd_supervision_started", "acd_supervision")
    op.drop_table("acd_supervision")


def downgrade() -> None:
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
    op.drop_index("ix_monitor_sessions_leg", "monitor_sessions")
    op.drop_index("ix_monitor_sessions_started", "monitor_sessions")
    op.drop_table("monitor_sessions")
