"""Agent presence (SPEC SP-6) and admin-defined stop statuses.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "stop_statuses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("icon", sa.String(50), nullable=False, server_default=""),
        sa.Column("color", sa.String(16), nullable=False, server_default=""),
        sa.Column("sort_order", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", name="uq_stop_statuses_name"),
    )
    op.create_table(
        "agent_presence",
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="offline"),
        sa.Column("stop_status_id", sa.Integer,
                  sa.ForeignKey("stop_statuses.id", ondelete="SET NULL")),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("device_id", sa.String(64)),
        sa.Column("device_seen_at", UTCDateTime),
        sa.CheckConstraint(
            "status IN ('available', 'ringing', 'on_call', 'hold', 'away', 'acw', 'paused', "
            "'offline')", name="status"),
    )
