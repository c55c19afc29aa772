"""Seat counting in SQL: the same rules as `billing.seats`, set-based, for many namespaces."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.seats import AccessLevel, MembershipState, UserState, UserType
from billing.subscriptions import SubscriptionStatus

# Every membership that reaches a namespace's hierarchy: direct ones, and those of members of
# a group invited into a group or project of the hierarchy (effective level: the lower one).
REACH = """
hierarchy AS (
    SELECT id, namespace_id FROM source WHERE namespace_id = ANY(:namespace_ids)
),
reach AS (
    SELECT h.namespace_id, m.user_id, m.access_level AS level, m.state, m.invite_pending,
           m.access_request, m.expires_on, NULL::date AS share_expires_on
    FROM hierarchy h JOIN membership m ON m.source_id = h.id
    UNION ALL
    SELECT h.namespace_id, m.user_id, LEAST(m.access_level, gs.access_level), m.state,
           m.invite_pending, m.access_request, m.expires_on, gs.expires_on
    FROM hierarchy h
    JOIN group_share gs ON gs.target_source_id = h.id
    JOIN membership m ON m.source_id = gs.shared_group_id
),
plan_rule AS (
    SELECT n.id AS namespace_id, coalesce(bool_or(p.excludes_guests), false) AS excludes_guests
    FROM namespace n
    LEFT JOIN subscription s ON s.namespace_id = n.id AND s.status = :active_subscription
    LEFT JOIN plan p ON p.id = s.plan_id
    WHERE n.id = ANY(:namespace_ids)
    GROUP BY n.id
),
counting AS (
    SELECT r.namespace_id, r.user_id, r.level
    FROM reach r JOIN plan_rule pr ON pr.namespace_id = r.namespace_id
    WHERE r.state = :active_membership AND NOT r.invite_pending AND NOT r.access_request
      AND (r.expires_on IS NULL OR r.expires_on > :today)
      AND (r.share_expires_on IS NULL OR r.share_expires_on > :today)
      AND r.level > :minimal_access
      AND (NOT pr.excludes_guests OR r.level > :guest)
),
billable AS (
    SELECT c.namespace_id, c.user_id, max(c.level) AS level
    FROM counting c JOIN gitlab_user u ON u.id = c.user_id
    WHERE u.state = :active_user AND u.user_type = :human
    GROUP BY c.namespace_id, c.user_id
)
"""


def _params(namespace_ids: Sequence[int], today: date) -> dict[str, object]:
    return {
        "namespace_ids": list(namespace_ids),
        "today": today,
        "active_subscription": SubscriptionStatus.ACTIVE.value,
        "active_membership": MembershipState.ACTIVE.value,
        "minimal_access": int(AccessLevel.MINIMAL_ACCESS),
        "guest": int(AccessLevel.GUEST),
        "active_user": UserState.ACTIVE.value,
        "human": UserType.HUMAN.value,
    }


async def billable_counts(
    session: AsyncSession, namespace_ids: Sequence[int], *, today: date
) -> list[int]:
    """For each namespace id, how many users take a seat in it on `today`."""
    query = text(
        "WITH " + REACH + "SELECT namespace_id, count(*) FROM billable GROUP BY namespace_id"  # noqa: S608 (constants only)
    )
    rows = await session.execute(query, _params(namespace_ids, today))
    counts: dict[int, int] = dict(rows.all())
    return [counts.get(namespace_id, 0) for namespace_id in namespace_ids]


async def billable_levels(
    session: AsyncSession, namespace_id: int, *, today: date
) -> dict[int, int]:
    """The users who take a seat in the namespace on `today`, with their highest counting
    access level: {user id: level}."""
    query = text("WITH " + REACH + "SELECT user_id, level FROM billable")  # noqa: S608 (constants only)
    rows = await session.execute(query, _params([namespace_id], today))
    return dict(rows.all())
