"""Initial schema: agents, sessions, phone numbers, calls, call events, CRM write-back state.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(15), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("nickname", sa.String(50), nullable=False, server_default=""),
        sa.Column("email", sa.String(254), nullable=False, server_default=""),
        sa.Column("extension", sa.String(10), nullable=False, server_default=""),
        sa.Column("role", sa.String(16), nullable=False, server_default="agent"),
        sa.Column("language", sa.String(8), nullable=False, server_default="ja"),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("previous_password_hash", sa.String(255)),
        sa.Column("password_changed_at", UTCDateTime, nullable=False),
        sa.Column("failed_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("active", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("role IN ('agent', 'supervisor', 'admin')", name="role"),
        sa.UniqueConstraint("username", name="uq_agents_username"),
    )
    op.create_table(
        "auth_sessions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("refresh_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("user_agent", sa.String(255), nullable=False, server_default=""),
    )
    op.create_index("ix_auth_sessions_agent_id", "auth_sessions", ["agent_id"])
    op.create_table(
        "phone_numbers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("e164", sa.String(20), nullable=False),
        sa.Column("label", sa.String(100), nullable=False, server_default=""),
        sa.Column("route_type", sa.String(16), nullable=False, server_default="none"),
        sa.Column("route_target", sa.String(100), nullable=False, server_default=""),
        sa.Column("caller_id_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("recording", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("e164", name="uq_phone_numbers_e164"),
    )
    op.create_table(
        "calls",
        sa.Column("call_sid", sa.String(34), primary_key=True),
        sa.Column("parent_call_sid", sa.String(34)),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("from_number", sa.String(64), nullable=False, server_default=""),
        sa.Column("to_number", sa.String(64), nullable=False, server_default=""),
        sa.Column("customer_number", sa.String(20), nullable=False, server_default=""),
        sa.Column("our_number", sa.String(20), nullable=False, server_default=""),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("answered_at", UTCDateTime),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("duration_seconds", sa.Integer),
        sa.Column("talk_seconds", sa.Integer),
        sa.Column("recording_sid", sa.String(34)),
        sa.Column("recording_duration", sa.Integer),
        sa.Column("disposition", sa.String(100), nullable=False, server_default=""),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("customer", sa.JSON),
        sa.Column("finalized_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
    )
    op.create_index("ix_calls_parent_call_sid", "calls", ["parent_call_sid"])
    op.create_index("ix_calls_agent_id", "calls", ["agent_id"])
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_sid", sa.String(34), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False, server_default=""),
        sa.Column("dedupe_key", sa.String(160), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_call_events_dedupe_key"),
    )
    op.create_index("ix_call_events_call_sid", "call_events", ["call_sid"])
    op.create_table(
        "crm_writebacks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_sid", sa.String(34), nullable=False),
        sa.Column("adapter", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
        sa.Column("written_revision", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=False, server_default=""),
        sa.Column("record_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("call_sid", "adapter", name="uq_crm_writebacks_call_adapter"),
        sa.CheckConstraint("state IN ('pending', 'done', 'failed')", name="state"),
    )
    op.create_index("ix_crm_writebacks_state", "crm_writebacks", ["state", "adapter"])
