"""A namespace's members: who takes a seat and why, pages of billable members, totals."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from billing.errors import ErrorCode, InvalidBatchError, RecordProblem
from billing.money import Money
from billing.seats import (
    AccessLevel,
    MembershipState,
    Reason,
    SeatChargePreview,
    SeatDecision,
    SeatMembership,
    SeatUser,
    SourceKind,
    UserState,
    UserType,
    preview_seat_charge,
    seat_decision,
)
from db.members import (
    MemberTotals,
    ReachingMembership,
    billable_members_page,
    member_totals,
    user_by_username,
    users_by_username_or_email,
)
from db.snapshots import snapshot_history
from db.tables import BillableMember, GitlabUser, Namespace, SeatSnapshot
from resolvers.context import Context
from resolvers.errors import BadUserInput
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
) -> list[tuple[BillableMember, Any]]:
    """A keyset page of the namespace's billable members (the caller may read the namespace)."""
    assert namespace.id is not None
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
        )


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


async def explain_member(
    context: Context, namespace: Namespace, username: str
) -> MemberSeat | None:
    """Whether `username` takes a seat in the namespace and every reason why not; None when
    no such user is known, or when a customer asks about someone without a membership
    reaching the namespace (a customer cannot tell the two apart)."""
    assert namespace.id is not None
    async with context.db() as session:
        found = await user_by_username(session, username)
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


MAX_PREVIEW = 1000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class PreviewedPerson:
    """One person the preview would add: a known user, or an unknown email (a new user)."""

    username: str | None
    email: str | None
    known: bool
    already_billable: bool
    will_take_seat: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class MembersChangePreview:
    people: list[PreviewedPerson]
    seats_in_use: int
    billable_after: int
    charge: SeatChargePreview | None  # None without an active subscription in its term
    seats: int
    max_seats_used: int


async def preview_members_change(
    context: Context,
    namespace: Namespace,
    *,
    usernames: Sequence[str],
    emails: Sequence[str],
    role: AccessLevel,
) -> MembersChangePreview:
    """Whether adding these people to the top-level group with `role` would cost money, and
    how much. Writes nothing. An email no user shows publicly counts as one new user (and
    seat) each. Unknown usernames are refused, except for customers: a customer sees only
    people holding a membership reaching the namespace, so any other username, known to
    GitLab.com or not, counts as one new user too, and so does the email of a user it may
    not see; nothing in the answer tells a hidden user from an unknown one."""
    assert namespace.id is not None
    problems = []
    if len(usernames) + len(emails) > MAX_PREVIEW:
        problems.append(
            RecordProblem(
                MAX_PREVIEW,
                "addUsernames",
                ErrorCode.BATCH_TOO_LARGE,
                f"At most {MAX_PREVIEW} people per preview.",
            )
        )
    for index, email in enumerate(emails):
        if not _EMAIL.match(email):
            problems.append(
                RecordProblem(
                    index,
                    "addEmails",
                    ErrorCode.INVALID_VALUE,
                    f"{email!r} is not an email address.",
                )
            )
    found = await _find_people(context, namespace.id, usernames, emails)
    for index, username in enumerate(usernames):
        if username not in found.by_username and context.principal.sees_every_user:
            problems.append(
                RecordProblem(
                    index, "addUsernames", ErrorCode.UNKNOWN_USER, f"No user {username!r}."
                )
            )
    if problems:
        raise InvalidBatchError(problems)

    today = context.clock.today()
    excludes = await excludes_guests(context, namespace.id)
    people = _previewed_people(
        found,
        usernames,
        emails,
        added=SeatMembership(source_kind=SourceKind.GROUP, access_level=role),
        excludes_guests=excludes,
        today=today,
    )
    newly_billable = sum(p.will_take_seat and not p.already_billable for p in people)
    billable_after = namespace.seats_in_use + newly_billable
    subscription = await context.loaders.active_subscription_by_namespace.load(namespace.id)
    if (
        subscription is None
        or subscription.status != "active"
        or not subscription.start_date <= today < subscription.end_date
    ):
        return MembersChangePreview(people, namespace.seats_in_use, billable_after, None, 0, 0)
    plan = await required(context.loaders.plan_by_id, subscription.plan_id)
    price = await required(context.loaders.price_by_id, subscription.price_id)
    charge = preview_seat_charge(
        seats=subscription.seats,
        max_seats_used=max(subscription.max_seats_used, namespace.seats_in_use),
        billable_now=namespace.seats_in_use,
        billable_after=billable_after,
        unit_price=Money(price.unit_amount, price.currency),
        paid=plan.code != "free" and not subscription.trial,
        term_start=subscription.start_date,
        term_end=subscription.end_date,
        today=today,
    )
    return MembersChangePreview(
        people, namespace.seats_in_use, billable_after, charge, subscription.seats, charge.covered
    )


