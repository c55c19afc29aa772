"""drop activation_attempt: wrong activation codes are rate-limited in memory, not counted
in the database (no lockout, and no row an anonymous caller can make us write)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("activation_attempt_by_instance", table_name="activation_attempt")
    op.drop_table("activation_attempt")


def downgrade() -> None:
    op.create_table(
        "activation_attempt",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("instance_uid", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "activation_attempt_by_instance", "activation_attempt", ["instance_uid", "at"], unique=False
    )
