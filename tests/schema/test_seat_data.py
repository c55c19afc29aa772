"""GitLab.com pushes users, groups, memberships and shares; seat figures follow."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import GraphQL
from tests.helpers import data, error_codes, row_counts

pytestmark = pytest.mark.usefixtures("demo")

RESULT = """{ __typename ... on BatchWriteSuccess { received changed namespacesRecounted }
  ... on InvalidBatchError { code field message problems { index field code } } }"""


def mutation(name: str, input_type: str) -> str:
    return (
        f"mutation($records: [{input_type}!]!) {{ {name}(input: {{records: $records}}) {RESULT} }}"
    )


USERS = mutation("usersUpsert", "UserInput")
SOURCES = mutation("sourcesUpsert", "SourceInput")
MEMBERSHIPS = mutation("membershipsUpsert", "MembershipInput")
REMOVE = mutation("membershipsRemove", "MembershipKeyInput")
SHARES = mutation("groupSharesUpsert", "GroupShareInput")
FIGURES = """{ namespace(path: "acme") { subscription {
  seats seatsInUse maxSeatsUsed seatsOwed seatsRemaining } } }"""

SOURCE_ROWS = [
    {"kind": "GROUP", "id": 100, "fullPath": "acme", "name": "Acme"},
    {"kind": "PROJECT", "id": 200, "fullPath": "acme/backend/api", "name": "API", "parentId": 101},
    {"kind": "GROUP", "id": 101, "fullPath": "acme/backend", "name": "Backend", "parentId": 100},
    {"kind": "GROUP", "id": 300, "fullPath": "contractors", "name": "Contractors"},
]
USER_ROWS = [
    {"id": 1, "username": "alice", "name": "Alice", "state": "active"},
    {"id": 2, "username": "bob", "name": "Bob", "state": "active"},
    {"id": 3, "username": "carol-bot", "name": "Carol", "state": "active", "userType": "bot"},
    {"id": 4, "username": "dave", "name": "Dave", "state": "blocked"},
    {"id": 5, "username": "erin", "name": "Erin", "state": "active"},
]


def member(user: int, kind: str, source: int, role: str, **extra: Any) -> dict[str, Any]:
    return {
        "userId": user,
        "sourceKind": kind,
        "sourceId": source,
        "role": role,
        "createdAt": "2026-01-10T09:00:00Z",
        **extra,
    }


MEMBER_ROWS = [
    member(1, "GROUP", 100, "developer"),
    member(1, "PROJECT", 200, "reporter"),  # alice counts once
    member(2, "GROUP", 101, "guest"),  # guests take a seat on Premium
    member(3, "GROUP", 100, "maintainer"),  # a bot
    member(4, "PROJECT", 200, "developer"),  # blocked
    member(5, "GROUP", 300, "developer"),  # counts once contractors are invited
]


@pytest.fixture
def gitlab(token: Callable[..., str]) -> str:
    return token("gitlab")


async def push(gql: GraphQL, query: str, records: list[dict[str, Any]], token: str) -> Any:
    [result] = data(await gql(query, {"records": records}, token=token)).values()
    return result


async def load_world(gql: GraphQL, gitlab: str) -> None:
    assert (await push(gql, SOURCES, SOURCE_ROWS, gitlab))["__typename"] == "BatchWriteSuccess"
    assert (await push(gql, USERS, USER_ROWS, gitlab))["changed"] == 5
    assert (await push(gql, MEMBERSHIPS, MEMBER_ROWS, gitlab))["changed"] == 6


async def figures(gql: GraphQL, token: str) -> dict[str, int]:
    result: dict[str, int] = data(await gql(FIGURES, token=token))["namespace"]["subscription"]
    return result


async def test_seat_figures_follow_memberships_shares_and_removals(
    gql: GraphQL, gitlab: str
) -> None:
    await load_world(gql, gitlab)
    assert await figures(gql, gitlab) == {
        "seats": 25,
        "seatsInUse": 2,
        "maxSeatsUsed": 2,
        "seatsOwed": 0,
        "seatsRemaining": 23,
    }

    share = {"sharedGroupId": 300, "targetKind": "PROJECT", "targetId": 200, "role": "reporter"}
    assert (await push(gql, SHARES, [share], gitlab))["changed"] == 1
    assert (await figures(gql, gitlab))["seatsInUse"] == 3

    removed = await push(
        gql,
        REMOVE,
        [
            {"userId": 1, "sourceKind": "GROUP", "sourceId": 100},
            {"userId": 1, "sourceKind": "PROJECT", "sourceId": 200},
        ],
        gitlab,
    )
    assert removed == {
        "__typename": "BatchWriteSuccess",
        "received": 2,
        "changed": 2,
        "namespacesRecounted": 1,
    }
    assert await figures(gql, gitlab) == {
        "seats": 25,
        "seatsInUse": 2,
        "maxSeatsUsed": 3,
        "seatsOwed": 0,
        "seatsRemaining": 23,
    }

    unblocked = [{**USER_ROWS[3], "state": "active"}]
    assert (await push(gql, USERS, unblocked, gitlab))["namespacesRecounted"] == 1
    assert (await figures(gql, gitlab))["seatsInUse"] == 3


async def test_resending_a_batch_changes_nothing(
    gql: GraphQL, gitlab: str, session: AsyncSession
) -> None:
    await load_world(gql, gitlab)
    before = await row_counts(session)
    for query, rows in [(SOURCES, SOURCE_ROWS), (USERS, USER_ROWS), (MEMBERSHIPS, MEMBER_ROWS)]:
        result = await push(gql, query, rows, gitlab)
        assert (result["received"], result["changed"]) == (len(rows), 0)
    assert await row_counts(session) == before


async def test_a_bad_batch_is_refused_whole_with_every_bad_record(
    gql: GraphQL, gitlab: str, session: AsyncSession
) -> None:
    await load_world(gql, gitlab)
    before = await row_counts(session)
    batch = [
        member(2, "GROUP", 100, "developer"),  # fine on its own
        member(5, "GROUP", 100, "superuser"),
        member(5, "GROUP", 999, "developer"),
        member(2, "GROUP", 100, "owner"),  # same key as record 0
        member(42, "PROJECT", 200, "guest", state="sleeping"),
    ]
    result = await push(gql, MEMBERSHIPS, batch, gitlab)
    assert (result["__typename"], result["code"], result["field"]) == (
        "InvalidBatchError",
        "INVALID_BATCH",
        "records",
    )
    assert result["problems"] == [
        {"index": 0, "field": "sourceId", "code": "DUPLICATE_RECORD"},
        {"index": 1, "field": "role", "code": "UNKNOWN_VALUE"},
        {"index": 2, "field": "sourceId", "code": "UNKNOWN_SOURCE"},
        {"index": 3, "field": "sourceId", "code": "DUPLICATE_RECORD"},
        {"index": 4, "field": "state", "code": "UNKNOWN_VALUE"},
        {"index": 4, "field": "userId", "code": "UNKNOWN_USER"},
    ]
    assert await row_counts(session) == before
    assert (await figures(gql, gitlab))["seatsInUse"] == 2


@pytest.mark.parametrize(
    ("query", "records", "problems"),
    [
        (
            USERS,
            [
                {"id": 9, "username": "x", "name": "X", "state": "asleep", "userType": "robot"},
                {"id": 9, "username": "y", "name": " ", "state": "active"},
            ],
            [
                (0, "id", "DUPLICATE_RECORD"),
                (0, "state", "UNKNOWN_VALUE"),
                (0, "userType", "UNKNOWN_VALUE"),
                (1, "id", "DUPLICATE_RECORD"),
                (1, "name", "INVALID_VALUE"),
            ],
        ),
        (
            USERS,
            [{"id": 77, "username": "alice", "name": "Another Alice", "state": "active"}],
            [(0, "username", "USERNAME_TAKEN")],
        ),
        (
            SOURCES,
            [
                {"kind": "PROJECT", "id": 7, "fullPath": "lonely", "name": "L"},
                {"kind": "GROUP", "id": 8, "fullPath": "x/y", "name": "Y", "parentId": 9999},
            ],
            [(0, "parentId", "INVALID_VALUE"), (1, "parentId", "UNKNOWN_SOURCE")],
        ),
        (
            SHARES,
            [
                {"sharedGroupId": 300, "targetKind": "GROUP", "targetId": 300, "role": "guest"},
                {"sharedGroupId": 555, "targetKind": "PROJECT", "targetId": 200, "role": "boss"},
            ],
            [
                (0, "targetId", "INVALID_VALUE"),
                (1, "role", "UNKNOWN_VALUE"),
                (1, "sharedGroupId", "UNKNOWN_SOURCE"),
            ],
        ),
    ],
)
async def test_bad_records_of_every_kind(
    gql: GraphQL,
    gitlab: str,
    session: AsyncSession,
    query: str,
    records: list[dict[str, Any]],
    problems: list[tuple[int, str, str]],
) -> None:
    await load_world(gql, gitlab)
    before = await row_counts(session)
    result = await push(gql, query, records, gitlab)
    assert [(p["index"], p["field"], p["code"]) for p in result["problems"]] == problems
    assert await row_counts(session) == before


async def test_batches_over_1000_records_are_refused_before_coercion(
    gql: GraphQL, gitlab: str
) -> None:
    rows = [{"userId": 1, "sourceKind": "GROUP", "sourceId": 100}] * 1001
    body = await gql(REMOVE, {"records": rows}, token=gitlab)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "records"}
    assert body["data"] is None


@pytest.mark.parametrize(
    ("role", "code"),
    [(None, "UNAUTHENTICATED"), ("customer", "FORBIDDEN"), ("analyst", "FORBIDDEN")],
)
async def test_only_gitlab_and_admins_push_seat_data(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession, role: str | None, code: str
) -> None:
    before = await row_counts(session)
    body = await gql(
        USERS,
        {"records": USER_ROWS},
        token=token(role, 1 if role == "customer" else None) if role else None,
    )
    assert error_codes(body) == [code]
    assert await row_counts(session) == before


async def test_admins_may_push_seat_data(gql: GraphQL, token: Callable[..., str]) -> None:
    assert (await push(gql, USERS, USER_ROWS[:1], token("admin")))["changed"] == 1


async def test_ingestion_is_set_based(gql: GraphQL, gitlab: str, count_statements: Any) -> None:
    await load_world(gql, gitlab)

    async def statements(first_user: int, count: int) -> int:
        users = [
            {
                "id": first_user + i,
                "username": f"user{first_user + i}",
                "name": "U",
                "state": "active",
            }
            for i in range(count)
        ]
        members = [member(first_user + i, "GROUP", 101, "developer") for i in range(count)]
        with count_statements() as counted:
            assert (await push(gql, USERS, users, gitlab))["changed"] == count
            assert (await push(gql, MEMBERSHIPS, members, gitlab))["changed"] == count
        return counted.n

    assert await statements(10_000, 5) == await statements(20_000, 500)
    assert (await figures(gql, gitlab))["seatsInUse"] == 2 + 505
