"""A namespace's members: who takes a seat and why, pages of billable members, totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from billing.seats import (
    AccessLevel,
    MembershipState,
    SeatDecision,
    SeatMembership,
    SeatUser,
    SourceKind,
    UserState,
    UserType,
    seat_decision,
)
from db.members import (
    MemberRecord,
    MemberTotals,
    ReachingMembership,
    billable_members_page,
    count_matching_members,
    member_totals,
    user_by_gitlab_id,
    user_by_username,
)
from db.snapshots import snapshot_history
from db.tables import GitlabUser, Namespace, SeatSnapshot
from resolvers.context import Context
from resolvers.errors import BadUserInput
from resolvers.limits import search_term
from resolvers.loaders import required


class MemberSort(StrEnum):
    """Orders of billable members, named as GitLab's billable members API names them."""

    NAME_ASC = "name_asc"
    NAME_DESC = "name_desc"
    LAST_JOINED = "last_joined"
    OLDEST_JOINED = "oldest_joined"
    LAST_ACTIVITY_ON_DESC = "last_activity_on_desc"
    LAST_ACTIVITY_ON_ASC = "last_activity_on_asc"
    ACCESS_LEVEL_DESC = "access_level_desc"
    ACCESS_LEVEL_ASC = "access_level_asc"


# sort -> (key column, descending)
SORTS: dict[MemberSort, tuple[str, bool]] = {
    MemberSort.NAME_ASC: ("name", False),
    MemberSort.NAME_DESC: ("name", True),
    MemberSort.LAST_JOINED: ("joined_at", True),
    MemberSort.OLDEST_JOINED: ("joined_at", False),
    MemberSort.LAST_ACTIVITY_ON_DESC: ("last_activity_on", True),
    MemberSort.LAST_ACTIVITY_ON_ASC: ("last_activity_on", False),
    MemberSort.ACCESS_LEVEL_DESC: ("access_level", True),
    MemberSort.ACCESS_LEVEL_ASC: ("access_level", False),
}


async def billable_members(
    context: Context,
    namespace: Namespace,
    *,
    sort: MemberSort,
    after: tuple[Any, int] | None,
    limit: int,
    search: str | None,
    with_users: bool = False,
) -> list[MemberRecord]:
    """A keyset page of the namespace's billable members (the caller may read the namespace),
    in one statement; `with_users` when the page shows their users (joined, not loaded)."""
    assert namespace.id is not None
    search = search_term(search)
    key, descending = SORTS[sort]
    async with context.db() as session:
        return await billable_members_page(
            session,
            namespace.id,
            key=key,
            descending=descending,
            after=after,
            limit=limit,
            search=search,
            with_users=with_users,
        )


async def count_billable_members(
    context: Context, namespace: Namespace, *, search: str | None
) -> int:
    """How many members `billable_members` pages through: without a search, the maintained
    count (no statement); with one, how many match it (one statement)."""
    assert namespace.id is not None
    search = search_term(search)
    if not search:
        return namespace.seats_in_use
    async with context.db() as session:
        return await count_matching_members(session, namespace.id, search)


async def excludes_guests(context: Context, namespace_id: int) -> bool:
    """Whether guests are free in the namespace: its active subscription's plan says."""
    subscription = await context.loaders.active_subscription_by_namespace.load(namespace_id)
    if subscription is None or subscription.status != "active":
        return False
    plan = await required(context.loaders.plan_by_id, subscription.plan_id)
    return plan.excludes_guests


async def memberships(
    context: Context, namespace_id: int, user_id: int
) -> list[ReachingMembership]:
    return await context.loaders.memberships_by_namespace_user.load((namespace_id, user_id))


async def user(context: Context, user_id: int) -> GitlabUser:
    return await required(context.loaders.user_by_id, user_id)


def seat_membership(membership: ReachingMembership) -> SeatMembership:
    return SeatMembership(
        source_kind=SourceKind(membership.source_kind),
        access_level=AccessLevel(membership.access_level),
        state=MembershipState(membership.state),
        invite_pending=membership.invite_pending,
        access_request=membership.access_request,
        expires_on=membership.expires_on,
        shared_access_level=(
            None
            if membership.share_access_level is None
            else AccessLevel(membership.share_access_level)
        ),
        share_expires_on=membership.share_expires_on,
    )


