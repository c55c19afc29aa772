"""Who takes a seat, case by case (BILLING_RULES.md, "Who counts as a seat")."""

from datetime import date

import pytest

from billing.seats import (
    AccessLevel,
    MembershipState,
    MembershipType,
    Reason,
    SeatMembership,
    SeatUser,
    SourceKind,
    UserState,
    UserType,
    count_billable,
    seat_decision,
    seat_figures,
    user_reasons,
)

TODAY = date(2026, 3, 15)
HUMAN = SeatUser(UserState.ACTIVE, UserType.HUMAN)
G, P = SourceKind.GROUP, SourceKind.PROJECT
L = AccessLevel


def member(level: AccessLevel = L.DEVELOPER, kind: SourceKind = G, **kw: object) -> SeatMembership:
    return SeatMembership(source_kind=kind, access_level=level, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("user", "memberships", "excludes_guests", "reasons"),
    [
        # billable
        (HUMAN, [member()], False, ()),
        (HUMAN, [member(L.GUEST)], False, ()),  # guests take a seat on Premium
        (HUMAN, [member(L.PLANNER)], True, ()),  # planners are above Guest on Ultimate
        (HUMAN, [member(L.REPORTER, P)], True, ()),
        (HUMAN, [member(L.GUEST), member(L.DEVELOPER, P)], True, ()),  # one counting is enough
        (HUMAN, [member(expires_on=date(2026, 3, 16))], False, ()),  # expires tomorrow
        # the user
        (SeatUser(UserState.BLOCKED, UserType.HUMAN), [member()], False, (Reason.USER_BLOCKED,)),
        (
            SeatUser(UserState.DEACTIVATED, UserType.HUMAN),
            [member()],
            False,
            (Reason.USER_DEACTIVATED,),
        ),
        (SeatUser(UserState.BANNED, UserType.HUMAN), [member()], False, (Reason.USER_BANNED,)),
        (
            SeatUser(UserState.PENDING_APPROVAL, UserType.HUMAN),
            [member()],
            False,
            (Reason.USER_PENDING_APPROVAL,),
        ),
        (SeatUser(UserState.ACTIVE, UserType.BOT), [member(L.OWNER)], False, (Reason.BOT,)),
        (
            SeatUser(UserState.ACTIVE, UserType.SERVICE_ACCOUNT),
            [member()],
            False,
            (Reason.SERVICE_ACCOUNT,),
        ),
        (SeatUser(UserState.ACTIVE, UserType.INTERNAL), [member()], False, (Reason.INTERNAL_USER,)),
        # the memberships
        (HUMAN, [], False, (Reason.NO_MEMBERSHIP,)),
        (HUMAN, [member(state=MembershipState.AWAITING)], False, (Reason.MEMBERSHIP_AWAITING,)),
        (HUMAN, [member(invite_pending=True)], False, (Reason.INVITATION_PENDING,)),
        (HUMAN, [member(access_request=True)], False, (Reason.ACCESS_REQUEST,)),
        (HUMAN, [member(expires_on=TODAY)], False, (Reason.MEMBERSHIP_EXPIRED,)),
        (HUMAN, [member(L.MINIMAL_ACCESS)], False, (Reason.MINIMAL_ACCESS,)),
        (HUMAN, [member(L.MINIMAL_ACCESS)], True, (Reason.MINIMAL_ACCESS,)),
        (HUMAN, [member(L.GUEST)], True, (Reason.GUEST_EXCLUDED,)),  # guest on Ultimate
        (HUMAN, [member(L.GUEST, P)], True, (Reason.GUEST_EXCLUDED,)),
        # invited groups: the lower of the member's role and the share's
        (HUMAN, [member(L.OWNER, shared_access_level=L.GUEST)], True, (Reason.GUEST_EXCLUDED,)),
        (HUMAN, [member(L.OWNER, shared_access_level=L.GUEST)], False, ()),
        (
            HUMAN,
            [member(L.GUEST, shared_access_level=L.MAINTAINER)],
            True,
            (Reason.GUEST_EXCLUDED,),
        ),
        (
            HUMAN,
            [member(L.DEVELOPER, shared_access_level=L.MINIMAL_ACCESS)],
            False,
            (Reason.MINIMAL_ACCESS,),
        ),
        (HUMAN, [member(L.DEVELOPER, shared_access_level=L.REPORTER)], True, ()),
        (
            HUMAN,
            [member(shared_access_level=L.REPORTER, share_expires_on=TODAY)],
            False,
            (Reason.SHARE_EXPIRED,),
        ),
        # every reason at once
        (
            SeatUser(UserState.BLOCKED, UserType.BOT),
            [
                member(L.GUEST, state=MembershipState.AWAITING),
                member(L.DEVELOPER, invite_pending=True),
            ],
            True,
            (
                Reason.USER_BLOCKED,
                Reason.BOT,
                Reason.MEMBERSHIP_AWAITING,
                Reason.INVITATION_PENDING,
                Reason.GUEST_EXCLUDED,
            ),
        ),
    ],
)
def test_seat_decision(
    user: SeatUser,
    memberships: list[SeatMembership],
    excludes_guests: bool,
    reasons: tuple[Reason, ...],
) -> None:
    decision = seat_decision(user, memberships, excludes_guests=excludes_guests, today=TODAY)
    assert decision.reasons == reasons
    assert decision.billable is (reasons == ())


