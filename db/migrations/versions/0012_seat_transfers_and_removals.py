"""seat data transfers and removals: usernames unique at commit (a batch may swap them), and
an index on source.parent_id to find a group's descendants

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 05:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint("gitlab_user_username_key", "gitlab_user", type_="unique")
    op.create_unique_constraint(
        "gitlab_user_username_key",
        "gitlab_user",
        ["username"],
        deferrable=True,
        initially="DEFERRED",
    )
    op.create_index("source_by_parent", "source", ["parent_id"], unique=False)


def downgrade() -> None:
    op.drop_index("source_by_parent", table_name="source")
    op.drop_constraint("gitlab_user_username_key", "gitlab_user", type_="unique")
    op.create_unique_constraint("gitlab_user_username_key", "gitlab_user", ["username"])
