"""seat data: users, sources, memberships, group shares, billable members, snapshots, seat figures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:22:41.984141
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gitlab_user",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("gitlab_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("public_email", sa.String(length=320), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("user_type", sa.String(length=32), nullable=False),
        sa.Column("last_activity_on", sa.Date(), nullable=True),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('active', 'blocked', 'deactivated', 'banned', 'pending_approval')",
            name="state_known",
        ),
        sa.CheckConstraint(
            "user_type IN ('human', 'bot', 'service_account', 'internal')", name="user_type_known"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("gitlab_id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "billable_member",
        sa.Column("namespace_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("access_level", sa.SmallInteger(), nullable=False),
        sa.Column("membership_type", sa.String(length=16), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("public_email", sa.String(length=320), nullable=True),
        sa.Column("last_activity_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "membership_type IN ('group_member', 'project_member', 'group_invite', 'project_invite')",
            name="membership_type_known",
        ),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["namespace.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["gitlab_user.id"],
        ),
        sa.PrimaryKeyConstraint("namespace_id", "user_id"),
    )
    op.create_index(
        "billable_member_by_joined",
        "billable_member",
        ["namespace_id", "joined_at", "user_id"],
        unique=False,
    )
    op.create_index(
        "billable_member_by_level",
        "billable_member",
        ["namespace_id", "access_level", "user_id"],
        unique=False,
    )
    op.create_index(
        "billable_member_by_name",
        "billable_member",
        ["namespace_id", "name", "user_id"],
        unique=False,
    )
    op.create_index("billable_member_user", "billable_member", ["user_id"], unique=False)
    # written by hand: autogenerate skips expression indexes (db.engine.include_object)
    op.create_index(
        "billable_member_by_activity",
        "billable_member",
        [
            "namespace_id",
            sa.literal_column("coalesce(last_activity_on, DATE '0001-01-01')"),
            "user_id",
        ],
        unique=False,
    )
    op.create_table(
        "seat_snapshot",
        sa.Column("namespace_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("billable", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["namespace.id"],
        ),
        sa.PrimaryKeyConstraint("namespace_id", "day"),
    )
    op.create_table(
        "source",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("gitlab_id", sa.BigInteger(), nullable=False),
        sa.Column("full_path", sa.String(length=1000), nullable=False),
        sa.Column("namespace_id", sa.BigInteger(), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("kind IN ('group', 'project')", name="kind_known"),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["namespace.id"],
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "gitlab_id"),
    )
    op.create_index(op.f("ix_source_namespace_id"), "source", ["namespace_id"], unique=False)
    op.create_table(
        "group_share",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("shared_group_id", sa.BigInteger(), nullable=False),
        sa.Column("target_source_id", sa.BigInteger(), nullable=False),
        sa.Column("access_level", sa.SmallInteger(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "access_level IN (5, 10, 15, 20, 30, 40, 50)", name="access_level_known"
        ),
        sa.ForeignKeyConstraint(
            ["shared_group_id"],
            ["source.id"],
        ),
        sa.ForeignKeyConstraint(
            ["target_source_id"],
            ["source.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("target_source_id", "shared_group_id"),
    )
    op.create_index(
        op.f("ix_group_share_shared_group_id"), "group_share", ["shared_group_id"], unique=False
    )
    op.create_table(
        "membership",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("access_level", sa.SmallInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("invite_pending", sa.Boolean(), nullable=False),
        sa.Column("access_request", sa.Boolean(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('active', 'awaiting')", name="state_known"),
        sa.CheckConstraint(
            "access_level IN (5, 10, 15, 20, 30, 40, 50)", name="access_level_known"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["gitlab_user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "user_id"),
    )
    op.create_index(op.f("ix_membership_user_id"), "membership", ["user_id"], unique=False)
    op.add_column(
        "namespace", sa.Column("seats_in_use", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "subscription",
        sa.Column("max_seats_used", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("subscription", "max_seats_used")
    op.drop_column("namespace", "seats_in_use")
    op.drop_index(op.f("ix_membership_user_id"), table_name="membership")
    op.drop_table("membership")
    op.drop_index(op.f("ix_group_share_shared_group_id"), table_name="group_share")
    op.drop_table("group_share")
    op.drop_index(op.f("ix_source_namespace_id"), table_name="source")
    op.drop_table("source")
    op.drop_table("seat_snapshot")
    op.drop_index("billable_member_user", table_name="billable_member")
    op.drop_index("billable_member_by_activity", table_name="billable_member")
    op.drop_index("billable_member_by_name", table_name="billable_member")
    op.drop_index("billable_member_by_level", table_name="billable_member")
    op.drop_index("billable_member_by_joined", table_name="billable_member")
    op.drop_table("billable_member")
    op.drop_table("gitlab_user")
