"""sync_report.peak: several reports on one day keep the day's highest count beside the latest

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sync_report", sa.Column("peak", sa.Integer(), nullable=True))
    op.execute("UPDATE sync_report SET peak = billable_users")
    op.alter_column("sync_report", "peak", nullable=False)
    op.create_check_constraint("peak_covers_latest", "sync_report", "peak >= billable_users")


def downgrade() -> None:
    op.drop_constraint("peak_covers_latest", "sync_report", type_="check")
    op.drop_column("sync_report", "peak")
