"""Built-in CRM (SPEC CR-1): customers, their phone numbers and tags, and their call log.

Revision ID: 0004_builtin_crm
Revises: 0003_crm_layer
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0004_builtin_crm"
down_revision = "0003_crm_layer"


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_kana", sa.String(200), nullable=False, server_default=""),
        sa.Column("company", sa.String(200), nullable=False, server_default=""),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("deleted_at", UTCDateTime),
    )
    op.create_index("ix_customers_updated_at", "customers", ["updated_at", "id"])
    op.create_table(
        "customer_phones",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.Integer,
                  sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("label", sa.String(50), nullable=False, server_default=""),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("e164", sa.String(20), nullable=False),
        sa.UniqueConstraint("customer_id", "e164", name="uq_customer_phones_customer_e164"),
    )
    op.create_index("ix_customer_phones_customer_id", "customer_phones", ["customer_id"])
    op.create_index("ix_customer_phones_e164", "customer_phones", ["e164"])
    op.create_table(
        "customer_tags",
        sa.Column("customer_id", sa.Integer,
                  sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag", sa.String(50), primary_key=True),
    )
    op.create_index("ix_customer_tags_tag", "customer_tags", ["tag"])
    op.create_table(
        "customer_call_logs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("call_sid", sa.String(34), nullable=False),
        sa.Column("customer_id", sa.Integer,
                  sa.ForeignKey("customers.id", ondelete="SET NULL")),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default=""),
        sa.Column("from_number", sa.String(64), nullable=False, server_default=""),
        sa.Column("to_number", sa.String(64), nullable=False, server_default=""),
        sa.Column("customer_number", sa.String(20), nullable=False, server_default=""),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("answered_at", UTCDateTime),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("duration_seconds", sa.Integer, nullable=False, server_default="0"),
        sa.Column("talk_seconds", sa.Integer, nullable=False, server_default="0"),
        sa.Column("agent_username", sa.String(64), nullable=False, server_default=""),
        sa.Column("agent_name", sa.String(200), nullable=False, server_default=""),
        sa.Column("disposition", sa.String(100), nullable=False, server_default=""),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("recording_url", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
        sa.UniqueConstraint("call_sid", name="uq_customer_call_logs_call_sid"),
    )
    op.create_index("ix_customer_call_logs_customer_id", "customer_call_logs", ["customer_id"])
    op.create_index("ix_customer_call_logs_customer_number", "customer_call_logs",
                    ["customer_number"])
    op.create_index("ix_customer_call_logs_started_at", "customer_call_logs", ["started_at"])
