"""Every connection answers `totalCount` and `nodes`, and pages add up to the whole list."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import product
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.tables import License, Subscription, SyncReport
from tests.commerce import ADD_SEATS, gid, result
from tests.conftest import GraphQL
from tests.helpers import data
from tests.schema.test_accounts import _add_customers as add_customers


@pytest.fixture
async def filled(demo: Any, gql: GraphQL, session: AsyncSession, token: Callable[..., str]) -> None:
    """Three invoices for a namespace subscription (seats added three times), and three
    licenses and three daily reports for an instance's."""
    subscriptions = (
        await session.execute(select(Subscription).order_by(Subscription.id))
    ).scalars()
    rows = list(subscriptions)
    on_namespace = next(s for s in rows if s.namespace_id and s.status == "active" and not s.trial)
    on_instance = next(s for s in rows if s.instance_id)
    for _ in range(3):
        variables = {"input": {"subscriptionId": gid("Subscription", on_namespace.id), "seats": 1}}
        added = result(await gql(ADD_SEATS, variables, token=token("admin")))
        assert added["__typename"] == "SubscriptionChangeSuccess", added
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for day in range(3):
        session.add(
            License(
                subscription_id=on_instance.id,
                instance_id=on_instance.instance_id,
                kid="k",
                token="t",
                license_type="online",
                plan="premium",
                seats=10,
                add_ons=[],
                starts_on=date(2026, 1, 1),
                expires_on=date(2027, 1, 1),
                issued_at=now,
            )
        )
        session.add(
            SyncReport(
                instance_id=on_instance.instance_id,
                subscription_id=on_instance.id,
                day=date(2026, 6, 1 + day),
                hostname="h",
                version="17.0",
                billable_users=5,
                max_historical_users=5,
                peak=5,
                reported_at=now + timedelta(days=day),
            )
        )
    await session.commit()


LISTS = """query($first: Int) {
  customers(first: $first) { totalCount nodes { id } edges { node { id
    subscriptions(first: 10) { totalCount nodes { id } edges { node { id
      invoices(first: 10) { totalCount nodes { id } } } } }
    invoices(first: 1) { totalCount nodes { id } }
    instances { licenses(first: 1) { totalCount } syncReports(first: 1) { totalCount } }
  } } }
  auditEvents(first: 10) { totalCount nodes { id } }
}"""

WHOLE = """query($id: ID!) { customer(id: $id) {
  invoices(first: 100) { edges { node { id } } }
  instances { licenses(first: 100) { edges { node { id } } }
              syncReports(first: 100) { edges { node { id } } } } } }"""


