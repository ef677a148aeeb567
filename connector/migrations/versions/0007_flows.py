"""Call flows: flow versions, schedule overrides, announcement audio, voicemail boxes.

Revision ID: 0007_flows
Revises: 0006_softphone
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0007_flows"
down_revision = "0006_softphone"


def upgrade() -> None:
    op.create_table(
        "call_flows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(15), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_call_flows_name_version"),
    )
    op.create_table(
        "flow_overrides",
        sa.Column("flow", sa.String(40), primary_key=True),
        sa.Column("node", sa.String(40), primary_key=True),
        sa.Column("goto", sa.String(40), nullable=False),
        sa.Column("until", UTCDateTime, nullable=False),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_by", sa.String(15), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "flow_audio",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("description", sa.String(200), nullable=False, server_default=""),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", name="uq_flow_audio_name"),
    )
    op.create_table(
        "voicemails",
        sa.Column("call_sid", sa.String(34), primary_key=True),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("node", sa.String(40), nullable=False),
        sa.Column("box", sa.String(100), nullable=False, server_default=""),
        sa.Column("notify", sa.JSON),
        sa.Column("notified_at", UTCDateTime),
        sa.Column("notice_error", sa.String(200), nullable=False, server_default=""),
        sa.Column("handled_at", UTCDateTime),
        sa.Column("handled_by", sa.String(15), nullable=False, server_default=""),
        sa.Column("deleted_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_voicemails_created_at", "voicemails", ["created_at"])
    versions = sa.table("voice_versions", sa.column("name", sa.String),
                        sa.column("version", sa.Integer))
    op.bulk_insert(versions, [{"name": "flows", "version": 0}])


def downgrade() -> None:
    op.execute("DELETE FROM voice_versions WHERE name = 'flows'")
    op.drop_table("voicemails")
    op.drop_table("flow_audio")
    op.drop_table("flow_overrides")
    op.drop_table("call_flows")