@dataclass(frozen=True)
class _FoundPeople:
    by_username: dict[str, GitlabUser]
    by_email: dict[str, GitlabUser]  # by lower-case public email
    held: dict[int, list[ReachingMembership]]  # user id -> memberships reaching the namespace


async def _find_people(
    context: Context, namespace_id: int, usernames: Sequence[str], emails: Sequence[str]
) -> _FoundPeople:
    """The users named by username or public email, with their memberships reaching the
    namespace. For a customer, only those holding such a membership: anyone else is
    previewed exactly as a username or email GitLab.com does not know."""
    async with context.db() as session:
        found = await users_by_username_or_email(session, usernames, emails)
    # everyone's memberships in one batch, not one statement per person; the batch runs
    # even when nobody was found (user id 0 holds nothing), so that a hidden user and an
    # unknown one cost the same statements
    keys = [(namespace_id, user.id or 0) for user in found]
    reaching = await context.loaders.memberships_by_namespace_user.load_many(
        keys or [(namespace_id, 0)]
    )
    held = {user_id: m for (_, user_id), m in zip(keys, reaching[: len(keys)], strict=True)}
    if not context.principal.sees_every_user:
        found = [user for user in found if held[user.id or 0]]
    return _FoundPeople(
        by_username={u.username: u for u in found},
        by_email={u.public_email.lower(): u for u in found if u.public_email},
        held=held,
    )


def _previewed_people(
    found: _FoundPeople,
    usernames: Sequence[str],
    emails: Sequence[str],
    *,
    added: SeatMembership,
    excludes_guests: bool,
    today: date,
) -> list[PreviewedPerson]:
    """Each person once: users found (by username, then by email), then anyone else counted
    as a new active human given only the added membership."""
    newcomer = seat_decision(
        SeatUser(UserState.ACTIVE, UserType.HUMAN),
        [added],
        excludes_guests=excludes_guests,
        today=today,
    )

    def new_person(username: str | None, email: str | None) -> PreviewedPerson:
        return PreviewedPerson(username, email, False, False, newcomer.billable, newcomer.reasons)

    people: list[PreviewedPerson] = []
    seen: set[int] = set()
    # usernames nobody visible holds (only customers get past validation with them)
    outsiders = {n: new_person(n, None) for n in usernames if n not in found.by_username}
    named: list[tuple[GitlabUser | None, str | None, str | None]]
    named = [(found.by_username.get(n), n, None) for n in usernames]
    named += [(found.by_email[e.lower()], None, e) for e in emails if e.lower() in found.by_email]
    for user, username, via_email in named:
        if user is None:
            assert username is not None
            if username in outsiders:
                people.append(outsiders.pop(username))
            continue
        assert user.id is not None
        if user.id in seen:
            continue
        seen.add(user.id)
        seat_user = SeatUser(UserState(user.state), UserType(user.user_type))
        held = [seat_membership(m) for m in found.held[user.id]]
        now = seat_decision(seat_user, held, excludes_guests=excludes_guests, today=today)
        after = seat_decision(
            seat_user, [*held, added], excludes_guests=excludes_guests, today=today
        )
        people.append(
            PreviewedPerson(
                user.username, via_email, True, now.billable, after.billable, after.reasons
            )
        )
    unknown_emails = dict.fromkeys(e.lower() for e in emails if e.lower() not in found.by_email)
    people += [new_person(None, email) for email in unknown_emails]
    return people


MAX_HISTORY_DAYS = 3660


async def seat_usage_history(
    context: Context, namespace: Namespace, *, first: date, last: date
) -> list[SeatSnapshot]:
    """Daily billable counts between two days, inclusive (at most ten years)."""
    assert namespace.id is not None
    if last < first or (last - first).days > MAX_HISTORY_DAYS:
        raise BadUserInput(
            f"`to` must be on or after `from`, at most {MAX_HISTORY_DAYS} days later."
        )
    async with context.db() as session:
        return await snapshot_history(session, namespace.id, first, last)
