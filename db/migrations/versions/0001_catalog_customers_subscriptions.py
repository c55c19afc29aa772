"""catalog customers subscriptions

Revision ID: 0001
Revises:
Create Date: 2026-11-24 03:26:02.842671
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "add_on",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("billing_email", sa.String(length=320), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "plan",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("excludes_guests", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("code IN ('free', 'premium', 'ultimate')", name="code_known"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "add_on_price",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("add_on_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("billing_period", sa.String(length=16), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.CheckConstraint("billing_period IN ('monthly', 'annual')", name="billing_period_known"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        sa.CheckConstraint("unit_amount >= 0", name="unit_amount_not_negative"),
        sa.ForeignKeyConstraint(
            ["add_on_id"],
            ["add_on.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("add_on_id", "currency", "billing_period", "valid_from"),
    )
    op.create_index(op.f("ix_add_on_price_add_on_id"), "add_on_price", ["add_on_id"], unique=False)
    op.create_table(
        "instance",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("instance_uid", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_uid"),
    )
    op.create_index(op.f("ix_instance_customer_id"), "instance", ["customer_id"], unique=False)
    op.create_table(
        "namespace",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("path"),
    )
    op.create_index(op.f("ix_namespace_customer_id"), "namespace", ["customer_id"], unique=False)
    op.create_table(
        "price",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("billing_period", sa.String(length=16), nullable=False),
        sa.Column("unit_amount", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.CheckConstraint("billing_period IN ('monthly', 'annual')", name="billing_period_known"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        sa.CheckConstraint("unit_amount >= 0", name="unit_amount_not_negative"),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "currency", "billing_period", "valid_from"),
    )
    op.create_index(op.f("ix_price_plan_id"), "price", ["plan_id"], unique=False)
    op.create_table(
        "subscription",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("namespace_id", sa.BigInteger(), nullable=True),
        sa.Column("instance_id", sa.BigInteger(), nullable=True),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("price_id", sa.BigInteger(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("auto_renew", sa.Boolean(), nullable=False),
        sa.Column("trial", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("status IN ('active', 'cancelled', 'expired')", name="status_known"),
        sa.CheckConstraint(
            "(namespace_id IS NULL) <> (instance_id IS NULL)", name="namespace_xor_instance"
        ),
        sa.CheckConstraint("end_date > start_date", name="term_not_empty"),
        sa.CheckConstraint("seats >= 0", name="seats_not_negative"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["instance.id"],
        ),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["namespace.id"],
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plan.id"],
        ),
        sa.ForeignKeyConstraint(
            ["price_id"],
            ["price.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_subscription_customer_id"), "subscription", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_subscription_plan_id"), "subscription", ["plan_id"], unique=False)
    op.create_index(op.f("ix_subscription_price_id"), "subscription", ["price_id"], unique=False)
    op.create_index(
        "subscription_one_active_per_instance",
        "subscription",
        ["instance_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        "subscription_one_active_per_namespace",
        "subscription",
        ["namespace_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index(
        "subscription_one_active_per_namespace",
        table_name="subscription",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index(
        "subscription_one_active_per_instance",
        table_name="subscription",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index(op.f("ix_subscription_price_id"), table_name="subscription")
    op.drop_index(op.f("ix_subscription_plan_id"), table_name="subscription")
    op.drop_index(op.f("ix_subscription_customer_id"), table_name="subscription")
    op.drop_table("subscription")
    op.drop_index(op.f("ix_price_plan_id"), table_name="price")
    op.drop_table("price")
    op.drop_index(op.f("ix_namespace_customer_id"), table_name="namespace")
    op.drop_table("namespace")
    op.drop_index(op.f("ix_instance_customer_id"), table_name="instance")
    op.drop_table("instance")
    op.drop_index(op.f("ix_add_on_price_add_on_id"), table_name="add_on_price")
    op.drop_table("add_on_price")
    op.drop_table("plan")
    op.drop_table("customer")
    op.drop_table("add_on")
