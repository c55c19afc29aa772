"""Set-based SQL for moving and removing groups and projects, users and group shares: one
statement per step, whatever the batch size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# GitLab nests groups at most 20 deep; the bound only keeps a corrupt parent chain finite
_MAX_DEPTH = 100


async def _run(session: AsyncSession, sql: str, **params: Any) -> list[Any]:
    result = await session.execute(text(sql), params)
    return list(result.all()) if result.returns_rows else []  # type: ignore[attr-defined]


async def group_ancestry(
    session: AsyncSession, gitlab_ids: Sequence[int]
) -> dict[int, tuple[int | None, int]]:
    """{GitLab group id: (its parent's GitLab id or None, namespace id)} for these stored
    groups and all their stored ancestors."""
    rows = await _run(
        session,
        """
        WITH RECURSIVE up AS (
            SELECT id, gitlab_id, parent_id, namespace_id FROM source
            WHERE kind = 'group' AND gitlab_id = ANY(:ids)
            UNION  -- not ALL: a cycle in stored rows ends instead of looping
            SELECT p.id, p.gitlab_id, p.parent_id, p.namespace_id
            FROM up JOIN source p ON p.id = up.parent_id
        )
        SELECT up.gitlab_id, parent.gitlab_id, up.namespace_id
        FROM up LEFT JOIN source parent ON parent.id = up.parent_id
        """,
        ids=list(gitlab_ids),
    )
    return {gitlab_id: (parent, namespace) for gitlab_id, parent, namespace in rows}


async def carry_descendants(
    session: AsyncSession, *, kinds: list[str], gitlab_ids: list[int], changed: list[int]
) -> list[tuple[int, int, int]]:
    """Give the descendants of the sources whose path or namespace just `changed` (ids), other
    than the batch's own sources (`kinds`, `gitlab_ids`: they carry what was pushed), their
    ancestor's namespace and a path under its path (GitLab moves a subgroup's subgroups and
    projects with it). Returns (source id, old namespace id, new namespace id) of each
    descendant that changed."""
    rows = await _run(
        session,
        """
        WITH RECURSIVE batch AS (
            SELECT s.id, s.namespace_id, s.full_path FROM source s
            JOIN unnest(CAST(:kinds AS text[]), CAST(:gitlab_ids AS bigint[]))
                 AS x(kind, gitlab_id) ON s.kind = x.kind AND s.gitlab_id = x.gitlab_id
        ),
        tree AS (
            SELECT id, namespace_id, CAST(full_path AS text), 0 AS depth FROM batch
            WHERE id = ANY(:changed)
            UNION ALL
            SELECT c.id, t.namespace_id,
                   t.full_path || '/' || regexp_replace(c.full_path, '^.*/', ''), t.depth + 1
            FROM tree t JOIN source c ON c.parent_id = t.id
            WHERE c.id NOT IN (SELECT id FROM batch) AND t.depth < :max_depth
        )
        UPDATE source s SET namespace_id = t.namespace_id, full_path = t.full_path
        FROM tree t JOIN source old ON old.id = t.id  -- `old`: the row as the statement began
        WHERE s.id = t.id AND t.depth > 0
          AND (s.namespace_id, s.full_path) IS DISTINCT FROM (t.namespace_id, t.full_path)
        RETURNING s.id, old.namespace_id, s.namespace_id
        """,
        kinds=kinds,
        gitlab_ids=gitlab_ids,
        changed=changed,
        max_depth=_MAX_DEPTH,
    )
    return [(source, old, new) for source, old, new in rows]


async def users_reaching_sources(session: AsyncSession, source_ids: Sequence[int]) -> list[int]:
    """Users whose memberships reach these sources: their members, and the members of groups
    invited into them."""
    rows = await _run(
        session,
        """
        SELECT user_id FROM membership WHERE source_id = ANY(:ids)
        UNION
        SELECT m.user_id FROM group_share gs JOIN membership m ON m.source_id = gs.shared_group_id
        WHERE gs.target_source_id = ANY(:ids)
        """,
        ids=list(source_ids),
    )
    return [row[0] for row in rows]


async def subtrees(
    session: AsyncSession, *, kinds: Sequence[str], gitlab_ids: Sequence[int]
) -> list[int]:
    """Ids of these stored sources and all their descendants (those not stored are skipped:
    removing what is gone already removes nothing)."""
    rows = await _run(
        session,
        """
        WITH RECURSIVE tree AS (
            SELECT s.id, 0 AS depth FROM source s
            JOIN unnest(CAST(:kinds AS text[]), CAST(:gitlab_ids AS bigint[]))
                 AS x(kind, gitlab_id) ON s.kind = x.kind AND s.gitlab_id = x.gitlab_id
            UNION ALL
            SELECT c.id, t.depth + 1 FROM tree t JOIN source c ON c.parent_id = t.id
            WHERE t.depth < :max_depth
        )
        SELECT DISTINCT id FROM tree
        """,
        kinds=list(kinds),
        gitlab_ids=list(gitlab_ids),
        max_depth=_MAX_DEPTH,
    )
    return [row[0] for row in rows]


async def delete_sources(session: AsyncSession, source_ids: Sequence[int]) -> int:
    """Delete these sources (whole subtrees: see `subtrees`) with their memberships and every
    group share they give or receive. Returns how many sources went."""
    ids = list(source_ids)
    await _run(session, "DELETE FROM membership WHERE source_id = ANY(:ids)", ids=ids)
    await _run(
        session,
        "DELETE FROM group_share WHERE shared_group_id = ANY(:ids) OR target_source_id = ANY(:ids)",
        ids=ids,
    )
    return len(await _run(session, "DELETE FROM source WHERE id = ANY(:ids) RETURNING id", ids=ids))


async def delete_memberships_of_users(session: AsyncSession, user_ids: Sequence[int]) -> None:
    await _run(session, "DELETE FROM membership WHERE user_id = ANY(:ids)", ids=list(user_ids))


async def delete_users(session: AsyncSession, user_ids: Sequence[int]) -> int:
    """Delete users (their memberships and seats gone already): nothing of them is kept, so
    their username is free and their name and email erased. Seat counts of past days are
    counts, kept in `seat_snapshot` and the subscriptions' peaks."""
    rows = await _run(
        session, "DELETE FROM gitlab_user WHERE id = ANY(:ids) RETURNING id", ids=list(user_ids)
    )
    return len(rows)


async def members_of(session: AsyncSession, source_ids: Sequence[int]) -> list[int]:
    rows = await _run(
        session,
        "SELECT DISTINCT user_id FROM membership WHERE source_id = ANY(:ids)",
        ids=list(source_ids),
    )
    return [row[0] for row in rows]


async def delete_group_shares(
    session: AsyncSession, *, shared_group_ids: Sequence[int], target_source_ids: Sequence[int]
) -> int:
    rows = await _run(
        session,
        """
        DELETE FROM group_share gs
        USING unnest(CAST(:shared AS bigint[]), CAST(:targets AS bigint[])) AS x(shared, target)
        WHERE gs.shared_group_id = x.shared AND gs.target_source_id = x.target
        RETURNING gs.id
        """,
        shared=list(shared_group_ids),
        targets=list(target_source_ids),
    )
    return len(rows)
