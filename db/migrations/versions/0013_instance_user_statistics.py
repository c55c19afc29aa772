"""sync_report.user_statistics and instance.user_statistics: GitLab's admin breakdown of an
instance's users, kept per report and, for the latest report, on the instance (null for
reports that carry only the two counts)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 08:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("sync_report", "instance"):
        op.add_column(table, sa.Column("user_statistics", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    for table in ("sync_report", "instance"):
        op.drop_column(table, "user_statistics")
