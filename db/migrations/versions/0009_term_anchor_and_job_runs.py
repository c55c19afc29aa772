"""term anchor day and daily job runs: monthly terms keep their first start's day
(2026-01-31 -> 02-28 -> 03-31), and the days the daily job ran for (a run for an earlier
day than the latest is refused)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("subscription", sa.Column("anchor_day", sa.SmallInteger(), nullable=True))
    op.create_check_constraint("anchor_day_of_month", "subscription", "anchor_day BETWEEN 1 AND 31")
    op.create_table(
        "job_run",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("runs", sa.Integer(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )


def downgrade() -> None:
    op.drop_table("job_run")
    op.drop_constraint("anchor_day_of_month", "subscription", type_="check")
    op.drop_column("subscription", "anchor_day")
