"""Moves and removals keep the maintained seat figures equal to the pure rules: generated
hierarchies (tests.resolvers.test_seat_count_property.worlds), then a few transfers and
removals through the resolvers, each followed by a comparison of both namespaces' maintained
members, seats in use and peaks with billing.seats. Seeded draws (tests.helpers.drawn) run
on the test's event loop, so the run time stays fixed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from billing.seats import (
    AccessLevel,
    MembershipState,
    SeatMembership,
    SeatUser,
    SourceKind,
    UserState,
    UserType,
    seat_decision,
)
from db.ingest import refresh_seat_figures
from resolvers import seat_data, seat_removals
from resolvers.context import Context
from resolvers.principal import Principal, Role
from tests.conftest import FixedClock
from tests.helpers import drawn
from tests.resolvers.test_seat_count_property import (
    TODAY,
    GenMembership,
    GenShare,
    sql_levels,
    worlds,
)

OPS = ["move", "move", "remove_user", "remove_source", "remove_share"]


@st.composite
def stories(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    ops = st.tuples(st.sampled_from(OPS), st.integers(0, 99), st.integers(0, 99))
    return draw(worlds(min_sources=4, min_memberships=6)), draw(
        st.lists(ops, min_size=2, max_size=5)
    )


@dataclass
class Model:
    """The world as the pure rules see it, changed as the database should be."""

    sources: dict[int, tuple[SourceKind, int | None]]  # index -> (kind, parent index)
    users: dict[int, SeatUser]
    memberships: list[GenMembership]
    shares: list[GenShare]
    plan: str | None
    peaks: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, world: dict[str, Any]) -> Model:
        return cls(
            sources={i: (kind, parent) for i, kind, _, parent in world["sources"]},
            users=dict(enumerate(world["users"])),
            memberships=list(world["memberships"]),
            shares=list(world["shares"]),
            plan=world["plan"],
        )

    def namespace(self, source: int) -> str:
        while (parent := self.sources[source][1]) is not None:
            source = parent
        return {0: "A", 1: "B"}[source]

    def subtree(self, source: int) -> set[int]:
        found = {source}
        while more := {i for i, (_, p) in self.sources.items() if p in found} - found:
            found |= more
        return found

    def levels(self, ns: str) -> dict[int, tuple[int, str]]:
        inside = {i for i in self.sources if self.namespace(i) == ns}
        held: dict[int, list[SeatMembership]] = {}
        for m in self.memberships:
            common = {
                "access_level": m.level,
                "state": m.state,
                "invite_pending": m.invite_pending,
                "access_request": m.access_request,
                "expires_on": m.expires_on,
            }
            reaching = [SeatMembership(source_kind=self.sources[m.source][0], **common)] * (
                m.source in inside
            )
            reaching += [
                SeatMembership(
                    source_kind=self.sources[s.target][0],
                    shared_access_level=s.level,
                    share_expires_on=s.expires_on,
                    **common,
                )
                for s in self.shares
                if s.shared_group == m.source and s.target in inside
            ]
            held.setdefault(m.user, []).extend(reaching)
        levels = {}
        for user, memberships in held.items():
            decision = seat_decision(
                self.users[user],
                memberships,
                excludes_guests=self.plan == "ultimate" and ns == "A",  # A holds the plan
                today=TODAY,
            )
            if decision.billable:
                assert decision.highest_access_level is not None
                assert decision.membership_type is not None
                levels[user] = (int(decision.highest_access_level), decision.membership_type.value)
        return levels


async def apply(context: Context, model: Model, op: str, a: int, b: int) -> None:
    """Apply one drawn operation (its numbers pick among what exists) to the database through
    the resolvers and to the model; operations with nothing to act on are skipped."""
    if op == "move":
        movable = sorted(i for i, (_, p) in model.sources.items() if p is not None)
        invited = sorted({s.target for s in model.shares} & set(movable))
        if a % 2 == 0 and invited:  # half the time, one a group is invited into
            movable = invited
        if not movable:
            return
        source = movable[a % len(movable)]
        kind = model.sources[source][0]
        parents = sorted(
            i
            for i, (k, _) in model.sources.items()
            if k is SourceKind.GROUP and i not in model.subtree(source)
        )
        parent = parents[b % len(parents)]
        before = model.namespace(source)
        record = seat_data.SourceRecord(kind, source, f"moved/{source}", "moved", parent)
        result = await seat_data.upsert_sources(context, [record])
        model.sources[source] = (kind, parent)
        assert result.namespaces_recounted == (2 if model.namespace(source) != before else 0)
    elif op == "remove_user" and model.users:
        user = sorted(model.users)[a % len(model.users)]
        result = await seat_removals.remove_users(context, [user])
        assert result.changed == 1
        del model.users[user]
        model.memberships = [m for m in model.memberships if m.user != user]
    elif op == "remove_source":
        # below the top-level groups (removing one is a story of its own: test_seat_removals)
        removable = sorted(i for i, (_, p) in model.sources.items() if p is not None)
        # half the time, one a group is invited into: its invited members lose their way in
        invited = sorted({s.target for s in model.shares} & set(removable))
        if b % 2 == 0 and invited:
            removable = invited
        if not removable:
            return
        source = removable[a % len(removable)]
        gone = model.subtree(source)
        key = seat_removals.SourceKey(model.sources[source][0], source)
        result = await seat_removals.remove_sources(context, [key])
        assert result.changed == len(gone)
        model.sources = {i: s for i, s in model.sources.items() if i not in gone}
        model.memberships = [m for m in model.memberships if m.source not in gone]
        model.shares = [
            s for s in model.shares if s.shared_group not in gone and s.target not in gone
        ]
    elif op == "remove_share" and model.shares:
        share = model.shares[a % len(model.shares)]
        kind = model.sources[share.target][0]
        result = await seat_removals.remove_group_shares(
            context, [(share.shared_group, kind, share.target)]
        )
        assert result.changed == 1
        model.shares.remove(share)


async def maintained(session: AsyncSession, ns: str) -> tuple[dict[int, tuple[int, str]], int, int]:
    """The maintained members (by user index), seats in use and today's peak of a namespace."""
    rows = await session.execute(
        text(
            "SELECT u.gitlab_id, b.access_level, b.membership_type FROM billable_member b"
            " JOIN gitlab_user u ON u.id = b.user_id JOIN namespace n ON n.id = b.namespace_id"
            " WHERE n.path = :path"
        ),
        {"path": f"ns-{ns}"},
    )
    figures = await session.execute(
        text(
            "SELECT n.seats_in_use, s.peak FROM namespace n LEFT JOIN seat_snapshot s"
            " ON s.namespace_id = n.id AND s.day = :today WHERE n.path = :path"
        ),
        {"path": f"ns-{ns}", "today": TODAY},
    )
    in_use, peak = figures.one()
    return {u: (level, kind) for u, level, kind in rows}, in_use, peak


