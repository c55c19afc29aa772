"""Seat counting in SQL: the same rules as `billing.seats`, set-based, for many namespaces.

`billable_member` holds, per namespace, the users who take a seat with their highest counting
membership and the user fields lists sort and search by. Ingestion keeps it current for the
users a batch touches; `refresh_billable_members` without users rebuilds whole namespaces (the
daily job does, as memberships expire with the calendar).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.seats import AccessLevel, MembershipState, UserState, UserType
from billing.subscriptions import SubscriptionStatus

# {users} is replaced by a constant filter: nothing, or a restriction to :user_ids.
_BILLABLE = """
hierarchy AS (
    SELECT id, kind, namespace_id FROM source WHERE namespace_id = ANY(:namespace_ids)
),
-- every membership reaching a hierarchy: direct ones, and those of members of a group
-- invited into a group or project of it (effective level: the lower of the two)
reach AS (
    SELECT h.namespace_id, m.user_id, m.access_level AS level, h.kind, false AS via_share,
           m.created_at, m.state, m.invite_pending, m.access_request, m.expires_on,
           NULL::date AS share_expires_on
    FROM hierarchy h JOIN membership m ON m.source_id = h.id
    WHERE {users}
    UNION ALL
    SELECT h.namespace_id, m.user_id, LEAST(m.access_level, gs.access_level), h.kind, true,
           m.created_at, m.state, m.invite_pending, m.access_request, m.expires_on,
           gs.expires_on
    FROM hierarchy h
    JOIN group_share gs ON gs.target_source_id = h.id
    JOIN membership m ON m.source_id = gs.shared_group_id
    WHERE {users}
),
plan_rule AS (
    SELECT n.id AS namespace_id,
           coalesce(CAST(:excludes_guests AS boolean), bool_or(p.excludes_guests), false)
               AS excludes_guests
    FROM namespace n
    LEFT JOIN subscription s ON s.namespace_id = n.id AND s.status = :active_subscription
    LEFT JOIN plan p ON p.id = s.plan_id
    WHERE n.id = ANY(:namespace_ids)
    GROUP BY n.id
),
counting AS (
    SELECT r.*
    FROM reach r JOIN plan_rule pr ON pr.namespace_id = r.namespace_id
    WHERE r.state = :active_membership AND NOT r.invite_pending AND NOT r.access_request
      AND (r.expires_on IS NULL OR r.expires_on > :today)
      AND (r.share_expires_on IS NULL OR r.share_expires_on > :today)
      AND r.level > :minimal_access
      AND (NOT pr.excludes_guests OR r.level > :guest)
),
-- one row per billable user: the highest counting membership (on a tie direct before
-- invited, then group before project, as billing.seats picks it) and when they last joined
billable AS (
    SELECT DISTINCT ON (c.namespace_id, c.user_id)
           c.namespace_id, c.user_id, c.level, c.kind, c.via_share,
           max(c.created_at) OVER (PARTITION BY c.namespace_id, c.user_id) AS joined_at
    FROM counting c JOIN gitlab_user u ON u.id = c.user_id
    WHERE u.state = :active_user AND u.user_type = :human
    ORDER BY c.namespace_id, c.user_id, c.level DESC, c.via_share, c.kind <> 'group'
)
"""

ALL_USERS = "true"
SOME_USERS = "m.user_id = ANY(:user_ids)"


def _params(namespace_ids: Sequence[int], today: date, **more: Any) -> dict[str, Any]:
    return {
        "namespace_ids": list(namespace_ids),
        "today": today,
        "active_subscription": SubscriptionStatus.ACTIVE.value,
        "active_membership": MembershipState.ACTIVE.value,
        "minimal_access": int(AccessLevel.MINIMAL_ACCESS),
        "guest": int(AccessLevel.GUEST),
        "active_user": UserState.ACTIVE.value,
        "human": UserType.HUMAN.value,
        "excludes_guests": None,  # the active subscription's plan decides
        **more,
    }


def _with_billable(select: str, users: str = ALL_USERS) -> Any:
    return text("WITH " + _BILLABLE.replace("{users}", users) + select)


async def billable_counts(
    session: AsyncSession,
    namespace_ids: Sequence[int],
    *,
    today: date,
    excludes_guests: bool | None = None,
) -> list[int]:
    """For each namespace id, how many users take a seat in it on `today` (from scratch),
    under its active plan's guest rule or, when `excludes_guests` is given, under that one
    (what a plan change would make of it)."""
    query = _with_billable("SELECT namespace_id, count(*) FROM billable GROUP BY namespace_id")
    rows = await session.execute(
        query, _params(namespace_ids, today, excludes_guests=excludes_guests)
    )
    counts: dict[int, int] = dict(rows.all())
    return [counts.get(namespace_id, 0) for namespace_id in namespace_ids]


async def billable_levels(
    session: AsyncSession, namespace_id: int, *, today: date
) -> dict[int, tuple[int, str, bool]]:
    """The users who take a seat in the namespace on `today` (from scratch):
    {user id: (highest level, source kind, via share)}."""
    query = _with_billable("SELECT user_id, level, kind, via_share FROM billable")
    rows = await session.execute(query, _params([namespace_id], today))
    return {user_id: (level, kind, via_share) for user_id, level, kind, via_share in rows}


_REFRESH = """,
fresh AS (
    SELECT b.namespace_id, b.user_id, b.level AS access_level,
           CASE WHEN b.kind = 'group' AND NOT b.via_share THEN 'group_member'
                WHEN b.kind = 'project' AND NOT b.via_share THEN 'project_member'
                WHEN b.kind = 'group' THEN 'group_invite'
                ELSE 'project_invite' END AS membership_type,
           b.joined_at, u.username, u.name, u.public_email, u.last_activity_on
    FROM billable b JOIN gitlab_user u ON u.id = b.user_id
),
upserted AS (
    INSERT INTO billable_member (namespace_id, user_id, access_level, membership_type,
                                 joined_at, username, name, public_email, last_activity_on)
    SELECT * FROM fresh
    ON CONFLICT (namespace_id, user_id) DO UPDATE SET
        access_level = excluded.access_level, membership_type = excluded.membership_type,
        joined_at = excluded.joined_at, username = excluded.username, name = excluded.name,
        public_email = excluded.public_email, last_activity_on = excluded.last_activity_on
    WHERE (billable_member.access_level, billable_member.membership_type,
           billable_member.joined_at, billable_member.username, billable_member.name,
           billable_member.public_email, billable_member.last_activity_on)
          IS DISTINCT FROM
          (excluded.access_level, excluded.membership_type, excluded.joined_at,
           excluded.username, excluded.name, excluded.public_email, excluded.last_activity_on)
    RETURNING namespace_id, xmax = 0 AS inserted  -- xmax is 0 on a freshly inserted row
),
deleted AS (
    DELETE FROM billable_member bm
    WHERE bm.namespace_id = ANY(:namespace_ids) AND {members}
      -- NOT IN, not NOT EXISTS: the planner hashes `fresh` once instead of looping over it
      AND (bm.namespace_id, bm.user_id) NOT IN (SELECT namespace_id, user_id FROM fresh)
    RETURNING namespace_id
),
changes AS (
    SELECT namespace_id, CASE WHEN inserted THEN 1 ELSE 0 END AS added, 0 AS removed,
           1 AS changed
    FROM upserted
    UNION ALL
    SELECT namespace_id, 0, 1, 1 FROM deleted
)
SELECT namespace_id, sum(added) - sum(removed), sum(changed) FROM changes GROUP BY namespace_id
"""


@dataclass(frozen=True, slots=True)
class MemberChanges:
    changed: int  # rows of billable_member inserted, updated or deleted
    delta: dict[int, int]  # namespace id -> change in its billable count


async def refresh_billable_members(
    session: AsyncSession,
    namespace_ids: Sequence[int],
    *,
    today: date,
    user_ids: Sequence[int] | None = None,
) -> MemberChanges:
    """Bring `billable_member` up to date for these namespaces, for `user_ids` only when
    given (what a batch touched), else for everyone. One statement."""
    if user_ids is None:
        users, members, more = ALL_USERS, "true", {}
    else:
        users, members = SOME_USERS, "bm.user_id = ANY(:user_ids)"
        more = {"user_ids": list(user_ids)}
    query = _with_billable(_REFRESH.replace("{members}", members), users)
    rows = (await session.execute(query, _params(namespace_ids, today, **more))).all()
    return MemberChanges(
        changed=sum(int(changed) for _, _, changed in rows),
        delta={namespace_id: int(delta) for namespace_id, delta, _ in rows},
    )
