"""Supervisor and admin console: permissions, settings, audit log, statistics indexes.

Revision ID: 0010_console
Revises: 0009_acd
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0010_console"
down_revision = "0009_acd"


def upgrade() -> None:
    op.create_table(
        "console_permissions",
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("screen", sa.String(32), primary_key=True),
        sa.Column("action", sa.String(16), primary_key=True),
        sa.Column("allowed", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
    )
    op.create_table(
        "console_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("actor", sa.String(64), nullable=False, server_default=""),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False, server_default=""),
        sa.Column("details", sa.JSON),
        sa.Column("ip", sa.String(64), nullable=False, server_default=""),
        sa.Column("user_agent", sa.String(255), nullable=False, server_default=""),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_calls_group_started", "calls", ["group_id", "started_at"])
    op.create_index("ix_calls_number_started", "calls", ["our_number", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_number_started", "calls")
    op.drop_index("ix_calls_group_started", "calls")
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    op.drop_table("console_settings")
    op.drop_table("console_permissions")
