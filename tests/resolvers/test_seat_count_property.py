"""The SQL seat count equals the pure rules on generated hierarchies (hypothesis)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from billing.seats import (
    AccessLevel,
    MembershipState,
    SeatMembership,
    SeatUser,
    SourceKind,
    UserState,
    UserType,
    count_billable,
    seat_decision,
)
from db.seats import billable_counts, billable_levels, refresh_billable_members
from db.tables import (
    BillableMember,
    Customer,
    GitlabUser,
    GroupShare,
    Membership,
    Namespace,
    Plan,
    Price,
    Source,
    Subscription,
)

TODAY = date(2026, 3, 15)
DATES = st.one_of(
    st.none(), st.sampled_from([TODAY - timedelta(days=1), TODAY, TODAY + timedelta(days=1)])
)


def mostly(usual: object, values: list[object]) -> st.SearchStrategy[object]:
    """`usual` about three times in four, so that generated users are often billable and the
    rarer cases still come up."""
    return st.sampled_from([usual] * 9 + values)


@dataclass(frozen=True)
class GenMembership:
    user: int
    source: int
    level: AccessLevel
    state: MembershipState
    invite_pending: bool
    access_request: bool
    expires_on: date | None


@dataclass(frozen=True)
class GenShare:
    shared_group: int
    target: int
    level: AccessLevel
    expires_on: date | None


@st.composite
def worlds(draw: st.DrawFn, min_sources: int = 2, min_memberships: int = 0) -> dict[str, object]:
    # sources 0..n-1: 0 is the top-level group of namespace A, 1 the top-level group of an
    # outside namespace B (whose groups get invited into A's hierarchy); the rest are
    # subgroups and projects of either, each under an earlier group of its namespace.
    # Entries: (index, kind, namespace, parent index or None).
    source_count = draw(st.integers(min_sources, 6))
    sources: list[tuple[int, SourceKind, str, int | None]] = [
        (0, SourceKind.GROUP, "A", None),
        (1, SourceKind.GROUP, "B", None),
    ]
    for i in range(2, source_count):
        ns = draw(st.sampled_from(["A", "B"]))
        parents = [j for j, kind, n, _ in sources if kind is SourceKind.GROUP and n == ns]
        sources.append(
            (i, draw(st.sampled_from(list(SourceKind))), ns, draw(st.sampled_from(parents)))
        )
    user_count = draw(st.integers(max(1, min_memberships // 3), 8))
    users = [
        SeatUser(
            draw(mostly(UserState.ACTIVE, list(UserState))),
            draw(mostly(UserType.HUMAN, list(UserType))),
        )
        for _ in range(user_count)
    ]
    memberships = draw(
        st.lists(
            st.builds(
                GenMembership,
                user=st.integers(0, user_count - 1),
                source=st.sampled_from([1, 1, *range(source_count)]),
                level=st.sampled_from(list(AccessLevel)),
                state=mostly(MembershipState.ACTIVE, list(MembershipState)),
                invite_pending=mostly(False, [True]),
                access_request=mostly(False, [True]),
                expires_on=DATES,
            ),
            min_size=min_memberships,
            max_size=20,
            unique_by=lambda m: (m.user, m.source),
        )
    )
    groups = [i for i, kind, _, _ in sources if kind is SourceKind.GROUP]
    shares = draw(
        st.lists(
            st.builds(
                GenShare,
                shared_group=st.sampled_from([1, 1, 1, *groups]),
                target=st.sampled_from([0, 0, *range(source_count)]),
                level=st.sampled_from(list(AccessLevel)),
                expires_on=DATES,
            ),
            min_size=1,
            max_size=4,
            unique_by=lambda s: (s.shared_group, s.target),
        ).filter(lambda shares: all(s.shared_group != s.target for s in shares))
    )
    plan = draw(st.sampled_from([None, "premium", "ultimate"]))
    return {
        "sources": sources,
        "users": users,
        "memberships": memberships,
        "shares": shares,
        "plan": plan,
    }


def pure_levels(world: dict[str, object]) -> dict[int, tuple[int, str]]:
    """Billable users (by index) with their highest counting role and how they hold it, by
    the pure rules."""
    sources = {i: (kind, ns) for i, kind, ns, _ in world["sources"]}  # type: ignore[attr-defined]
    in_a = {i for i, (_, ns) in sources.items() if ns == "A"}
    by_user: dict[int, list[SeatMembership]] = defaultdict(list)
    for m in world["memberships"]:  # type: ignore[attr-defined]
        common = {
            "access_level": m.level,
            "state": m.state,
            "invite_pending": m.invite_pending,
            "access_request": m.access_request,
            "expires_on": m.expires_on,
        }
        if m.source in in_a:
            by_user[m.user].append(SeatMembership(source_kind=sources[m.source][0], **common))
        for share in world["shares"]:  # type: ignore[attr-defined]
            if share.shared_group == m.source and share.target in in_a:
                by_user[m.user].append(
                    SeatMembership(
                        source_kind=sources[share.target][0],
                        shared_access_level=share.level,
                        share_expires_on=share.expires_on,
                        **common,
                    )
                )
    users = world["users"]  # type: ignore[assignment]
    levels = {}
    for user, memberships in by_user.items():
        decision = seat_decision(
            users[user],  # type: ignore[index]
            memberships,
            excludes_guests=world["plan"] == "ultimate",
            today=TODAY,
        )
        if decision.billable:
            assert decision.highest_access_level is not None
            assert decision.membership_type is not None
            levels[user] = (int(decision.highest_access_level), decision.membership_type.value)
    assert len(levels) == count_billable(
        [(users[u], ms) for u, ms in by_user.items()],  # type: ignore[index]
        excludes_guests=world["plan"] == "ultimate",
        today=TODAY,
    )
    return levels


async def sql_levels(session: AsyncSession, world: dict[str, object]) -> dict[int, tuple[int, str]]:
    """The same, computed by the SQL over rows inserted for the world."""
    namespaces = {name: Namespace(path=f"ns-{name}", name=name) for name in ("A", "B")}
    session.add_all(namespaces.values())
    await session.flush()
    if world["plan"]:
        plan = Plan(
            code=world["plan"], name="p", excludes_guests=world["plan"] == "ultimate", position=1
        )
        session.add(plan)
        await session.flush()
        price = Price(
            plan_id=plan.id,
            currency="USD",
            billing_period="annual",
            unit_amount=1,
            valid_from=date(2020, 1, 1),
        )
        customer = Customer(name="c", billing_email="c@example.com", currency="USD")
        session.add_all([price, customer])
        await session.flush()
        session.add(
            Subscription(
                customer_id=customer.id,
                namespace_id=namespaces["A"].id,
                plan_id=plan.id,
                price_id=price.id,
                seats=1,
                start_date=TODAY,
                end_date=TODAY + timedelta(days=365),
                status="active",
                auto_renew=True,
                trial=False,
            )
        )
    sources = {}
    for i, kind, ns, _ in world["sources"]:  # type: ignore[attr-defined]
        sources[i] = Source(
            kind=kind.value, gitlab_id=i, full_path=f"{ns}/{i}", namespace_id=namespaces[ns].id
        )
    session.add_all(sources.values())
    await session.flush()
    for i, _, _, parent in world["sources"]:  # type: ignore[attr-defined]
        sources[i].parent_id = None if parent is None else sources[parent].id
    users = [
        GitlabUser(
            gitlab_id=i,
            username=f"u{i}",
            name=f"U {i}",
            state=u.state.value,
            user_type=u.user_type.value,
        )
        for i, u in enumerate(world["users"])
    ]  # type: ignore[arg-type]
    session.add_all(users)
    await session.flush()
    session.add_all(
        Membership(
            user_id=users[m.user].id,
            source_id=sources[m.source].id,
            access_level=int(m.level),
            state=m.state.value,
            invite_pending=m.invite_pending,
            access_request=m.access_request,
            expires_on=m.expires_on,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for m in world["memberships"]
    )  # type: ignore[attr-defined]
    session.add_all(
        GroupShare(
            shared_group_id=sources[s.shared_group].id,
            target_source_id=sources[s.target].id,
            access_level=int(s.level),
            expires_on=s.expires_on,
        )
        for s in world["shares"]
    )  # type: ignore[attr-defined]
    await session.flush()
    namespace_id = namespaces["A"].id
    assert namespace_id is not None
    levels = await billable_levels(session, namespace_id, today=TODAY)
    [count] = await billable_counts(session, [namespace_id], today=TODAY)
    assert count == len(levels)
    index = {user.id: i for i, user in enumerate(users)}
    kinds = {
        ("group", False): "group_member",
        ("project", False): "project_member",
        ("group", True): "group_invite",
        ("project", True): "project_invite",
    }
    computed = {
        index[u]: (level, kinds[kind, shared]) for u, (level, kind, shared) in levels.items()
    }

    # the maintained table agrees with the from-scratch query, and a second, per-user
    # refresh finds nothing to change
    await refresh_billable_members(session, [namespace_id], today=TODAY)
    rows = await session.execute(
        select(BillableMember).where(col(BillableMember.namespace_id) == namespace_id)
    )
    kept = {index[r.user_id]: (r.access_level, r.membership_type) for r in rows.scalars()}
    assert kept == computed
    again = await refresh_billable_members(
        session, [namespace_id], today=TODAY, user_ids=list(index)
    )
    assert (again.changed, again.delta) == (0, {})
    return computed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds())
async def test_sql_count_equals_pure_count(engine: AsyncEngine, world: dict[str, object]) -> None:
    """Who is billable, with which highest role, and so how many: SQL and pure rules agree."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
            assert await sql_levels(session, world) == pure_levels(world)
        finally:
            await transaction.rollback()


