"""The seat page reads in one statement what its selection shows, and encodes cursors only
when they are asked for (issue 10)."""

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

import schema.members
from schema.compiled import CompiledExecutionContext
from tests.conftest import GraphQL
from tests.helpers import data
from tests.schema.test_members import _add_members
from tests.schema.test_seat_data import load_world

pytestmark = pytest.mark.usefixtures("demo")

NODE = "username name lastActivityOn highestRole membershipType lastJoinedAt"
SEAT_PAGE = """query($sort: BillableMemberSort!, $first: Int, $after: String) {
  namespace(path: "acme") { billableMembers(sort: $sort, first: $first, after: $after) {
    edges { SELECTION }
    pageInfo { endCursor hasNextPage } } } }"""
WITH_USERS = SEAT_PAGE.replace("SELECTION", f"cursor node {{ {NODE} user {{ username state }} }}")
WITHOUT_USERS = SEAT_PAGE.replace("SELECTION", f"cursor node {{ {NODE} }}")
THROUGH_FRAGMENTS = """query($sort: BillableMemberSort!, $first: Int) {
  namespace(path: "acme") { billableMembers(sort: $sort, first: $first) {
    ... on BillableMemberConnection { edges { node { ...Seat } } }
    pageInfo { endCursor } } } }
fragment Seat on BillableMember { username person: user { ... on User { s: state username } } }"""
NAMESPACE_ONLY = '{ namespace(path: "acme") { name } }'
SORTS = [
    "NAME_ASC",
    "NAME_DESC",
    "LAST_JOINED",
    "OLDEST_JOINED",
    "LAST_ACTIVITY_ON_DESC",
    "LAST_ACTIVITY_ON_ASC",
    "ACCESS_LEVEL_DESC",
    "ACCESS_LEVEL_ASC",
]


@pytest.fixture
async def world(gql: GraphQL, token: Callable[..., str]) -> str:
    gitlab = token("gitlab")
    await load_world(gql, gitlab)
    return gitlab


async def seat_page(gql: GraphQL, token: str, query: str, **variables: Any) -> Any:
    body = await gql(query, {"sort": "NAME_ASC", **variables}, token=token)
    return data(body)["namespace"]["billableMembers"]


@pytest.mark.parametrize("query", [WITH_USERS, WITHOUT_USERS, THROUGH_FRAGMENTS])
async def test_the_seat_page_is_one_statement_whatever_its_size(
    gql: GraphQL, world: str, count_statements: Any, query: str
) -> None:
    await _add_members(gql, world, [f"Seat{i:03d}" for i in range(150)], first_id=20_000)
    with count_statements() as lookup:  # the namespace, and what every request costs
        data(await gql(NAMESPACE_ONLY, token=world))
    for first in (5, 100):
        with count_statements() as counted:
            result = await seat_page(gql, world, query, first=first)
        assert len(result["edges"]) == first
        assert counted.n == lookup.n + 1, first


async def test_fragments_aliases_and_inline_fragments_get_the_joined_user(
    gql: GraphQL, world: str
) -> None:
    result = await seat_page(gql, world, THROUGH_FRAGMENTS)
    assert [e["node"] for e in result["edges"]] == [
        {"username": "alice", "person": {"s": "ACTIVE", "username": "alice"}},
        {"username": "bob", "person": {"s": "ACTIVE", "username": "bob"}},
    ]


