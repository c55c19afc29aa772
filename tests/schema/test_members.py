"""Billable members, why a user does or does not take a seat, and member totals."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.tables import Customer
from tests.conftest import GraphQL
from tests.helpers import data, error_codes
from tests.schema.test_seat_data import (
    MEMBERSHIPS,
    SHARES,
    SOURCES,
    USERS,
    load_world,
    member,
    push,
)

pytestmark = pytest.mark.usefixtures("demo")

PAGE = """query($sort: BillableMemberSort!, $first: Int, $after: String, $search: String) {
  namespace(path: "acme") { billableMembers(sort: $sort, first: $first, after: $after,
                                            search: $search) {
    pageInfo { hasNextPage endCursor }
    edges { node { username name membershipType highestRole lastJoinedAt
                   user { state } memberships { sourcePath role takesSeat } } } } } }"""
MEMBER = """query($username: String!) { namespace(path: "acme") { member(username: $username) {
  isBillable reasons highestRole membershipType user { username }
  memberships { sourceKind sourcePath role effectiveRole invitedGroupPath membershipType
                state takesSeat reasons } } } }"""


@pytest.fixture
async def world(gql: GraphQL, token: Callable[..., str]) -> str:
    gitlab = token("gitlab")
    await load_world(gql, gitlab)
    return gitlab


async def page(gql: GraphQL, token: str, **variables: Any) -> Any:
    body = await gql(PAGE, {"sort": "NAME_ASC", **variables}, token=token)
    return data(body)["namespace"]["billableMembers"]


async def test_billable_members_with_their_memberships(gql: GraphQL, world: str) -> None:
    result = await page(gql, world)
    assert [e["node"] for e in result["edges"]] == [
        {
            "username": "alice",
            "name": "Alice",
            "membershipType": "GROUP_MEMBER",
            "highestRole": "DEVELOPER",
            "lastJoinedAt": "2026-01-10T09:00:00+00:00",
            "user": {"state": "ACTIVE"},
            "memberships": [
                {"sourcePath": "acme", "role": "DEVELOPER", "takesSeat": True},
                {"sourcePath": "acme/backend/api", "role": "REPORTER", "takesSeat": True},
            ],
        },
        {
            "username": "bob",
            "name": "Bob",
            "membershipType": "GROUP_MEMBER",
            "highestRole": "GUEST",
            "lastJoinedAt": "2026-01-10T09:00:00+00:00",
            "user": {"state": "ACTIVE"},
            "memberships": [{"sourcePath": "acme/backend", "role": "GUEST", "takesSeat": True}],
        },
    ]
    assert result["pageInfo"]["hasNextPage"] is False


async def _add_members(
    gql: GraphQL, token: str, names: list[str], *, first_id: int, day: int = 11
) -> None:
    users = [
        {
            "id": first_id + i,
            "username": n.lower(),
            "name": n,
            "state": "active",
            "lastActivityOn": f"2026-02-{(i % 27) + 1:02d}",
        }
        for i, n in enumerate(names)
    ]
    assert (await push(gql, USERS, users, token))["__typename"] == "BatchWriteSuccess"
    rows = [
        member(
            first_id + i,
            "GROUP",
            101,
            ["guest", "reporter", "developer"][i % 3],
            createdAt=f"2026-01-{day:02d}T{i % 24:02d}:00:00Z",
        )
        for i in range(len(names))
    ]
    assert (await push(gql, MEMBERSHIPS, rows, token))["__typename"] == "BatchWriteSuccess"


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("NAME_ASC", lambda n: (n["name"],)),
        ("NAME_DESC", lambda n: (n["name"],)),
        ("LAST_JOINED", lambda n: (n["lastJoinedAt"],)),
        ("OLDEST_JOINED", lambda n: (n["lastJoinedAt"],)),
        ("ACCESS_LEVEL_ASC", lambda n: (n["highestRole"] != "GUEST",)),
        ("ACCESS_LEVEL_DESC", lambda n: (n["highestRole"] != "GUEST",)),
    ],
)
async def test_every_sort_pages_through_everyone_once(
    gql: GraphQL, world: str, sort: str, key: Callable[[dict[str, Any]], Any]
) -> None:
    await _add_members(gql, world, [f"Member{i:02d}" for i in range(23)], first_id=500)
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        result = await page(gql, world, sort=sort, first=5, after=after)
        seen += [e["node"] for e in result["edges"]]
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    assert len(seen) == 25
    assert len({n["username"] for n in seen}) == 25
    keys = [key(n) for n in seen]
    assert keys == sorted(keys, reverse=sort.endswith(("DESC", "LAST_JOINED")))


async def test_pages_stay_stable_while_members_change(gql: GraphQL, world: str) -> None:
    await _add_members(gql, world, ["Cat", "Dan", "Eve", "Fay"], first_id=600)
    first = await page(gql, world, first=3)
    assert [e["node"]["username"] for e in first["edges"]] == ["alice", "bob", "cat"]
    # someone who sorts before the cursor joins, someone after it leaves
    await _add_members(gql, world, ["Abe"], first_id=700)
    await push(
        gql,
        MEMBERSHIPS.replace("membershipsUpsert", "membershipsUpsert"),
        [member(603, "GROUP", 101, "minimal_access")],
        world,
    )
    second = await page(gql, world, first=3, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["username"] for e in second["edges"]] == ["dan", "eve"]


async def test_search_matches_username_name_or_email(gql: GraphQL, world: str) -> None:
    await push(
        gql,
        USERS,
        [
            {
                "id": 2,
                "username": "bob",
                "name": "Robert Smith",
                "state": "active",
                "publicEmail": "rob@example.org",
            }
        ],
        world,
    )
    for search in ["bob", "smith", "EXAMPLE.org"]:
        result = await page(gql, world, search=search)
        assert [e["node"]["username"] for e in result["edges"]] == ["bob"], search
    assert (await page(gql, world, search="%"))["edges"] == []


async def test_a_cursor_from_another_order_is_refused(gql: GraphQL, world: str) -> None:
    first = await page(gql, world, first=1)
    body = await gql(
        PAGE, {"sort": "LAST_JOINED", "after": first["pageInfo"]["endCursor"]}, token=world
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("username", "billable", "reasons"),
    [
        ("alice", True, []),
        ("bob", True, []),
        ("carol-bot", False, ["BOT"]),
        ("dave", False, ["USER_BLOCKED"]),
        ("erin", False, ["NO_MEMBERSHIP"]),
    ],
)
async def test_member_says_whether_and_why(
    gql: GraphQL, world: str, username: str, billable: bool, reasons: list[str]
) -> None:
    seat = data(await gql(MEMBER, {"username": username}, token=world))["namespace"]["member"]
    assert (seat["isBillable"], seat["reasons"]) == (billable, reasons)
    assert seat["user"] == {"username": username}


async def test_a_blocked_users_memberships_take_no_seat_for_the_users_reason(
    gql: GraphQL, world: str
) -> None:
    seat = data(await gql(MEMBER, {"username": "dave"}, token=world))["namespace"]["member"]
    assert (seat["isBillable"], seat["reasons"]) == (False, ["USER_BLOCKED"])
    assert [(m["sourcePath"], m["takesSeat"], m["reasons"]) for m in seat["memberships"]] == [
        ("acme/backend/api", False, ["USER_BLOCKED"])
    ]
    bot = data(await gql(MEMBER, {"username": "carol-bot"}, token=world))["namespace"]["member"]
    assert [(m["takesSeat"], m["reasons"]) for m in bot["memberships"]] == [(False, ["BOT"])]


async def test_member_through_an_invited_group(gql: GraphQL, world: str) -> None:
    share = {"sharedGroupId": 300, "targetKind": "PROJECT", "targetId": 200, "role": "reporter"}
    await push(gql, SHARES, [share], world)
    seat = data(await gql(MEMBER, {"username": "erin"}, token=world))["namespace"]["member"]
    assert seat == {
        "isBillable": True,
        "reasons": [],
        "highestRole": "REPORTER",
        "membershipType": "PROJECT_INVITE",
        "user": {"username": "erin"},
        "memberships": [
            {
                "sourceKind": "PROJECT",
                "sourcePath": "acme/backend/api",
                "role": "DEVELOPER",
                "effectiveRole": "REPORTER",
                "invitedGroupPath": "contractors",
                "membershipType": "PROJECT_INVITE",
                "state": "ACTIVE",
                "takesSeat": True,
                "reasons": [],
            }
        ],
    }
    unknown = await gql(MEMBER, {"username": "nobody"}, token=world)
    assert data(unknown)["namespace"]["member"] is None


async def test_guests_on_ultimate_take_no_seat(gql: GraphQL, world: str) -> None:
    await push(
        gql,
        SOURCES,
        [{"kind": "GROUP", "id": 400, "fullPath": "acme-labs", "name": "Acme Labs"}],
        world,
    )
    await push(
        gql,
        MEMBERSHIPS,
        [member(2, "GROUP", 400, "guest"), member(1, "GROUP", 400, "planner")],
        world,
    )
    query = """query($u: String!) { namespace(path: "acme-labs") {
        member(username: $u) { isBillable reasons memberships { reasons } }
        userStatistics { totalMembers billable guests guestsAreFree }
        subscription { seatsInUse } } }"""
    bob = data(await gql(query, {"u": "bob"}, token=world))["namespace"]
    assert bob["member"] == {
        "isBillable": False,
        "reasons": ["GUEST_EXCLUDED"],
        "memberships": [{"reasons": ["GUEST_EXCLUDED"]}],
    }
    assert bob["userStatistics"] == {
        "totalMembers": 2,
        "billable": 1,
        "guests": 1,
        "guestsAreFree": True,
    }
    assert bob["subscription"] == {"seatsInUse": 1}


async def test_user_statistics(gql: GraphQL, world: str) -> None:
    query = """{ namespace(path: "acme") { userStatistics { totalMembers active billable blocked
        deactivated banned pendingApproval bots guests guestsAreFree } } }"""
    stats = data(await gql(query, token=world))["namespace"]["userStatistics"]
    assert stats == {
        "totalMembers": 4,
        "active": 3,
        "billable": 2,
        "blocked": 1,
        "deactivated": 0,
        "banned": 0,
        "pendingApproval": 0,
        "bots": 1,
        "guests": 1,
        "guestsAreFree": False,
    }


async def test_only_the_owner_gitlab_and_admins_see_members(
    gql: GraphQL, world: str, token: Callable[..., str], session: AsyncSession
) -> None:
    acme = (
        await session.execute(
            select(Customer).where(Customer.billing_email == "billing@acme.example")
        )
    ).scalar_one()
    globex = (
        await session.execute(
            select(Customer).where(Customer.billing_email == "rechnung@globex.example")
        )
    ).scalar_one()
    assert len((await page(gql, token("customer", acme.id)))["edges"]) == 2
    assert len((await page(gql, token("admin")))["edges"]) == 2
    other = await gql(PAGE, {"sort": "NAME_ASC"}, token=token("customer", globex.id))
    assert error_codes(other) == ["NOT_FOUND"]
    anonymous = await gql(PAGE, {"sort": "NAME_ASC"})
    assert error_codes(anonymous) == ["UNAUTHENTICATED"]


async def test_member_lists_are_batched(gql: GraphQL, world: str, count_statements: Any) -> None:
    await _add_members(gql, world, [f"Batch{i:03d}" for i in range(150)], first_id=10_000)

    async def statements(first: int) -> int:
        with count_statements() as counted:
            result = await page(gql, world, first=first)
        assert len(result["edges"]) == first
        return counted.n

    assert await statements(5) == await statements(100)


PREVIEW = """query($users: [String!], $emails: [String!], $role: MemberRole!) {
  namespace(path: "acme") { previewMembersChange(addUsernames: $users, addEmails: $emails,
                                                 role: $role) {
    __typename
    ... on MembersChangePreview { seatsInUse newBillableCount seats maxSeatsUsed seatsCovered
      newSeatsOwed willIncurCharge
      charge { chargedOn kind quantity amount { amount currency } periodStart periodEnd
               fractionNumerator fractionDenominator }
      buyNow { chargedOn kind quantity amount { amount currency } periodStart periodEnd
               fractionNumerator fractionDenominator }
      people { username email isNewUser alreadyBillable willTakeSeat reasons } }
    ... on InvalidBatchError { problems { index field code } } } } }"""


async def preview(gql: GraphQL, token: str, **variables: Any) -> Any:
    body = await gql(PREVIEW, {"role": "DEVELOPER", **variables}, token=token)
    return data(body)["namespace"]["previewMembersChange"]


async def test_preview_within_paid_seats_costs_nothing(
    gql: GraphQL, world: str, session: AsyncSession
) -> None:
    from tests.helpers import row_counts

    before = await row_counts(session)
    result = await preview(gql, world, users=["erin", "carol-bot", "alice"])
    assert result["__typename"] == "MembersChangePreview"
    assert (result["seatsInUse"], result["newBillableCount"], result["seats"]) == (2, 3, 25)
    assert (result["newSeatsOwed"], result["willIncurCharge"]) == (0, False)
    assert result["people"] == [
        {
            "username": "erin",
            "email": None,
            "isNewUser": False,
            "alreadyBillable": False,
            "willTakeSeat": True,
            "reasons": [],
        },
        {
            "username": "carol-bot",
            "email": None,
            "isNewUser": False,
            "alreadyBillable": False,
            "willTakeSeat": False,
            "reasons": ["BOT"],
        },
        {
            "username": "alice",
            "email": None,
            "isNewUser": False,
            "alreadyBillable": True,
            "willTakeSeat": True,
            "reasons": [],
        },
    ]
    assert await row_counts(session) == before


async def test_preview_over_the_paid_seats_shows_the_charge(gql: GraphQL, world: str) -> None:
    # the acme subscription has 25 seats for 2025-12-05..2026-12-05 at 348.00; today 2026-03-15
    emails = [f"new{i}@example.com" for i in range(30)] + ["NEW0@example.com"]
    result = await preview(gql, world, emails=emails, users=["erin"])
    assert (result["newBillableCount"], result["maxSeatsUsed"], result["seatsCovered"]) == (
        2 + 31,
        2,
        25,
    )
    assert (result["newSeatsOwed"], result["willIncurCharge"]) == (8, True)
    # not reconciled quarterly: 8 x 348.00 at the true-up on the term's end date
    assert result["charge"] == {
        "chargedOn": "2026-12-05",
        "kind": "TRUE_UP",
        "quantity": 8,
        "amount": {"amount": "2784.00", "currency": "USD"},
        "periodStart": "2025-12-05",
        "periodEnd": "2026-12-05",
        "fractionNumerator": 1,
        "fractionDenominator": 1,
    }
    # or bought today: 8 x 348.00 x 265 / 365 = 2021.26...
    assert result["buyNow"] == {
        "chargedOn": "2026-03-15",
        "kind": "SEATS",
        "quantity": 8,
        "amount": {"amount": "2021.26", "currency": "USD"},
        "periodStart": "2026-03-15",
        "periodEnd": "2026-12-05",
        "fractionNumerator": 265,
        "fractionDenominator": 365,
    }
    assert sum(p["isNewUser"] for p in result["people"]) == 30


async def test_guests_added_on_premium_count_but_minimal_access_does_not(
    gql: GraphQL, world: str
) -> None:
    guests = await preview(gql, world, emails=["g@example.com"], role="GUEST")
    minimal = await preview(gql, world, emails=["m@example.com"], role="MINIMAL_ACCESS")
    assert guests["newBillableCount"] == 3
    assert minimal["newBillableCount"] == 2
    assert minimal["people"][0]["reasons"] == ["MINIMAL_ACCESS"]


async def test_preview_refuses_unknown_usernames_and_bad_emails(gql: GraphQL, world: str) -> None:
    result = await preview(gql, world, users=["alice", "ghost"], emails=["not-an-email"])
    assert result == {
        "__typename": "InvalidBatchError",
        "problems": [
            {"index": 0, "field": "addEmails", "code": "INVALID_VALUE"},
            {"index": 1, "field": "addUsernames", "code": "UNKNOWN_USER"},
        ],
    }


async def test_the_demo_data_shows_who_takes_a_seat(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    query = """{ namespace(path: "globex") { subscription { seatsInUse }
        ben: member(username: "ben") { isBillable reasons }
        bot: member(username: "renovate-bot") { isBillable reasons } } }"""
    result = data(await gql(query, token=token("admin")))["namespace"]
    assert result == {
        "subscription": {"seatsInUse": 1},
        "ben": {"isBillable": False, "reasons": ["GUEST_EXCLUDED"]},
        "bot": {"isBillable": False, "reasons": ["BOT"]},
    }


async def test_preview_is_batched(gql: GraphQL, world: str, count_statements: Any) -> None:
    names = [f"Preview{i:02d}" for i in range(40)]
    await _add_members(gql, world, names, first_id=40_000)

    async def statements(count: int) -> int:
        usernames = [n.lower() for n in names[:count]]
        with count_statements() as counted:
            result = await preview(gql, world, users=usernames)
        assert len(result["people"]) == count
        return counted.n

    assert await statements(2) == await statements(40)


TOTAL = """query($search: String, $total: Boolean!) { namespace(path: "acme") {
  billableMembers(first: 1, search: $search) {
    totalCount @include(if: $total) edges { node { username } } } } }"""


@pytest.mark.parametrize(("search", "total"), [(None, 2), ("", 2), ("ALI", 1), ("zzz", 0)])
async def test_total_count_of_all_pages(
    gql: GraphQL, world: str, search: str | None, total: int
) -> None:
    body = await gql(TOTAL, {"search": search, "total": True}, token=world)
    members = data(body)["namespace"]["billableMembers"]
    assert (members["totalCount"], len(members["edges"])) == (total, min(total, 1))


async def test_total_count_without_search_is_the_maintained_count(
    gql: GraphQL, world: str, count_statements: Any
) -> None:
    async def statements(search: str | None, total: bool) -> int:
        with count_statements() as counted:
            data(await gql(TOTAL, {"search": search, "total": total}, token=world))
        return counted.n

    assert await statements(None, True) == await statements(None, False)
    assert await statements("b", True) == await statements("b", False) + 1
