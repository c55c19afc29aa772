"""A customer sees a GitLab.com user only through memberships in its own namespaces.

The world: acme (customer Acme) has alice, bob, carol-bot and dave as members; erin is in the
group `contractors` only; ada, ben, cora (blocked) and renovate-bot belong to globex (customer
Globex). For Acme's token, globex's people and erin are hidden: every path answers for them
exactly as it answers for a username or id nobody has.
"""

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from db.tables import Customer, GitlabUser
from tests.conftest import GraphQL
from tests.helpers import data, error_codes, row_counts
from tests.schema.test_seat_data import SHARES, USERS, load_world, push

pytestmark = pytest.mark.usefixtures("demo")

MEMBER = """query($username: String!) { namespace(path: "acme") { member(username: $username) {
  isBillable reasons highestRole user { id username name state lastSignInAt publicEmail }
  memberships { sourcePath role } } } }"""
PREVIEW = """query($users: [String!], $emails: [String!]) {
  namespace(path: "acme") { previewMembersChange(addUsernames: $users, addEmails: $emails,
                                                 role: DEVELOPER) {
    __typename
    ... on MembersChangePreview { seatsInUse newBillableCount seats maxSeatsUsed newSeatsOwed
      willIncurCharge seatsCovered charge { chargedOn amount { amount } }
      buyNow { chargedOn amount { amount } }
      people { username email isNewUser alreadyBillable willTakeSeat reasons } }
    ... on InvalidBatchError { code field message problems { index field code message } } } } }"""
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
  ... on User { username name state lastSignInAt } } }"""
NODE = """query($id: ID!) { node(id: $id) { __typename id ... on User { username state } } }"""
HIDDEN = ["ada", "cora", "renovate-bot", "erin"]  # cora is blocked, renovate-bot a bot


@pytest.fixture
async def tokens(gql: GraphQL, token: Callable[..., str], session: AsyncSession) -> dict[str, str]:
    gitlab = token("gitlab")
    await load_world(gql, gitlab)
    # public emails, so that people can also be named by email
    emails = [
        {"id": 1, "username": "alice", "name": "Alice", "state": "active",
         "publicEmail": "alice@acme.example"},
        {"id": 1001, "username": "ada", "name": "Ada Lovelace", "state": "active",
         "publicEmail": "ada@globex.example"},
    ]  # fmt: skip
    assert (await push(gql, USERS, emails, gitlab))["__typename"] == "BatchWriteSuccess"
    customers = {c.billing_email: c.id for c in (await session.execute(select(Customer))).scalars()}
    return {
        "acme": token("customer", customers["billing@acme.example"]),
        "globex": token("customer", customers["rechnung@globex.example"]),
        "gitlab": gitlab,
        "admin": token("admin"),
        "analyst": token("analyst"),
    }


async def user_ids(session: AsyncSession) -> dict[str, int]:
    rows = (await session.execute(select(GitlabUser))).scalars()
    return {u.username: u.id for u in rows if u.id is not None}


def without(body: dict[str, Any], *secrets: str) -> str:
    """The answer as bytes, with nothing but the given strings (the username asked) removed."""
    raw = json.dumps(body, sort_keys=True)
    for secret in secrets:
        raw = raw.replace(secret, "<asked>")
    return raw


def user_node(user_id: int) -> str:
    return relay.to_base64("User", user_id)


UNKNOWN_ID = 987_654


# member(username:)


@pytest.mark.parametrize("hidden", HIDDEN)
async def test_member_of_another_namespace_answers_like_an_unknown_username(
    gql: GraphQL, tokens: dict[str, str], hidden: str
) -> None:
    answer = await gql(MEMBER, {"username": hidden}, token=tokens["acme"])
    unknown = await gql(MEMBER, {"username": "no-such-user"}, token=tokens["acme"])
    assert data(answer) == {"namespace": {"member": None}}
    assert without(answer, hidden) == without(unknown, "no-such-user")


async def test_hidden_and_unknown_members_cost_the_same_statements(
    gql: GraphQL, tokens: dict[str, str], count_statements: Any
) -> None:
    counts = []
    for username in ["ada", "no-such-user"]:
        with count_statements() as counted:
            await gql(MEMBER, {"username": username}, token=tokens["acme"])
        counts.append(counted.n)
    assert counts[0] == counts[1]


MEMBER_BY_ID = MEMBER.replace("$username: String!", "$id: Int!").replace(
    "member(username: $username)", "member(userId: $id)"
)


async def test_member_by_user_id_hides_like_by_username(
    gql: GraphQL, tokens: dict[str, str], count_statements: Any
) -> None:
    # ada is GitLab user 1001 (globex's), alice user 1 (acme's)
    counts, answers = [], []
    for gitlab_id in [1001, UNKNOWN_ID]:
        with count_statements() as counted:
            answers.append(await gql(MEMBER_BY_ID, {"id": gitlab_id}, token=tokens["acme"]))
        counts.append(counted.n)
    assert counts[0] == counts[1]
    assert answers[0] == answers[1] == {**answers[1], "data": {"namespace": {"member": None}}}
    alice = data(await gql(MEMBER_BY_ID, {"id": 1}, token=tokens["acme"]))
    assert alice["namespace"]["member"]["user"]["username"] == "alice"
    ada = data(await gql(MEMBER_BY_ID, {"id": 1001}, token=tokens["gitlab"]))
    assert ada["namespace"]["member"]["reasons"] == ["NO_MEMBERSHIP"]


@pytest.mark.parametrize("arguments", ['username: "alice", userId: 1', ""], ids=["both", "neither"])
async def test_member_takes_a_username_or_a_user_id(
    gql: GraphQL, tokens: dict[str, str], arguments: str
) -> None:
    query = f'{{ namespace(path: "acme") {{ member({arguments}) {{ isBillable }} }} }}'
    body = await gql(query.replace("member()", "member"), token=tokens["acme"])
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "userId"}


@pytest.mark.parametrize("username", ["alice", "carol-bot", "dave"])
async def test_own_members_stay_visible(
    gql: GraphQL, tokens: dict[str, str], username: str
) -> None:
    seat = data(await gql(MEMBER, {"username": username}, token=tokens["acme"]))
    assert seat["namespace"]["member"]["user"]["username"] == username


async def test_a_member_through_an_invited_group_becomes_visible(
    gql: GraphQL, tokens: dict[str, str]
) -> None:
    assert data(await gql(MEMBER, {"username": "erin"}, token=tokens["acme"])) == {
        "namespace": {"member": None}
    }
    share = {"sharedGroupId": 300, "targetKind": "PROJECT", "targetId": 200, "role": "reporter"}
    await push(gql, SHARES, [share], tokens["gitlab"])
    seat = data(await gql(MEMBER, {"username": "erin"}, token=tokens["acme"]))
    assert seat["namespace"]["member"]["user"]["username"] == "erin"
    assert seat["namespace"]["member"]["highestRole"] == "REPORTER"


@pytest.mark.parametrize("role", ["gitlab", "admin", "analyst"])
async def test_gitlab_admins_and_analysts_see_everyone(
    gql: GraphQL, tokens: dict[str, str], session: AsyncSession, role: str
) -> None:
    seat = data(await gql(MEMBER, {"username": "cora"}, token=tokens[role]))
    assert seat["namespace"]["member"]["reasons"] == ["USER_BLOCKED", "NO_MEMBERSHIP"]
    assert seat["namespace"]["member"]["user"]["state"] == "BLOCKED"
    cora = (await user_ids(session))["cora"]
    node = data(await gql(NODE, {"id": user_node(cora)}, token=tokens[role]))
    assert node["node"] == {"__typename": "User", "id": user_node(cora), "username": "cora",
                            "state": "BLOCKED"}  # fmt: skip
    preview = data(await gql(PREVIEW, {"users": ["cora", "nobody"]}, token=tokens[role]))
    assert preview["namespace"]["previewMembersChange"]["problems"] == [
        {"index": 1, "field": "addUsernames", "code": "UNKNOWN_USER",
         "message": "No user 'nobody'."}
    ]  # fmt: skip


async def test_another_customers_namespace_is_not_found_on_every_path(
    gql: GraphQL, tokens: dict[str, str]
) -> None:
    for query, variables in [
        (MEMBER, {"username": "alice"}),
        (PREVIEW, {"users": ["alice"]}),
        ("""{ namespace(path: "acme") { billableMembers { edges { node { username } } } } }""", {}),
        ("""{ namespace(path: "acme") { userStatistics { totalMembers } } }""", {}),
        (
            """{ namespace(path: "acme") { seatUsageHistory(from: "2026-01-01", to: "2026-03-01")
                 { billableUsers } } }""",
            {},
        ),
    ]:
        answer = await gql(query, variables, token=tokens["globex"])
        assert error_codes(answer) == ["NOT_FOUND"], query


# previewMembersChange


@pytest.mark.parametrize("hidden", HIDDEN)
async def test_preview_of_a_hidden_username_reads_like_an_unknown_one(
    gql: GraphQL, tokens: dict[str, str], session: AsyncSession, hidden: str
) -> None:
    before = await row_counts(session)
    answer = await gql(PREVIEW, {"users": [hidden, "alice"]}, token=tokens["acme"])
    unknown = await gql(PREVIEW, {"users": ["no-such-user", "alice"]}, token=tokens["acme"])
    assert without(answer, hidden) == without(unknown, "no-such-user")
    people = data(answer)["namespace"]["previewMembersChange"]["people"]
    # counted as a new active person would be: a seat, whatever their real state or type
    assert people[0] == {"username": hidden, "email": None, "isNewUser": True,
                         "alreadyBillable": False, "willTakeSeat": True, "reasons": []}  # fmt: skip
    assert people[1]["username"] == "alice"
    assert people[1]["alreadyBillable"] is True
    assert await row_counts(session) == before


async def test_preview_of_a_hidden_email_reads_like_an_unknown_one(
    gql: GraphQL, tokens: dict[str, str]
) -> None:
    answer = await gql(PREVIEW, {"emails": ["ada@globex.example"]}, token=tokens["acme"])
    unknown = await gql(PREVIEW, {"emails": ["zed@globex.example"]}, token=tokens["acme"])
    assert without(answer, "ada@globex.example") == without(unknown, "zed@globex.example")
    people = data(answer)["namespace"]["previewMembersChange"]["people"]
    assert people == [{"username": None, "email": "ada@globex.example", "isNewUser": True,
                       "alreadyBillable": False, "willTakeSeat": True, "reasons": []}]  # fmt: skip
    # the gitlab role learns who it is
    known = data(await gql(PREVIEW, {"emails": ["ada@globex.example"]}, token=tokens["gitlab"]))
    assert known["namespace"]["previewMembersChange"]["people"][0]["username"] == "ada"


async def test_a_hidden_user_named_twice_counts_as_two_unknowns_would(
    gql: GraphQL, tokens: dict[str, str]
) -> None:
    # ada by username and by her email: joining the two would tell that they are one person
    answer = await gql(
        PREVIEW, {"users": ["ada"], "emails": ["ada@globex.example"]}, token=tokens["acme"]
    )
    unknown = await gql(
        PREVIEW, {"users": ["zed"], "emails": ["ada@globex.example"]}, token=tokens["acme"]
    )
    assert without(answer, '"ada"') == without(unknown, '"zed"')
    assert data(answer)["namespace"]["previewMembersChange"]["newBillableCount"] == 2 + 2


async def test_preview_still_finds_own_members_by_email(
    gql: GraphQL, tokens: dict[str, str]
) -> None:
    answer = data(await gql(PREVIEW, {"emails": ["ALICE@acme.example"]}, token=tokens["acme"]))
    people = answer["namespace"]["previewMembersChange"]["people"]
    assert people == [{"username": "alice", "email": "ALICE@acme.example", "isNewUser": False,
                       "alreadyBillable": True, "willTakeSeat": True, "reasons": []}]  # fmt: skip


async def test_preview_still_refuses_bad_emails_for_customers(
    gql: GraphQL, tokens: dict[str, str]
) -> None:
    answer = data(await gql(PREVIEW, {"users": ["ada"], "emails": ["x"]}, token=tokens["acme"]))
    assert answer["namespace"]["previewMembersChange"]["problems"] == [
        {"index": 0, "field": "addEmails", "code": "INVALID_VALUE",
         "message": "'x' is not an email address."}
    ]  # fmt: skip


# node, nodes


async def test_node_of_a_hidden_user_reads_like_an_unknown_id(
    gql: GraphQL, tokens: dict[str, str], session: AsyncSession
) -> None:
    ids = await user_ids(session)
    for hidden in HIDDEN:
        answer = await gql(NODE, {"id": user_node(ids[hidden])}, token=tokens["acme"])
        unknown = await gql(NODE, {"id": user_node(UNKNOWN_ID)}, token=tokens["acme"])
        assert answer["data"] == {"node": None}
        assert "errors" not in answer
        assert without(answer, user_node(ids[hidden])) == without(unknown, user_node(UNKNOWN_ID))


async def test_nodes_show_own_members_only(
    gql: GraphQL, tokens: dict[str, str], session: AsyncSession
) -> None:
    ids = await user_ids(session)
    wanted = [user_node(ids["alice"]), user_node(ids["ada"]), user_node(UNKNOWN_ID),
              user_node(ids["dave"])]  # fmt: skip
    nodes = data(await gql(NODES, {"ids": wanted}, token=tokens["acme"]))["nodes"]
    assert [n and n["username"] for n in nodes] == ["alice", None, None, "dave"]
    nodes = data(await gql(NODES, {"ids": wanted}, token=tokens["globex"]))["nodes"]
    assert [n and n["username"] for n in nodes] == [None, "ada", None, None]
    assert data(await gql(NODES, {"ids": wanted}))["nodes"] == [None] * 4
    nodes = data(await gql(NODES, {"ids": wanted}, token=tokens["admin"]))["nodes"]
    assert [n and n["username"] for n in nodes] == ["alice", "ada", None, "dave"]


# lists: the user fields of billable members, and statement counts


async def test_billable_members_show_own_members_with_their_users(
    gql: GraphQL, tokens: dict[str, str]
) -> None:
    query = """{ namespace(path: "acme") { billableMembers(sort: NAME_ASC, search: "a") {
        edges { node { username user { username state } } } } } }"""
    edges = data(await gql(query, token=tokens["acme"]))["namespace"]["billableMembers"]["edges"]
    assert [e["node"]["user"]["username"] for e in edges] == ["alice"]


async def test_statement_counts_do_not_grow_with_the_lists(
    gql: GraphQL, tokens: dict[str, str], session: AsyncSession, count_statements: Any
) -> None:
    ids = await user_ids(session)
    members = [user_node(ids[n]) for n in ["alice", "bob", "dave", "carol-bot"]]
    strangers = [user_node(ids[n]) for n in HIDDEN] + [user_node(UNKNOWN_ID + i) for i in range(30)]

    async def statements(query: str, variables: dict[str, Any]) -> int:
        with count_statements() as counted:
            data(await gql(query, variables, token=tokens["acme"]))
        return int(counted.n)

    assert await statements(NODES, {"ids": members[:1]}) == await statements(
        NODES, {"ids": members + strangers}
    )
    few = ["alice", "ada"]
    many = ["alice", "bob", "dave", *HIDDEN] + [f"nobody{i}" for i in range(30)]
    assert await statements(PREVIEW, {"users": few}) == await statements(PREVIEW, {"users": many})
    page = """{ namespace(path: "acme") { billableMembers(first: 100) { edges { node {
        user { username state lastSignInAt } memberships { sourcePath } } } } } }"""
    assert await statements(page, {}) == await statements(
        page.replace("first: 100", "first: 1"), {}
    )


async def test_hidden_and_unknown_cost_the_same_statements_in_previews_and_nodes(
    gql: GraphQL, tokens: dict[str, str], session: AsyncSession, count_statements: Any
) -> None:
    ada = (await user_ids(session))["ada"]
    for query, hidden, unknown in [
        (PREVIEW, {"users": ["ada"]}, {"users": ["no-such-user"]}),
        (PREVIEW, {"emails": ["ada@globex.example"]}, {"emails": ["zed@globex.example"]}),
        (NODE, {"id": user_node(ada)}, {"id": user_node(UNKNOWN_ID)}),
    ]:
        counts = []
        for variables in [hidden, unknown]:
            with count_statements() as counted:
                await gql(query, variables, token=tokens["acme"])
            counts.append(counted.n)
        assert counts[0] == counts[1], variables