async def check(session: AsyncSession, model: Model) -> None:
    for ns in ("A", "B"):
        levels = model.levels(ns)
        model.peaks[ns] = max(model.peaks.get(ns, 0), len(levels))
        assert await maintained(session, ns) == (levels, len(levels), model.peaks[ns]), ns
    if model.plan:  # A's subscription keeps the term's peak
        peak = await session.execute(
            text(
                "SELECT s.max_seats_used FROM subscription s JOIN namespace n"
                " ON n.id = s.namespace_id WHERE n.path = 'ns-A'"
            )
        )
        assert peak.scalar_one() == model.peaks["A"]


def invited_story(op: str, b: int) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    """B's top-level group invited into A's subgroup 2, whose only members come that way:
    moving or removing the subgroup takes their seat in A (rare in the draws)."""
    world = {
        "sources": [
            (0, SourceKind.GROUP, "A", None),
            (1, SourceKind.GROUP, "B", None),
            (2, SourceKind.GROUP, "A", 0),
            (3, SourceKind.PROJECT, "A", 2),
        ],
        "users": [SeatUser(UserState.ACTIVE, UserType.HUMAN)] * 2,
        "memberships": [
            GenMembership(0, 1, AccessLevel.DEVELOPER, MembershipState.ACTIVE, False, False, None),
            GenMembership(1, 3, AccessLevel.GUEST, MembershipState.ACTIVE, False, False, None),
        ],
        "shares": [GenShare(1, 2, AccessLevel.OWNER, None)],
        "plan": "premium",
    }
    return world, [(op, 0, b)]


def all_stories() -> list[tuple[dict[str, Any], list[tuple[str, int, int]]]]:
    """The distinct seeded draws, and the hand-written stories."""
    draws = drawn(stories(), 20261201, 100)  # type: ignore[arg-type]
    return [
        *{repr(story): story for story in draws}.values(),
        invited_story("move", 1),  # subgroup 2 under B's top-level group
        invited_story("remove_source", 0),
    ]


async def test_moves_and_removals_keep_the_maintained_figures_equal_to_the_pure_rules(
    engine: AsyncEngine,
) -> None:
    for world, ops in all_stories():
        async with engine.connect() as connection:
            transaction = await connection.begin()
            try:
                sessions = async_sessionmaker(
                    bind=connection, join_transaction_mode="create_savepoint"
                )
                async with sessions() as session:
                    await sql_levels(session, world)  # the world, checked as it is
                    ids = (await session.execute(text("SELECT id FROM namespace"))).scalars()
                    await refresh_seat_figures(session, list(ids), today=TODAY)
                    await session.commit()
                    model = Model.of(world)
                    await check(session, model)
                    for op, a, b in ops:
                        context = Context(
                            Principal(Role.GITLAB, "property", None), FixedClock(), "p", sessions
                        )
                        try:
                            await apply(context, model, op, a, b)
                        finally:
                            await context.close()
                        await check(session, model)
            finally:
                await transaction.rollback()
