"""GitLab.com removes users, groups and projects, and group shares; seat figures follow and
past counts stay."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import GraphQL
from tests.helpers import data, error_codes, row_counts
from tests.schema.test_seat_data import MEMBERSHIPS, USERS, member, mutation, push
from tests.schema.test_seat_transfers import (
    API,
    BACKEND,
    CONTRACTORS,
    DB,
    INFRA,
    LABS,
    seats,
    world,
)

pytestmark = pytest.mark.usefixtures("demo")
__all__ = ["world"]  # the fixture, shared with the transfer tests

USERS_REMOVE = mutation("usersRemove", "UserKeyInput")
SOURCES_REMOVE = mutation("sourcesRemove", "SourceKeyInput")
SHARES_REMOVE = mutation("groupSharesRemove", "GroupShareKeyInput")
FIGURES = """query($path: String!) { namespace(path: $path) {
  subscription { seatsInUse maxSeatsUsed } } }"""


async def figures(gql: GraphQL, token: str, path: str) -> dict[str, int]:
    result: dict[str, int] = data(await gql(FIGURES, {"path": path}, token=token))["namespace"][
        "subscription"
    ]
    return result


async def personal_data(session: AsyncSession, *values: str) -> list[str]:
    """Tables still holding any of these strings in a user column."""
    found = []
    for table in ("gitlab_user", "billable_member"):
        rows = await session.execute(
            text(
                f"SELECT 1 FROM {table} WHERE username = ANY(:v) OR name = ANY(:v)"
                " OR public_email = ANY(:v)"
            ),
            {"v": list(values)},
        )
        if rows.first():
            found.append(table)
    return found


async def test_a_removed_user_is_erased_and_frees_the_username_while_peaks_stay(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    email = {"id": 2, "username": "bob", "name": "Bob", "state": "active", "publicEmail": "b@x"}
    assert (await push(gql, USERS, [email], world))["changed"] == 1
    assert (await push(gql, MEMBERSHIPS, [member(2, "GROUP", LABS, "developer")], world))[
        "namespacesRecounted"
    ] == 1
    assert await figures(gql, world, "acme") == {"seatsInUse": 5, "maxSeatsUsed": 5}
    assert await figures(gql, world, "acme-labs") == {"seatsInUse": 1, "maxSeatsUsed": 1}

    removed = await push(gql, USERS_REMOVE, [{"id": 2}, {"id": 999}], world)
    assert removed == {
        "__typename": "BatchWriteSuccess",
        "received": 2,
        "changed": 1,  # 999 was never there: nothing to remove
        "namespacesRecounted": 2,
    }
    assert await figures(gql, world, "acme") == {"seatsInUse": 4, "maxSeatsUsed": 5}
    assert await figures(gql, world, "acme-labs") == {"seatsInUse": 0, "maxSeatsUsed": 1}
    assert await seats(session, "acme") == {
        "members": ["alice", "carol", "dave", "erin"],
        "peak": 5,
    }
    assert await personal_data(session, "bob", "Bob", "b@x") == []
    assert (
        await session.execute(text("SELECT count(*) FROM membership m WHERE m.user_id IS NULL"))
    ).scalar() == 0

    again = await push(gql, USERS_REMOVE, [{"id": 2}], world)
    assert (again["changed"], again["namespacesRecounted"]) == (0, 0)
    # the username is free for someone else
    newcomer = {"id": 77, "username": "bob", "name": "Another Bob", "state": "active"}
    assert (await push(gql, USERS, [newcomer], world))["changed"] == 1


async def test_renames_may_swap_usernames_inside_one_batch(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    swapped = [
        {"id": 1, "username": "bob", "name": "Alice", "state": "active"},
        {"id": 2, "username": "alice", "name": "Bob", "state": "active"},
    ]
    assert (await push(gql, USERS, swapped, world))["changed"] == 2
    assert (await seats(session, "acme"))["members"] == ["alice", "bob", "carol", "dave", "erin"]
    rows = await session.execute(
        text("SELECT gitlab_id, username FROM gitlab_user WHERE gitlab_id IN (1, 2)")
    )
    assert dict(rows.all()) == {1: "bob", 2: "alice"}
    names = await session.execute(
        text("SELECT username, name FROM billable_member WHERE username IN ('alice', 'bob')")
    )
    assert dict(names.all()) == {"alice": "Bob", "bob": "Alice"}


async def test_a_rename_onto_a_username_kept_outside_the_batch_is_refused(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    before = await row_counts(session)
    result = await push(
        gql, USERS, [{"id": 1, "username": "bob", "name": "Alice", "state": "active"}], world
    )
    assert [(p["index"], p["field"], p["code"]) for p in result["problems"]] == [
        (0, "username", "USERNAME_TAKEN")
    ]
    assert await row_counts(session) == before


async def test_removing_a_subgroup_takes_its_descendants_memberships_and_shares(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    # carol (in infra's db project) also joins infra, which is invited into acme-labs as guest
    # on Ultimate (no seat); bob joins acme-labs itself
    extra = [member(3, "GROUP", INFRA, "developer"), member(2, "GROUP", LABS, "developer")]
    await push(gql, MEMBERSHIPS, extra, world)
    assert await seats(session, "acme-labs") == {"members": ["bob"], "peak": 1}

    removed = await push(gql, SOURCES_REMOVE, [{"kind": "GROUP", "id": BACKEND}], world)
    assert removed == {
        "__typename": "BatchWriteSuccess",
        "received": 1,
        "changed": 4,  # backend, infra, api and db
        "namespacesRecounted": 2,  # acme, and acme-labs where infra was invited
    }
    # bob, carol and frank lose backend; erin came through contractors invited into api
    assert await seats(session, "acme") == {"members": ["alice", "dave"], "peak": 5}
    assert await seats(session, "acme-labs") == {"members": ["bob"], "peak": 1}
    left = await session.execute(
        text(
            "SELECT (SELECT count(*) FROM source WHERE gitlab_id = ANY(:ids)),"
            " (SELECT count(*) FROM group_share),"
            " (SELECT count(*) FROM membership m JOIN gitlab_user u ON u.id = m.user_id"
            "  WHERE u.gitlab_id = 3)"
        ),
        {"ids": [BACKEND, INFRA, API, DB]},
    )
    assert left.one() == (0, 0, 0)

    again = await push(gql, SOURCES_REMOVE, [{"kind": "GROUP", "id": BACKEND}], world)
    assert (again["changed"], again["namespacesRecounted"]) == (0, 0)


async def test_removing_a_project_or_an_invited_top_level_group(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    removed = await push(gql, SOURCES_REMOVE, [{"kind": "GROUP", "id": CONTRACTORS}], world)
    assert (removed["changed"], removed["namespacesRecounted"]) == (1, 2)  # contractors, acme
    assert (await seats(session, "acme"))["members"] == ["alice", "bob", "carol", "dave"]
    # the namespace row stays: it may hold subscriptions and history
    assert await seats(session, "contractors") == {"members": [], "peak": 1}  # erin, earlier

    removed = await push(gql, SOURCES_REMOVE, [{"kind": "PROJECT", "id": DB}], world)
    assert (removed["changed"], removed["namespacesRecounted"]) == (1, 1)
    assert (await seats(session, "acme"))["members"] == ["alice", "bob", "dave"]


async def test_removing_a_group_share(gql: GraphQL, world: str, session: AsyncSession) -> None:
    share = {"sharedGroupId": CONTRACTORS, "targetKind": "PROJECT", "targetId": API}
    removed = await push(gql, SHARES_REMOVE, [share], world)
    assert (removed["changed"], removed["namespacesRecounted"]) == (1, 1)
    assert (await seats(session, "acme"))["members"] == ["alice", "bob", "carol", "dave"]
    again = await push(gql, SHARES_REMOVE, [share], world)
    assert (again["changed"], again["namespacesRecounted"]) == (0, 1)


@pytest.mark.parametrize(
    ("query", "records", "problems"),
    [
        (USERS_REMOVE, [{"id": 1}, {"id": 1}], [(0, "id"), (1, "id")]),
        (
            SOURCES_REMOVE,
            [{"kind": "GROUP", "id": BACKEND}, {"kind": "GROUP", "id": BACKEND}],
            [(0, "id"), (1, "id")],
        ),
        (
            SHARES_REMOVE,
            [
                {"sharedGroupId": CONTRACTORS, "targetKind": "PROJECT", "targetId": API},
                {"sharedGroupId": CONTRACTORS, "targetKind": "PROJECT", "targetId": API},
                {"sharedGroupId": 555, "targetKind": "GROUP", "targetId": 556},
                {"sharedGroupId": CONTRACTORS, "targetKind": "GROUP", "targetId": CONTRACTORS},
            ],
            [
                (0, "targetId"),
                (1, "targetId"),
                (2, "sharedGroupId"),
                (2, "targetId"),
                (3, "targetId"),
            ],
        ),
    ],
)
async def test_a_bad_removal_batch_is_refused_whole(
    gql: GraphQL,
    world: str,
    session: AsyncSession,
    query: str,
    records: list[dict[str, Any]],
    problems: list[tuple[int, str]],
) -> None:
    before = await row_counts(session)
    result = await push(gql, query, records, world)
    assert (result["__typename"], result["code"]) == ("InvalidBatchError", "INVALID_BATCH")
    assert [(p["index"], p["field"]) for p in result["problems"]] == problems
    codes = {p["code"] for p in result["problems"]}
    assert codes <= {"DUPLICATE_RECORD", "UNKNOWN_SOURCE", "INVALID_VALUE"}
    assert await row_counts(session) == before


@pytest.mark.parametrize("query", [USERS_REMOVE, SOURCES_REMOVE, SHARES_REMOVE])
@pytest.mark.parametrize(("role", "code"), [(None, "UNAUTHENTICATED"), ("customer", "FORBIDDEN")])
async def test_only_gitlab_and_admins_remove_seat_data(
    gql: GraphQL,
    world: str,
    token: Callable[..., str],
    session: AsyncSession,
    query: str,
    role: str | None,
    code: str,
) -> None:
    before = await row_counts(session)
    body = await gql(query, {"records": []}, token=token(role, 1) if role else None)
    assert error_codes(body) == [code]
    assert await row_counts(session) == before


async def test_over_1000_removals_are_refused(gql: GraphQL, world: str) -> None:
    body = await gql(USERS_REMOVE, {"records": [{"id": i} for i in range(1001)]}, token=world)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "records"}


async def test_transfers_and_removals_are_set_based(
    gql: GraphQL, world: str, count_statements: Any
) -> None:
    sources = mutation("sourcesUpsert", "SourceInput")
    shares = mutation("groupSharesUpsert", "GroupShareInput")

    async def statements(first: int, count: int) -> int:
        users = [
            {"id": first + i, "username": f"u{first + i}", "name": "U", "state": "active"}
            for i in range(count)
        ]
        ids = [u["id"] for u in users]
        groups = [
            {"kind": "GROUP", "id": i, "fullPath": f"g{i}", "name": "G", "parentId": None}
            for i in ids
        ]
        invited = [
            {"sharedGroupId": i, "targetKind": "PROJECT", "targetId": API, "role": "guest"}
            for i in ids
        ]
        await push(gql, USERS, users, world)
        await push(gql, sources, groups, world)
        await push(gql, MEMBERSHIPS, [member(i, "GROUP", i, "developer") for i in ids], world)
        await push(gql, shares, invited, world)
        moved = [{**g, "fullPath": f"acme/backend/g{g['id']}", "parentId": BACKEND} for g in groups]
        with count_statements() as counted:
            assert (await push(gql, sources, moved, world))["changed"] == count
            uninvited = [{k: v for k, v in r.items() if k != "role"} for r in invited]
            assert (await push(gql, SHARES_REMOVE, uninvited[: count // 3], world))[
                "changed"
            ] == count // 3
            assert (await push(gql, USERS_REMOVE, [{"id": i} for i in ids], world))[
                "changed"
            ] == count
            removed = await push(
                gql, SOURCES_REMOVE, [{"kind": "GROUP", "id": i} for i in ids], world
            )
            assert removed["changed"] == count
        return counted.n

    assert await statements(10_000, 3) == await statements(20_000, 300)
