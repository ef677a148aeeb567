"""Per-user PIN codes (SPEC AD-1), stored as a hash.

Revision ID: 0013_pin
Revises: 0012_numbers
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_pin"
down_revision = "0012_numbers"


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("pin_hash", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("pin_hash")
