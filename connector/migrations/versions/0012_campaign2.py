"""The agent's campaign contacts by owner (the softphone's campaign panel polls them).

Revision ID: 0012_campaign2
Revises: 0012_monitor
"""

from alembic import op

revision = "0012_campaign2"
down_revision = "0012_monitor"


def upgrade() -> None:
    op.create_index("ix_campaign_contacts_owner", "campaign_contacts",
                    ["owner_agent_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_campaign_contacts_owner", "campaign_contacts")
