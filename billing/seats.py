"""Who takes a seat in a top-level namespace, and why not.

A user is billable when they are active, human, and hold at least one membership in the
namespace's hierarchy (the group, its subgroups, its projects, or a group invited into any of
them) that is active, accepted, not an access request, not expired, and above Minimal Access;
on a plan that excludes guests (Ultimate) it must also be above Guest. Through an invited group
the effective role is the lower of the member's role and the role the share grants. A user is
counted once however many memberships they hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum


class AccessLevel(IntEnum):
    """GitLab's access levels; higher grants more."""

    MINIMAL_ACCESS = 5
    GUEST = 10
    PLANNER = 15
    REPORTER = 20
    DEVELOPER = 30
    MAINTAINER = 40
    OWNER = 50


class UserState(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    DEACTIVATED = "deactivated"
    BANNED = "banned"
    PENDING_APPROVAL = "pending_approval"


class UserType(StrEnum):
    HUMAN = "human"
    BOT = "bot"
    SERVICE_ACCOUNT = "service_account"
    INTERNAL = "internal"


class MembershipState(StrEnum):
    ACTIVE = "active"
    AWAITING = "awaiting"  # waiting for an owner's approval (e.g. over a user cap)


class SourceKind(StrEnum):
    GROUP = "group"
    PROJECT = "project"


class MembershipType(StrEnum):
    """How a membership reaches the namespace, as GitLab's billable members API names it."""

    GROUP_MEMBER = "group_member"
    PROJECT_MEMBER = "project_member"
    GROUP_INVITE = "group_invite"  # member of a group invited into a group of the hierarchy
    PROJECT_INVITE = "project_invite"  # member of a group invited into a project


class Reason(StrEnum):
    """Why a user or one of their memberships takes no seat."""

    USER_BLOCKED = "user_blocked"
    USER_DEACTIVATED = "user_deactivated"
    USER_BANNED = "user_banned"
    USER_PENDING_APPROVAL = "user_pending_approval"
    BOT = "bot"
    SERVICE_ACCOUNT = "service_account"
    INTERNAL_USER = "internal_user"
    NO_MEMBERSHIP = "no_membership"
    MEMBERSHIP_AWAITING = "membership_awaiting"
    INVITATION_PENDING = "invitation_pending"
    ACCESS_REQUEST = "access_request"
    MEMBERSHIP_EXPIRED = "membership_expired"
    SHARE_EXPIRED = "share_expired"
    MINIMAL_ACCESS = "minimal_access"
    GUEST_EXCLUDED = "guest_excluded"


_STATE_REASONS = {
    UserState.BLOCKED: Reason.USER_BLOCKED,
    UserState.DEACTIVATED: Reason.USER_DEACTIVATED,
    UserState.BANNED: Reason.USER_BANNED,
    UserState.PENDING_APPROVAL: Reason.USER_PENDING_APPROVAL,
}
_TYPE_REASONS = {
    UserType.BOT: Reason.BOT,
    UserType.SERVICE_ACCOUNT: Reason.SERVICE_ACCOUNT,
    UserType.INTERNAL: Reason.INTERNAL_USER,
}


@dataclass(frozen=True, slots=True)
class SeatUser:
    state: UserState
    user_type: UserType


@dataclass(frozen=True, slots=True)
class SeatMembership:
    """One membership of the user that reaches the namespace's hierarchy.

    `shared_access_level` is None for a direct membership of a group or project of the
    hierarchy; for a membership of a group invited into it, it is the role the share grants.
    """

    source_kind: SourceKind
    access_level: AccessLevel
    state: MembershipState = MembershipState.ACTIVE
    invite_pending: bool = False
    access_request: bool = False
    expires_on: date | None = None
    shared_access_level: AccessLevel | None = None
    share_expires_on: date | None = None

    @property
    def effective_access_level(self) -> AccessLevel:
        if self.shared_access_level is None:
            return self.access_level
        return min(self.access_level, self.shared_access_level)

    @property
    def membership_type(self) -> MembershipType:
        invited = self.shared_access_level is not None
        if self.source_kind is SourceKind.GROUP:
            return MembershipType.GROUP_INVITE if invited else MembershipType.GROUP_MEMBER
        return MembershipType.PROJECT_INVITE if invited else MembershipType.PROJECT_MEMBER


@dataclass(frozen=True, slots=True)
class SeatDecision:
    billable: bool
    reasons: tuple[Reason, ...]  # empty when billable; otherwise every reason, in enum order
    highest_access_level: AccessLevel | None  # over the memberships that count
    membership_type: MembershipType | None  # of the highest membership that counts


def membership_reasons(
    membership: SeatMembership, *, excludes_guests: bool, today: date
) -> set[Reason]:
    """Why this membership does not take a seat (empty when it does).

    Example: a Guest on Ultimate (`excludes_guests=True`) gives ``{Reason.GUEST_EXCLUDED}``;
    a Developer invited through a share that grants Guest gives the same.
    """
    reasons = set()
    if membership.state is MembershipState.AWAITING:
        reasons.add(Reason.MEMBERSHIP_AWAITING)
    if membership.invite_pending:
        reasons.add(Reason.INVITATION_PENDING)
    if membership.access_request:
        reasons.add(Reason.ACCESS_REQUEST)
    if membership.expires_on is not None and membership.expires_on <= today:
        reasons.add(Reason.MEMBERSHIP_EXPIRED)
    if membership.share_expires_on is not None and membership.share_expires_on <= today:
        reasons.add(Reason.SHARE_EXPIRED)
    level = membership.effective_access_level
    if level <= AccessLevel.MINIMAL_ACCESS:
        reasons.add(Reason.MINIMAL_ACCESS)
    elif excludes_guests and level <= AccessLevel.GUEST:
        reasons.add(Reason.GUEST_EXCLUDED)
    return reasons


def user_reasons(user: SeatUser) -> set[Reason]:
    """Why this user takes no seat whatever their memberships (empty when they can take one).
    No membership of theirs counts while this is not empty.

    Example: an active human gives ``set()``; a blocked bot gives ``{USER_BLOCKED, BOT}``.
    """
    reasons = set()
    if user.state in _STATE_REASONS:
        reasons.add(_STATE_REASONS[user.state])
    if user.user_type in _TYPE_REASONS:
        reasons.add(_TYPE_REASONS[user.user_type])
    return reasons


def seat_decision(
    user: SeatUser,
    memberships: Iterable[SeatMembership],
    *,
    excludes_guests: bool,
    today: date,
) -> SeatDecision:
    """Whether `user` takes a seat in the namespace, and if not, every reason why.

    Example: an active human Developer of a subgroup is billable with
    ``highest_access_level=DEVELOPER``; an active bot Owner is not, for ``(Reason.BOT,)``;
    a blocked Guest on Ultimate gives ``(USER_BLOCKED, GUEST_EXCLUDED)``.
    """
    reasons = user_reasons(user)
    counting = []
    membership_problems: set[Reason] = set()
    for membership in memberships:
        problems = membership_reasons(membership, excludes_guests=excludes_guests, today=today)
        if problems:
            membership_problems |= problems
        else:
            counting.append(membership)
    if not counting:
        reasons |= membership_problems or {Reason.NO_MEMBERSHIP}
    # the membership shown: the highest role; at equal roles a direct membership before an
    # invited one, then a group before a project (db/seats.py orders the same way)
    best = max(
        counting,
        key=lambda m: (
            m.effective_access_level,
            m.shared_access_level is None,
            m.source_kind is SourceKind.GROUP,
        ),
        default=None,
    )
    return SeatDecision(
        billable=not reasons,
        reasons=tuple(r for r in Reason if r in reasons),
        highest_access_level=best.effective_access_level if best else None,
        membership_type=best.membership_type if best else None,
    )


def count_billable(
    members: Iterable[tuple[SeatUser, Iterable[SeatMembership]]],
    *,
    excludes_guests: bool,
    today: date,
) -> int:
    """How many of `members` (each a user with all their memberships in the hierarchy) take a
    seat: each user counts once. Example: 3 users of whom one is a bot -> 2."""
    return sum(
        seat_decision(user, memberships, excludes_guests=excludes_guests, today=today).billable
        for user, memberships in members
    )


@dataclass(frozen=True, slots=True)
class SeatFigures:
    seats: int
    seats_in_use: int
    max_seats_used: int
    seats_owed: int
    seats_remaining: int


def seat_figures(*, seats: int, seats_in_use: int, max_seats_used: int, paid: bool) -> SeatFigures:
    """A subscription's seat figures.

    `max_seats_used` never reads below `seats_in_use`; seats owed are
    `max(0, max_seats_used - seats)` on paid subscriptions and 0 on free and trial ones;
    seats remaining are `max(0, seats - seats_in_use)`. Example: 10 seats, 12 in use, a peak
    of 14 on a paid plan give 4 owed and 0 remaining.
    """
    peak = max(max_seats_used, seats_in_use)
    return SeatFigures(
        seats=seats,
        seats_in_use=seats_in_use,
        max_seats_used=peak,
        seats_owed=max(0, peak - seats) if paid else 0,
        seats_remaining=max(0, seats - seats_in_use),
    )
