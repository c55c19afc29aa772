"""Reads of a namespace's members: pages of billable members, a user's memberships, totals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.tables import BillableMember, GitlabUser

SORT_KEYS: dict[str, Any] = {
    "name": col(BillableMember.name),
    "joined_at": col(BillableMember.joined_at),
    "access_level": col(BillableMember.access_level),
    # the same expression as the index billable_member_by_activity, so the index serves it
    "last_activity_on": func.coalesce(
        col(BillableMember.last_activity_on), literal_column("DATE '0001-01-01'")
    ),
}


async def billable_members_page(
    session: AsyncSession,
    namespace_id: int,
    *,
    key: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
    search: str | None,
) -> list[tuple[BillableMember, Any]]:
    """One keyset page of a namespace's billable members ordered by `key` then user id
    (both descending, or both ascending), after the cursor `(key value, user id)`. Returns
    each row with its key value, for the next cursor."""
    sort = SORT_KEYS[key]
    user = col(BillableMember.user_id)
    query = select(BillableMember, sort).where(col(BillableMember.namespace_id) == namespace_id)
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                col(BillableMember.username).ilike(pattern),
                col(BillableMember.name).ilike(pattern),
                col(BillableMember.public_email).ilike(pattern),
            )
        )
    if after is not None:
        position = tuple_(sort, user)
        query = query.where(position < after if descending else position > after)
    order = (sort.desc(), user.desc()) if descending else (sort.asc(), user.asc())
    rows = await session.execute(query.order_by(*order).limit(limit))
    return [(member, value) for member, value in rows.all()]


@dataclass(frozen=True, slots=True)
class ReachingMembership:
    """A membership of a user that reaches a namespace, directly or through an invited group."""

    source_kind: str
    source_path: str
    access_level: int
    state: str
    invite_pending: bool
    access_request: bool
    expires_on: date | None
    created_at: datetime
    shared_group_path: str | None
    share_access_level: int | None
    share_expires_on: date | None


_REACHING = text("""
WITH wanted AS (
    SELECT * FROM unnest(CAST(:namespace_ids AS bigint[]), CAST(:user_ids AS bigint[]))
             AS w(namespace_id, user_id)
)
SELECT w.namespace_id, w.user_id, s.kind, s.full_path, m.access_level, m.state,
       m.invite_pending, m.access_request, m.expires_on, m.created_at,
       NULL AS shared_group_path, NULL::smallint AS share_level, NULL::date AS share_expires
FROM wanted w
JOIN membership m ON m.user_id = w.user_id
JOIN source s ON s.id = m.source_id AND s.namespace_id = w.namespace_id
UNION ALL
SELECT w.namespace_id, w.user_id, t.kind, t.full_path, m.access_level, m.state,
       m.invite_pending, m.access_request, m.expires_on, m.created_at,
       g.full_path, gs.access_level, gs.expires_on
FROM wanted w
JOIN membership m ON m.user_id = w.user_id
JOIN group_share gs ON gs.shared_group_id = m.source_id
JOIN source t ON t.id = gs.target_source_id AND t.namespace_id = w.namespace_id
JOIN source g ON g.id = gs.shared_group_id
ORDER BY 4, 11 NULLS FIRST
""")


async def reaching_memberships(
    session: AsyncSession, keys: Sequence[tuple[int, int]]
) -> list[list[ReachingMembership]]:
    """For each (namespace id, user id), the user's memberships reaching that namespace,
    ordered by path. One statement for all keys."""
    rows = await session.execute(
        _REACHING,
        {"namespace_ids": [k[0] for k in keys], "user_ids": [k[1] for k in keys]},
    )
    found: dict[tuple[int, int], list[ReachingMembership]] = defaultdict(list)
    for namespace_id, user_id, *fields in rows.all():
        found[namespace_id, user_id].append(ReachingMembership(*fields))
    return [found.get(key, []) for key in keys]


async def user_by_username(session: AsyncSession, username: str) -> GitlabUser | None:
    query = select(GitlabUser).where(col(GitlabUser.username) == username)
    return (await session.execute(query)).scalar_one_or_none()


async def users_by_username_or_email(
    session: AsyncSession, usernames: Sequence[str], emails: Sequence[str]
) -> list[GitlabUser]:
    """Users whose username, or public email (case-insensitive), is in the lists."""
    query = select(GitlabUser).where(
        or_(
            col(GitlabUser.username).in_(list(usernames)),
            and_(
                col(GitlabUser.public_email).is_not(None),
                func.lower(col(GitlabUser.public_email)).in_([e.lower() for e in emails]),
            ),
        )
    )
    return list((await session.execute(query)).scalars())


_STATISTICS = text("""
WITH hierarchy AS (SELECT id FROM source WHERE namespace_id = :namespace_id),
reach AS (
    SELECT m.user_id, m.access_level AS level
    FROM hierarchy h JOIN membership m ON m.source_id = h.id
    UNION ALL
    SELECT m.user_id, LEAST(m.access_level, gs.access_level)
    FROM hierarchy h
    JOIN group_share gs ON gs.target_source_id = h.id
    JOIN membership m ON m.source_id = gs.shared_group_id
),
members AS (SELECT user_id, max(level) AS level FROM reach GROUP BY user_id)
SELECT count(*),
       count(*) FILTER (WHERE u.state = 'active'),
       count(*) FILTER (WHERE u.state = 'blocked'),
       count(*) FILTER (WHERE u.state = 'deactivated'),
       count(*) FILTER (WHERE u.state = 'banned'),
       count(*) FILTER (WHERE u.state = 'pending_approval'),
       count(*) FILTER (WHERE u.user_type <> 'human'),
       count(*) FILTER (WHERE u.user_type = 'human' AND m.level = :guest)
FROM members m JOIN gitlab_user u ON u.id = m.user_id
""")


@dataclass(frozen=True, slots=True)
class MemberTotals:
    members: int
    active: int
    blocked: int
    deactivated: int
    banned: int
    pending_approval: int
    bots: int
    guests: int


async def member_totals(session: AsyncSession, namespace_id: int, *, guest: int) -> MemberTotals:
    """Everyone with any membership reaching the namespace, counted once, by state and type;
    `guests` are humans whose highest role there is Guest."""
    row = (await session.execute(_STATISTICS, {"namespace_id": namespace_id, "guest": guest})).one()
    return MemberTotals(*row)
