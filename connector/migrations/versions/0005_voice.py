"""Voice: routing and fallbacks of numbers, groups, caller IDs, block/restriction lists,
call outcomes.

Revision ID: 0005_voice
Revises: 0004_builtin_crm
"""

import sqlalchemy as sa
from alembic import op

from connector.schema import UTCDateTime

revision = "0005_voice"
down_revision = "0004_builtin_crm"


def upgrade() -> None:
    op.create_table(
        "agent_groups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("name", name="uq_agent_groups_name"),
    )
    op.create_table(
        "agent_group_members",
        sa.Column("group_id", sa.Integer, sa.ForeignKey("agent_groups.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "agent_caller_ids",
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("phone_number_id", sa.Integer,
                  sa.ForeignKey("phone_numbers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default="0"),
    )
    op.create_table(
        "number_list_rules",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("list_name", sa.String(16), nullable=False),
        sa.Column("pattern", sa.String(40), nullable=False),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_by", sa.Integer, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("list_name", "pattern", name="uq_number_list_rules_list_pattern"),
        sa.CheckConstraint("list_name IN ('block', 'restrict')", name="list_name"),
    )
    versions = op.create_table(
        "voice_versions",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    # One row per cached piece from the start, so a change only ever UPDATEs (no insert race).
    op.bulk_insert(versions, [{"name": name, "version": 0}
                              for name in ("block", "restrict", "routing")])
    with op.batch_alter_table("phone_numbers") as batch:
        batch.add_column(sa.Column("fallback_type", sa.String(16), nullable=False,
                                   server_default="none"))
        batch.add_column(sa.Column("fallback_target", sa.String(100), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("transfer_caller_id", sa.String(20), nullable=False,
                                   server_default=""))
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("leg", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("outcome", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("detail", sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("group_id", sa.Integer))
        batch.add_column(sa.Column("expected_legs", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.create_foreign_key("fk_calls_group_id_agent_groups", "agent_groups",
                                 ["group_id"], ["id"], ondelete="SET NULL")