@pytest.mark.usefixtures("filled")
async def test_total_count_and_nodes_agree_with_the_whole_list(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    admin = token("admin")
    lists = data(await gql(LISTS, {"first": 10}, token=admin))
    customers = lists["customers"]
    assert customers["totalCount"] == len(customers["edges"]) == 3
    assert customers["nodes"] == [{"id": e["node"]["id"]} for e in customers["edges"]]
    assert lists["auditEvents"]["totalCount"] == len(lists["auditEvents"]["nodes"])
    counted = {"invoices": 0, "licenses": 0, "syncReports": 0}
    for edge in customers["edges"]:
        customer = edge["node"]
        whole = data(await gql(WHOLE, {"id": customer["id"]}, token=admin))["customer"]
        subscriptions = customer["subscriptions"]
        assert subscriptions["totalCount"] == len(subscriptions["nodes"])
        assert customer["invoices"]["totalCount"] == len(whole["invoices"]["edges"])
        assert sum(s["node"]["invoices"]["totalCount"] for s in subscriptions["edges"]) == len(
            whole["invoices"]["edges"]
        )
        counted["invoices"] += customer["invoices"]["totalCount"]
        for page, full in zip(customer["instances"], whole["instances"], strict=True):
            for field in ("licenses", "syncReports"):
                assert page[field]["totalCount"] == len(full[field]["edges"])
                counted[field] += page[field]["totalCount"]
    assert all(counted.values()), counted  # the demo data has some of each


@pytest.mark.usefixtures("demo")
async def test_search_counts_only_the_matches(gql: GraphQL, token: Callable[..., str]) -> None:
    query = "query($s: String) { customers(search: $s, first: 1) { totalCount } }"
    admin = token("admin")
    assert data(await gql(query, {"s": "glob"}, token=admin))["customers"]["totalCount"] == 1
    assert data(await gql(query, {"s": "nobody"}, token=admin))["customers"]["totalCount"] == 0


SEAT_READER = (
    """query($id: ID!) { subscription(id: $id) { invoices { totalCount nodes { id } } } }"""
)


@pytest.mark.usefixtures("filled")
async def test_total_count_hides_what_the_list_hides(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    """A seat-data reader sees no invoices of a subscription, so it counts none either."""
    admin = token("admin")
    lists = data(await gql(LISTS, {"first": 10}, token=admin))["customers"]["edges"]
    billed = next(
        s["node"]
        for c in lists
        for s in c["node"]["subscriptions"]["edges"]
        if s["node"]["invoices"]["totalCount"]
    )
    seen = data(await gql(SEAT_READER, {"id": billed["id"]}, token=token("gitlab")))
    assert seen["subscription"]["invoices"] == {"totalCount": 0, "nodes": []}


@pytest.mark.usefixtures("filled")
async def test_total_counts_take_one_statement_per_list_whatever_its_length(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str], count_statements: Any
) -> None:
    await add_customers(session, 7)
    admin = token("admin")
    backwards = LISTS.replace("(first: 10)", "(last: 10)").replace("(first: 1)", "(last: 1)")
    for query in (LISTS, backwards):
        counts = []
        for first in (3, 10):
            with count_statements() as counted:
                data(await gql(query, {"first": first}, token=admin))
            counts.append(counted.n)
        assert counts[0] == counts[1]


ROOT_PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  customers(first: $first, after: $after, last: $last, before: $before) {
    nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
NESTED_PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  customer(id: $id) { LIST(first: $first, after: $after, last: $last, before: $before) {
    nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""
INSTANCE_PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  customer(id: $id) { instances { LIST(first: $first, after: $after, last: $last,
    before: $before) {
    nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }"""


INSTANCES = "query($id: ID!) { customer(id: $id) { instances { id } } }"


async def _walk(fetch: Callable[..., Any], size: int) -> tuple[list[str], list[str]]:
    """The list paged forwards with `first`, and backwards from its end with `last`; every
    page's hasNextPage/hasPreviousPage say whether pages lie beyond it."""
    forwards: list[str] = []
    after = None
    while True:
        page = await fetch(first=size, after=after)
        forwards += [n["id"] for n in page["nodes"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    backwards: list[str] = []
    before = None
    while True:
        page = await fetch(last=size, before=before)
        backwards = [n["id"] for n in page["nodes"]] + backwards
        assert page["pageInfo"]["hasNextPage"] == (before is not None)
        assert len(page["nodes"]) == size or not page["pageInfo"]["hasPreviousPage"]
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    return forwards, backwards


@pytest.mark.usefixtures("filled")
async def test_pages_backwards_and_forwards_add_up_to_the_whole_list(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str]
) -> None:
    """Given 10 customers, 3 invoices for one and 3 licenses and reports for an instance,
    when each list is paged by 1, 2 (or 3) forwards and backwards, then both walks give the
    whole list, in order, no item twice."""
    await add_customers(session, 7)
    admin = token("admin")

    async def root(**page: Any) -> Any:
        return data(await gql(ROOT_PAGE, page, token=admin))["customers"]

    whole = data(await gql("{ customers(first: 100) { nodes { id } } }", token=admin))
    expected = [n["id"] for n in whole["customers"]["nodes"]]
    for size in (2, 3):
        assert await _walk(root, size) == (expected, expected)
    walked = 0
    lists = [(NESTED_PAGE, "subscriptions"), (NESTED_PAGE, "invoices")]
    lists += [(INSTANCE_PAGE, "licenses"), (INSTANCE_PAGE, "syncReports")]
    for customer_id, (query, field) in product(expected[:3], lists):

        async def nested(q: str = query, f: str = field, i: str = customer_id, **page: Any) -> Any:
            owner = data(await gql(q.replace("LIST", f), {"id": i, **page}, token=admin))[
                "customer"
            ]
            return owner["instances"][0][f] if "instances" in owner else owner[f]

        if query is INSTANCE_PAGE:
            found = data(await gql(INSTANCES, {"id": customer_id}, token=admin))["customer"]
            if not found["instances"]:
                continue
        whole_list = [n["id"] for n in (await nested(first=100))["nodes"]]
        for size in (1, 2):
            assert await _walk(nested, size) == (whole_list, whole_list)
        walked += len(whole_list) > 2
    assert walked >= 3  # invoices, licenses and reports each took more than one page


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 2, "last": 2}, "Pass `first` or `last`, not both."),
        ({"last": 101}, "`last` must be between 0 and 100."),
        ({"last": -1}, "`last` must be between 0 and 100."),
        ({"last": 1, "before": "garbage"}, "`before` is not a Customer id"),
    ],
)
async def test_bad_backward_page_arguments_are_refused(
    gql: GraphQL, token: Callable[..., str], variables: dict[str, Any], message: str
) -> None:
    body = await gql(ROOT_PAGE, variables, token=token("admin"))
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith(message)