def _world(
    sources: list[tuple[int, SourceKind, str, int | None]],
    memberships: list[tuple[int, AccessLevel]],
    shares: list[tuple[int, int, AccessLevel]],
) -> dict[str, object]:
    """One active human (user 0) holding `memberships` (source, role), with `shares`
    (invited group, target, role granted), on Premium."""
    return {
        "sources": sources,
        "users": [SeatUser(UserState.ACTIVE, UserType.HUMAN)],
        "memberships": [
            GenMembership(0, source, level, MembershipState.ACTIVE, False, False, None)
            for source, level in memberships
        ],
        "shares": [GenShare(group, target, level, None) for group, target, level in shares],
        "plan": "premium",
    }


# 0 is A's top-level group, 1 B's (invited into A), 2 a project of A, 3 a group of B
A_GROUP = (0, SourceKind.GROUP, "A", None)
B_GROUP = (1, SourceKind.GROUP, "B", None)
A_PROJECT = (2, SourceKind.PROJECT, "A", 0)
B_SUBGROUP = (3, SourceKind.GROUP, "B", 1)
REPORTER, MAINTAINER = AccessLevel.REPORTER, AccessLevel.MAINTAINER


@pytest.mark.parametrize(
    ("world", "expected"),
    [
        # a direct Reporter of A's group, and a Reporter of B's group, which is invited into
        # A's group as Maintainer (effective Reporter): the direct membership is shown
        (
            _world([A_GROUP, B_GROUP], [(0, REPORTER), (1, REPORTER)], [(1, 0, MAINTAINER)]),
            (20, "group_member"),
        ),
        # the same, the invited membership listed first
        (
            _world([A_GROUP, B_GROUP], [(1, REPORTER), (0, REPORTER)], [(1, 0, MAINTAINER)]),
            (20, "group_member"),
        ),
        # a direct project membership beats an invitation into the group at the same role
        (
            _world(
                [A_GROUP, B_GROUP, A_PROJECT], [(1, MAINTAINER), (2, REPORTER)], [(1, 0, REPORTER)]
            ),
            (20, "project_member"),
        ),
        # the invitation grants more than the direct membership: it is the highest role
        (
            _world(
                [A_GROUP, B_GROUP, A_PROJECT],
                [(1, MAINTAINER), (2, REPORTER)],
                [(1, 0, MAINTAINER)],
            ),
            (40, "group_invite"),
        ),
        # two direct memberships at the same role, either order: the group's is shown
        (
            _world([A_GROUP, B_GROUP, A_PROJECT], [(2, REPORTER), (0, REPORTER)], []),
            (20, "group_member"),
        ),
        (
            _world([A_GROUP, B_GROUP, A_PROJECT], [(0, REPORTER), (2, REPORTER)], []),
            (20, "group_member"),
        ),
        # two invitations at the same role, into a project and into the group
        (
            _world(
                [A_GROUP, B_GROUP, A_PROJECT, B_SUBGROUP],
                [(1, REPORTER), (3, REPORTER)],
                [(1, 2, REPORTER), (3, 0, REPORTER)],
            ),
            (20, "group_invite"),
        ),
    ],
)
async def test_the_membership_shown_at_equal_roles(
    session: AsyncSession, world: dict[str, object], expected: tuple[int, str]
) -> None:
    """Fixed examples of the tie the generated worlds reach only on some seeds."""
    assert pure_levels(world) == {0: expected}
    assert await sql_levels(session, world) == {0: expected}
