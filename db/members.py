"""Reads of a namespace's members: pages of billable members, a user's memberships, totals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, literal_column, or_, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.tables import BillableMember, GitlabUser

# Core tables, not ORM entities: a page reads plain rows into the records below
_MEMBER: Table = BillableMember.__table__  # type: ignore[attr-defined]
_USER: Table = GitlabUser.__table__  # type: ignore[attr-defined]

SORT_KEYS: dict[str, Any] = {
    "name": _MEMBER.c.name,
    "joined_at": _MEMBER.c.joined_at,
    "access_level": _MEMBER.c.access_level,
    # the same expression as the index billable_member_by_activity, so the index serves it
    "last_activity_on": func.coalesce(
        _MEMBER.c.last_activity_on, literal_column("DATE '0001-01-01'")
    ),
}


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A row of gitlab_user, read alongside the rows that show it."""

    id: int
    gitlab_id: int
    username: str
    name: str
    public_email: str | None
    state: str
    user_type: str
    last_activity_on: date | None
    last_sign_in_at: datetime | None


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A row of billable_member with the value it sorts by (the cursor's key) and, when the
    page asked for it, the member's user."""

    namespace_id: int
    user_id: int
    access_level: int
    membership_type: str
    joined_at: datetime
    username: str
    name: str
    public_email: str | None
    last_activity_on: date | None
    sort_value: Any
    user: UserRecord | None


_MEMBER_COLUMNS = [
    _MEMBER.c[f]
    for f in (
        "namespace_id",
        "user_id",
        "access_level",
        "membership_type",
        "joined_at",
        "username",
        "name",
        "public_email",
        "last_activity_on",
    )
]
_USER_COLUMNS = [_USER.c[f] for f in UserRecord.__dataclass_fields__]


async def billable_members_page(
    session: AsyncSession,
    namespace_id: int,
    *,
    key: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
    search: str | None,
    with_users: bool = False,
) -> list[MemberRecord]:
    """One keyset page of a namespace's billable members ordered by `key` then user id
    (both descending, or both ascending), after the cursor `(key value, user id)`, in one
    statement; `with_users` joins each member's gitlab_user row into `MemberRecord.user`."""
    shape = (key, descending, after is not None, bool(search), with_users)
    statement = _PAGES.get(shape)
    if statement is None:
        statement = _PAGES[shape] = _page_statement(*shape)
    parameters: dict[str, Any] = {"namespace": namespace_id, "limit": limit}
    if search:
        parameters["pattern"] = _pattern(search)
    if after is not None:
        parameters["after_value"], parameters["after_user"] = after
    rows = await session.execute(statement, parameters)
    return [_member_record(row, with_users) for row in rows.all()]


# one statement per shape of page, built once (see db.batch)
_PAGES: dict[tuple[str, bool, bool, bool, bool], Any] = {}


def _page_statement(key: str, descending: bool, after: bool, search: bool, with_users: bool) -> Any:
    sort = SORT_KEYS[key]
    user = _MEMBER.c.user_id
    columns = [*_MEMBER_COLUMNS, sort, *(_USER_COLUMNS if with_users else ())]
    source = _MEMBER.join(_USER, _USER.c.id == user) if with_users else _MEMBER
    query = (
        select(*columns).select_from(source).where(_MEMBER.c.namespace_id == bindparam("namespace"))
    )
    if search:
        query = query.where(_matching(bindparam("pattern")))
    if after:
        position = tuple_(sort, user)
        cursor = tuple_(bindparam("after_value", type_=sort.type), bindparam("after_user"))
        query = query.where(position < cursor if descending else position > cursor)
    order = (sort.desc(), user.desc()) if descending else (sort.asc(), user.asc())
    return query.order_by(*order).limit(bindparam("limit"))


def _pattern(search: str) -> str:
    """The LIKE pattern of values containing `search` (its wildcards taken literally)."""
    return "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matching(pattern: Any) -> Any:
    """Members whose username, name or public email matches `pattern` (case-insensitive)."""
    return or_(
        _MEMBER.c.username.ilike(pattern),
        _MEMBER.c.name.ilike(pattern),
        _MEMBER.c.public_email.ilike(pattern),
    )


async def count_matching_members(session: AsyncSession, namespace_id: int, search: str) -> int:
    """How many of the namespace's billable members match `search`, in one statement."""
    query = (
        select(func.count())
        .select_from(_MEMBER)
        .where(_MEMBER.c.namespace_id == namespace_id, _matching(_pattern(search)))
    )
    return int((await session.execute(query)).scalar_one())


def _member_record(values: Sequence[Any], with_user: bool) -> MemberRecord:
    width = len(_MEMBER_COLUMNS) + 1  # the member's columns and the sort value
    user = UserRecord(*values[width:]) if with_user else None
    return MemberRecord(*(*values[:width], user))


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


async def user_by_gitlab_id(session: AsyncSession, gitlab_id: int) -> GitlabUser | None:
    query = select(GitlabUser).where(col(GitlabUser.gitlab_id) == gitlab_id)
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
