"""Integrations: HTTP templates sent once per call and event; SMS messages and templates.

Revision ID: 0008_integrations
Revises: 0007_flows
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0008_integrations"
down_revision = "0007_flows"


def upgrade() -> None:
    op.create_table(
        "http_template_sent",
        sa.Column("adapter", sa.String(64), primary_key=True),
        sa.Column("call_sid", sa.String(34), primary_key=True),
        sa.Column("event", sa.String(16), primary_key=True),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("claimed_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
    )
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_sid", sa.String(34), unique=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("our_number", sa.String(20), nullable=False),
        sa.Column("customer_number", sa.String(20), nullable=False),
        sa.Column("sender_id", sa.String(20), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("segments", sa.Integer, nullable=False, server_default="1"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(16), nullable=False, server_default=""),
        sa.Column("template", sa.String(64), nullable=False, server_default=""),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("call_sid", sa.String(34)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
    )
    op.create_index("ix_sms_messages_customer_number", "sms_messages", ["customer_number"])
    op.create_index("ix_sms_messages_agent_id", "sms_messages", ["agent_id"])
    op.create_index("ix_sms_messages_created_at", "sms_messages", ["created_at"])
    op.create_table(
        "sms_templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sms_templates")
    op.drop_index("ix_sms_messages_created_at", "sms_messages")
    op.drop_index("ix_sms_messages_agent_id", "sms_messages")
    op.drop_index("ix_sms_messages_customer_number", "sms_messages")
    op.drop_table("sms_messages")
    op.drop_table("http_template_sent")
