"""subscription.plan_changed_on: the day an upgrade took effect, from which the term's peak
and its quarter's reconciliation count under the new plan

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("subscription", sa.Column("plan_changed_on", sa.Date(), nullable=True))


def downgrade() -> None:
    op.drop_column("subscription", "plan_changed_on")
