"""Short URLs of SMS (SPEC SM-1): one row per link, counting clicks.

Revision ID: 0012_sms_links
Revises: 0011_campaigns
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0012_sms_links"
down_revision = "0011_campaigns"


def upgrade() -> None:
    op.create_table(
        "sms_links",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("message_id", sa.Integer,
                  sa.ForeignKey("sms_messages.id", ondelete="CASCADE")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("clicks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_clicked_at", UTCDateTime),
    )
    op.create_index("ix_sms_links_message_id", "sms_links", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_sms_links_message_id", "sms_links")
    op.drop_table("sms_links")