@pytest.mark.parametrize(
    ("user", "reasons"),
    [
        (SeatUser(UserState.ACTIVE, UserType.HUMAN), set()),
        (SeatUser(UserState.BLOCKED, UserType.HUMAN), {Reason.USER_BLOCKED}),
        (SeatUser(UserState.DEACTIVATED, UserType.HUMAN), {Reason.USER_DEACTIVATED}),
        (SeatUser(UserState.ACTIVE, UserType.SERVICE_ACCOUNT), {Reason.SERVICE_ACCOUNT}),
        (SeatUser(UserState.BANNED, UserType.BOT), {Reason.USER_BANNED, Reason.BOT}),
    ],
)
def test_user_reasons_hold_for_every_membership(user: SeatUser, reasons: set[Reason]) -> None:
    """A membership takes a seat only if its user does: the user's reasons are exactly those
    that make even an Owner's active membership take none."""
    assert user_reasons(user) == reasons
    owner = seat_decision(user, [member(L.OWNER)], excludes_guests=False, today=TODAY)
    assert set(owner.reasons) == reasons


@pytest.mark.parametrize(
    ("memberships", "level", "membership_type"),
    [
        ([member(L.GUEST), member(L.MAINTAINER, P)], L.MAINTAINER, MembershipType.PROJECT_MEMBER),
        (
            [member(L.OWNER, shared_access_level=L.REPORTER)],
            L.REPORTER,
            MembershipType.GROUP_INVITE,
        ),
        (
            [member(L.OWNER, P, shared_access_level=L.DEVELOPER)],
            L.DEVELOPER,
            MembershipType.PROJECT_INVITE,
        ),
        # equal levels: the direct membership is the one shown
        (
            [member(L.REPORTER, shared_access_level=L.MAINTAINER), member(L.REPORTER)],
            L.REPORTER,
            MembershipType.GROUP_MEMBER,
        ),
        # memberships that do not count are not the highest role
        (
            [member(L.OWNER, invite_pending=True), member(L.REPORTER)],
            L.REPORTER,
            MembershipType.GROUP_MEMBER,
        ),
    ],
)
def test_highest_role_and_membership_type(
    memberships: list[SeatMembership], level: AccessLevel, membership_type: MembershipType
) -> None:
    decision = seat_decision(HUMAN, memberships, excludes_guests=False, today=TODAY)
    assert (decision.highest_access_level, decision.membership_type) == (level, membership_type)


def test_a_user_counts_once_across_subgroups_and_projects() -> None:
    many = [
        member(L.DEVELOPER),
        member(L.REPORTER, P),
        member(L.OWNER, P),
        member(L.GUEST, shared_access_level=L.DEVELOPER),
    ]
    bot = SeatUser(UserState.ACTIVE, UserType.BOT)
    members = [(HUMAN, many), (HUMAN, [member(L.GUEST)]), (bot, [member()])]
    assert count_billable(members, excludes_guests=False, today=TODAY) == 2
    assert count_billable(members, excludes_guests=True, today=TODAY) == 1


@pytest.mark.parametrize(
    ("seats", "in_use", "peak", "paid", "owed", "remaining", "shown_peak"),
    [
        (10, 12, 14, True, 4, 0, 14),
        (10, 7, 9, True, 0, 3, 9),
        (10, 12, 14, False, 0, 0, 14),  # free or trial: nothing owed
        (10, 12, 0, True, 2, 0, 12),  # the peak never reads below seats in use
        (0, 0, 0, True, 0, 0, 0),
    ],
)
def test_seat_figures(
    seats: int, in_use: int, peak: int, paid: bool, owed: int, remaining: int, shown_peak: int
) -> None:
    figures = seat_figures(seats=seats, seats_in_use=in_use, max_seats_used=peak, paid=paid)
    assert (figures.seats_owed, figures.seats_remaining, figures.max_seats_used) == (
        owed,
        remaining,
        shown_peak,
    )
