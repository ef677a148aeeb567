"""Per-number settings: max channels and their overflow, ring and answer pop-up URLs (SPEC
CF-1, HT-2).

Revision ID: 0012_numbers
Revises: 0012_campaign2
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_numbers"
down_revision = "0012_campaign2"

_COLUMNS = ("max_channels", "overflow_type", "overflow_target", "ring_popup_url",
            "answer_popup_url")


def upgrade() -> None:
    with op.batch_alter_table("phone_numbers") as batch:
        batch.add_column(sa.Column("max_channels", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("overflow_type", sa.String(16), nullable=False,
                                   server_default="none"))
        batch.add_column(sa.Column("overflow_target", sa.String(100), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("ring_popup_url", sa.String(1000), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("answer_popup_url", sa.String(1000), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("phone_numbers") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
