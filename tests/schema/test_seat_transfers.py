"""A group or project moved to another top-level namespace takes its descendants, and both
namespaces' seat figures follow in the same transaction."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.seats import billable_levels
from tests.conftest import TODAY, GraphQL
from tests.helpers import row_counts
from tests.schema.test_seat_data import MEMBERSHIPS, SHARES, SOURCES, USERS, member, push

pytestmark = pytest.mark.usefixtures("demo")

# acme (Premium) and acme-labs (Ultimate trial: guests take no seat) exist in the demo data
ACME, BACKEND, INFRA, LABS, CONTRACTORS = 100, 101, 102, 400, 300
API, DB = 200, 201


def group(gid: int, path: str, parent: int | None = None) -> dict[str, Any]:
    return {"kind": "GROUP", "id": gid, "fullPath": path, "name": path, "parentId": parent}


def project(gid: int, path: str, parent: int) -> dict[str, Any]:
    return {"kind": "PROJECT", "id": gid, "fullPath": path, "name": path, "parentId": parent}


WORLD = [
    group(ACME, "acme"),
    group(BACKEND, "acme/backend", ACME),
    group(INFRA, "acme/backend/infra", BACKEND),
    project(API, "acme/backend/api", BACKEND),
    project(DB, "acme/backend/infra/db", INFRA),
    group(LABS, "acme-labs"),
    group(CONTRACTORS, "contractors"),
]
PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank"]
MEMBERS = [
    member(1, "GROUP", ACME, "developer"),  # alice stays in acme
    member(2, "GROUP", BACKEND, "developer"),  # bob moves with backend
    member(3, "PROJECT", DB, "reporter"),  # carol, two levels down, moves too
    member(4, "GROUP", ACME, "developer"),  # dave keeps a seat in acme...
    member(4, "PROJECT", API, "guest"),  # ...and is only a guest below backend
    member(5, "GROUP", CONTRACTORS, "developer"),  # erin, through contractors invited into api
    member(6, "GROUP", BACKEND, "developer"),  # frank is blocked
]


@pytest.fixture
async def world(gql: GraphQL, token: Callable[..., str]) -> str:
    gitlab = token("gitlab")
    users = [
        {"id": i, "username": name, "name": name.title(), "state": "active"}
        for i, name in enumerate(PEOPLE, start=1)
    ]
    users[5]["state"] = "blocked"
    assert (await push(gql, SOURCES, WORLD, gitlab))["changed"] == len(WORLD)
    assert (await push(gql, USERS, users, gitlab))["changed"] == len(users)
    assert (await push(gql, MEMBERSHIPS, MEMBERS, gitlab))["changed"] == len(MEMBERS)
    # contractors invited into the api project; backend's infra group invited into acme-labs
    shares = [
        {"sharedGroupId": CONTRACTORS, "targetKind": "PROJECT", "targetId": API, "role": "owner"},
        {"sharedGroupId": INFRA, "targetKind": "GROUP", "targetId": LABS, "role": "guest"},
    ]
    assert (await push(gql, SHARES, shares, gitlab))["changed"] == 2
    return gitlab


async def seats(session: AsyncSession, path: str) -> dict[str, Any]:
    """What the maintained figures say of a namespace, checked against a from-scratch count."""
    [(namespace_id, in_use)] = (
        await session.execute(
            text("SELECT id, seats_in_use FROM namespace WHERE path = :path"), {"path": path}
        )
    ).all()
    kept = (
        await session.execute(
            text("SELECT user_id, username FROM billable_member WHERE namespace_id = :id"),
            {"id": namespace_id},
        )
    ).all()
    scratch = await billable_levels(session, namespace_id, today=TODAY)
    assert {user for user, _ in kept} == set(scratch)
    assert in_use == len(scratch)
    peak = (
        await session.execute(
            text("SELECT peak FROM seat_snapshot WHERE namespace_id = :id AND day = :day"),
            {"id": namespace_id, "day": TODAY},
        )
    ).scalar()
    return {"members": sorted(name for _, name in kept), "peak": peak}


async def paths(session: AsyncSession) -> dict[int, tuple[str, str]]:
    rows = await session.execute(
        text(
            "SELECT s.gitlab_id, s.full_path, n.path FROM source s"
            " JOIN namespace n ON n.id = s.namespace_id WHERE s.gitlab_id = ANY(:ids)"
        ),
        {"ids": [BACKEND, INFRA, API, DB]},
    )
    return {gid: (full_path, namespace) for gid, full_path, namespace in rows}


async def test_a_subgroup_moves_with_its_subgroups_projects_and_invited_members_and_back(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    assert await seats(session, "acme") == {
        "members": ["alice", "bob", "carol", "dave", "erin"],
        "peak": 5,
    }
    assert await seats(session, "acme-labs") == {"members": [], "peak": 0}

    # backend goes under acme-labs with everything below it
    moved = await push(gql, SOURCES, [group(BACKEND, "acme-labs/backend", LABS)], world)
    assert moved == {
        "__typename": "BatchWriteSuccess",
        "received": 1,
        "changed": 4,  # backend and its three descendants
        "namespacesRecounted": 2,
    }
    assert await paths(session) == {
        BACKEND: ("acme-labs/backend", "acme-labs"),
        INFRA: ("acme-labs/backend/infra", "acme-labs"),
        API: ("acme-labs/backend/api", "acme-labs"),
        DB: ("acme-labs/backend/infra/db", "acme-labs"),
    }
    # dave keeps his acme seat; in acme-labs (Ultimate) his guest role takes none
    assert await seats(session, "acme") == {"members": ["alice", "dave"], "peak": 5}
    assert await seats(session, "acme-labs") == {"members": ["bob", "carol", "erin"], "peak": 3}

    back = await push(gql, SOURCES, [group(BACKEND, "acme/backend", ACME)], world)
    assert (back["changed"], back["namespacesRecounted"]) == (4, 2)
    assert (await paths(session))[DB] == ("acme/backend/infra/db", "acme")
    assert await seats(session, "acme") == {
        "members": ["alice", "bob", "carol", "dave", "erin"],
        "peak": 5,
    }
    assert await seats(session, "acme-labs") == {"members": [], "peak": 3}

    again = await push(gql, SOURCES, [group(BACKEND, "acme/backend", ACME)], world)
    assert (again["changed"], again["namespacesRecounted"]) == (0, 0)


async def test_a_project_moves_alone(gql: GraphQL, world: str, session: AsyncSession) -> None:
    moved = await push(gql, SOURCES, [project(API, "acme-labs/api", LABS)], world)
    assert (moved["changed"], moved["namespacesRecounted"]) == (1, 2)
    assert await seats(session, "acme") == {
        "members": ["alice", "bob", "carol", "dave"],
        "peak": 5,
    }
    assert await seats(session, "acme-labs") == {"members": ["erin"], "peak": 1}
    figures = await gql(
        '{ namespace(path: "acme-labs") { subscription { seatsInUse maxSeatsUsed } } }',
        token=world,
    )
    assert figures["data"]["namespace"]["subscription"] == {"seatsInUse": 1, "maxSeatsUsed": 1}


async def test_a_subgroup_made_top_level_becomes_its_own_namespace(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    moved = await push(gql, SOURCES, [group(BACKEND, "backend")], world)
    assert moved["namespacesRecounted"] == 2
    assert (await paths(session))[API] == ("backend/api", "backend")
    # no subscription, so no plan excludes guests: dave's guest role takes a seat here
    assert await seats(session, "backend") == {
        "members": ["bob", "carol", "dave", "erin"],
        "peak": 4,
    }
    assert await seats(session, "acme") == {"members": ["alice", "dave"], "peak": 5}


async def test_a_group_moved_under_its_own_subgroup_is_refused(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    before = await row_counts(session)
    result = await push(gql, SOURCES, [group(BACKEND, "acme/backend/infra/backend", INFRA)], world)
    assert [(p["index"], p["field"], p["code"]) for p in result["problems"]] == [
        (0, "parentId", "INVALID_VALUE")
    ]
    assert await row_counts(session) == before
    assert (await paths(session))[BACKEND] == ("acme/backend", "acme")


async def test_a_top_level_group_moved_under_another_leaves_its_namespace_empty(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    assert await seats(session, "contractors") == {"members": ["erin"], "peak": 1}
    moved = await push(gql, SOURCES, [group(CONTRACTORS, "acme-labs/contractors", LABS)], world)
    assert (moved["changed"], moved["namespacesRecounted"]) == (1, 2)
    # the namespace stays (it may hold subscriptions), with no one in it
    assert await seats(session, "contractors") == {"members": [], "peak": 1}
    assert await seats(session, "acme-labs") == {"members": ["erin"], "peak": 1}
    assert (await seats(session, "acme"))["members"] == ["alice", "bob", "carol", "dave", "erin"]
