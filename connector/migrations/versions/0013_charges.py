"""Call charges (SPEC ST-6): each leg's price as Twilio reports it on its Call resource.

``price`` is Twilio's text as given (negative, e.g. ``-0.01300``), ``charge_micros`` the same
as a positive whole number of millionths of ``price_unit`` (exact sums on SQLite and
PostgreSQL), ``price_status`` where fetching stands: ``""`` not yet, ``priced``, ``unpriced``
(Twilio gave no price within the bound), ``missing`` (Twilio does not know the call).

Revision ID: 0013_charges
Revises: 0013_pin
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0013_charges"
down_revision = "0013_pin"

_COLUMNS = ("price", "price_unit", "charge_micros", "price_status", "price_checked_at")


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("price", sa.String(16)))
        batch.add_column(sa.Column("price_unit", sa.String(3)))
        batch.add_column(sa.Column("charge_micros", sa.BigInteger))
        batch.add_column(sa.Column("price_status", sa.String(12), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("price_checked_at", UTCDateTime))
    op.create_index("ix_calls_price_pending", "calls", ["price_status", "ended_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_price_pending", table_name="calls")
    with op.batch_alter_table("calls") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