@dataclass(frozen=True)
class MemberSeat:
    user: GitlabUser
    decision: SeatDecision
    memberships: list[ReachingMembership]
    excludes_guests: bool

    @property
    def seat_user(self) -> SeatUser:
        return SeatUser(UserState(self.user.state), UserType(self.user.user_type))


async def explain_member(
    context: Context,
    namespace: Namespace,
    *,
    username: str | None = None,
    gitlab_id: int | None = None,
) -> MemberSeat | None:
    """Whether the user named by `username` or by GitLab user id (exactly one) takes a seat
    in the namespace and every reason why not; None when no such user is known, or when a
    customer asks about someone without a membership reaching the namespace (a customer
    cannot tell the two apart)."""
    assert namespace.id is not None
    if (username is None) == (gitlab_id is None):
        raise BadUserInput("Give either `username` or `userId`.", "userId")
    async with context.db() as session:
        if username is not None:
            found = await user_by_username(session, username)
        else:
            assert gitlab_id is not None
            found = await user_by_gitlab_id(session, gitlab_id)
    # the memberships are read for an unknown username too (user id 0 holds none), so that a
    # hidden user and an unknown one cost the same statements
    held = await memberships(context, namespace.id, (found.id or 0) if found else 0)
    if found is None or not (held or context.principal.sees_every_user):
        return None
    assert found.id is not None
    excludes = await excludes_guests(context, namespace.id)
    decision = seat_decision(
        SeatUser(UserState(found.state), UserType(found.user_type)),
        [seat_membership(m) for m in held],
        excludes_guests=excludes,
        today=context.clock.today(),
    )
    return MemberSeat(found, decision, held, excludes)


@dataclass(frozen=True)
class UserStatistics:
    totals: MemberTotals
    billable: int
    guests_free: bool


async def user_statistics(context: Context, namespace: Namespace) -> UserStatistics:
    assert namespace.id is not None
    async with context.db() as session:
        totals = await member_totals(session, namespace.id, guest=int(AccessLevel.GUEST))
    return UserStatistics(
        totals, namespace.seats_in_use, await excludes_guests(context, namespace.id)
    )


async def get_users(context: Context, user_ids: list[int]) -> list[GitlabUser | None]:
    """Users by id for node lookups: roles that read every namespace's seat data see any; a
    customer sees those holding a membership reaching one of its namespaces, and nobody
    else (hidden and unknown ids are None alike)."""
    if context.principal.sees_every_user:
        return await context.loaders.user_by_id.load_many(user_ids)
    customer_id = context.principal.customer_id
    if customer_id is None:
        return [None] * len(user_ids)
    users = await context.loaders.user_by_id.load_many(user_ids)
    namespaces = await context.loaders.namespaces_by_customer.load(customer_id)
    keys = [(n.id, user_id) for user_id in user_ids for n in namespaces if n.id is not None]
    reaching = await context.loaders.memberships_by_namespace_user.load_many(keys)
    members = {user_id for (_, user_id), held in zip(keys, reaching, strict=True) if held}
    return [u if u is not None and u.id in members else None for u in users]


MAX_HISTORY_DAYS = 366  # a leap year of daily rows per request; a longer range goes in parts


async def seat_usage_history(
    context: Context, namespace: Namespace, *, first: date, last: date
) -> list[SeatSnapshot]:
    """Daily billable counts between two days, inclusive (at most MAX_HISTORY_DAYS days:
    the list has no pages, so its length is bounded here)."""
    assert namespace.id is not None
    if last < first:
        raise BadUserInput("`to` must be on or after `from`.", "to")
    if (last - first).days + 1 > MAX_HISTORY_DAYS:
        raise BadUserInput(
            f"At most {MAX_HISTORY_DAYS} days from `from` to `to`, both included; ask for a"
            " longer range in parts.",
            "to",
        )
    async with context.db() as session:
        return await snapshot_history(session, namespace.id, first, last)