@pytest.mark.parametrize("sort", SORTS)
async def test_every_sort_answers_the_same_with_or_without_users(
    gql: GraphQL, world: str, sort: str
) -> None:
    await _add_members(gql, world, [f"Member{i:02d}" for i in range(23)], first_id=500)
    pages: dict[str, list[Any]] = {WITH_USERS: [], WITHOUT_USERS: []}
    for query, seen in pages.items():
        after = None
        while True:
            result = await seat_page(gql, world, query, sort=sort, first=7, after=after)
            seen.append(result)
            # the page ends where its last edge does
            assert result["pageInfo"]["endCursor"] == result["edges"][-1]["cursor"]
            if not result["pageInfo"]["hasNextPage"]:
                break
            after = result["pageInfo"]["endCursor"]
    with_users = [e for p in pages[WITH_USERS] for e in p["edges"]]
    without = [e for p in pages[WITHOUT_USERS] for e in p["edges"]]
    assert len(with_users) == 25
    assert [p["pageInfo"] for p in pages[WITH_USERS]] == [
        p["pageInfo"] for p in pages[WITHOUT_USERS]
    ]
    for joined, plain in zip(with_users, without, strict=True):
        user = joined["node"].pop("user")
        assert joined == plain
        assert user == {"username": plain["node"]["username"], "state": "ACTIVE"}
    # an edge's cursor continues right after its member, as before
    middle = await seat_page(gql, world, WITHOUT_USERS, sort=sort, after=without[9]["cursor"])
    assert middle["edges"] == without[10:]


async def test_a_cursor_is_the_sort_its_key_and_the_user_id(gql: GraphQL, world: str) -> None:
    result = await seat_page(gql, world, WITH_USERS, sort="NAME_DESC", first=1)
    cursor = result["edges"][0]["cursor"]
    assert json.loads(base64.urlsafe_b64decode(cursor))[:2] == ["name_desc", "Bob"]
    assert isinstance(json.loads(base64.urlsafe_b64decode(cursor))[2], int)


async def test_edge_cursors_are_encoded_only_when_asked_for(
    gql: GraphQL, world: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _add_members(gql, world, [f"Lazy{i:03d}" for i in range(120)], first_id=30_000)
    encoded = []
    encode = schema.members.encode_member_cursor
    monkeypatch.setattr(
        schema.members,
        "encode_member_cursor",
        lambda *args: encoded.append(args) or encode(*args),
    )
    await seat_page(gql, world, SEAT_PAGE.replace("SELECTION", "node { username }"), first=100)
    assert len(encoded) == 2  # pageInfo's start and end cursors
    encoded.clear()
    await seat_page(gql, world, WITHOUT_USERS, first=100)
    assert len(encoded) == 102


@pytest.mark.parametrize("show", [True, False])
async def test_a_user_behind_include_is_joined_whatever_the_variable(
    gql: GraphQL, world: str, show: bool
) -> None:
    """The look-ahead does not evaluate `@include`: it joins the user whenever the document
    may show it, so the plain `user` field always has it when it is shown."""
    query = SEAT_PAGE.replace("query(", "query($show: Boolean!, ").replace(
        "SELECTION", "node { username user @include(if: $show) { state } }"
    )
    result = await seat_page(gql, world, query, show=show)
    nodes = [e["node"] for e in result["edges"]]
    assert [n["username"] for n in nodes] == ["alice", "bob"]
    assert all(("user" in n) is show for n in nodes)
    if show:
        assert {n["user"]["state"] for n in nodes} == {"ACTIVE"}


async def test_the_members_of_a_page_are_completed_without_per_row_field_execution(
    gql: GraphQL, world: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every field of the seat page's rows is plain (the user is joined, not resolved), so
    graphql-core executes the same few fields for a page of 5 or of 100."""
    await _add_members(gql, world, [f"Plain{i:03d}" for i in range(120)], first_id=40_000)
    executed: list[str] = []
    real = CompiledExecutionContext.execute_field

    def counting(self: Any, parent_type: Any, *args: Any) -> Any:
        executed.append(parent_type.name)
        return real(self, parent_type, *args)

    monkeypatch.setattr(CompiledExecutionContext, "execute_field", counting)
    counts = []
    for first in (5, 100):
        executed.clear()
        result = await seat_page(
            gql,
            world,
            SEAT_PAGE.replace("SELECTION", f"node {{ {NODE} user {{ username state }} }}"),
            first=first,
        )
        assert len(result["edges"]) == first
        counts.append(len(executed))
    assert counts[0] == counts[1]
    assert "BillableMember" not in executed
    assert "User" not in executed
