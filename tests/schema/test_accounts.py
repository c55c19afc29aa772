"""Customers, subscriptions and namespaces through HTTP: connections, nodes, batching."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from db.tables import Customer, Namespace, Plan, Price, Subscription
from tests.commerce import ADD_SEATS, result
from tests.conftest import GraphQL
from tests.helpers import answer, data, error_codes

CUSTOMERS = """
query($first: Int, $after: String) {
  customers(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name currency
      namespaces { path subscription { seats } }
      instances { hostname subscription { seats } }
      subscriptions(first: 5) { edges { node {
        seats seatsInUse maxSeatsUsed seatsOwed seatsRemaining status plan { code }
        price { unitAmount { amount } }
                                               namespace { path } customer { name } } } } } }
  }
}
"""


async def _add_customers(session: AsyncSession, count: int) -> None:
    premium = (await session.execute(select(Plan).where(Plan.code == "premium"))).scalar_one()
    price = (
        (
            await session.execute(
                select(Price)
                .where(
                    Price.plan_id == premium.id,
                    Price.currency == "USD",
                    Price.billing_period == "annual",
                )
                .order_by(Price.valid_from.desc())
            )
        )
        .scalars()
        .first()
    )  # type: ignore[attr-defined]
    for index in range(count):
        customer = Customer(
            name=f"Customer {index:03}", billing_email=f"c{index}@example.com", currency="USD"
        )
        session.add(customer)
        await session.flush()
        namespace = Namespace(path=f"group-{index}", name=f"Group {index}", customer_id=customer.id)
        session.add(namespace)
        await session.flush()
        session.add(
            Subscription(
                customer_id=customer.id,
                namespace_id=namespace.id,
                plan_id=premium.id,
                price_id=price.id,
                seats=index + 1,
                start_date=date(2026, 1, 1),  # type: ignore[union-attr]
                end_date=date(2027, 1, 1),
                status="active",
                auto_renew=True,
                trial=False,
            )
        )
    await session.commit()


@pytest.mark.usefixtures("demo")
async def test_statement_count_does_not_grow_with_the_list(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str], count_statements: Any
) -> None:
    await _add_customers(session, 100)
    admin = token("admin")

    async def statements(first: int) -> int:
        with count_statements() as counted:
            body = await gql(CUSTOMERS, {"first": first}, token=admin)
        edges = data(body)["customers"]["edges"]
        assert len(edges) == first
        assert all(
            e["node"]["subscriptions"]["edges"][0]["node"]["plan"]["code"]
            for e in edges
            if e["node"]["subscriptions"]["edges"]
        )
        return counted.n

    five, hundred = await statements(5), await statements(100)
    assert five == hundred  # one statement per loader, whatever the list length


@pytest.mark.usefixtures("demo")
async def test_customers_page_by_keyset_cursor(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str]
) -> None:
    await _add_customers(session, 7)
    admin = token("admin")
    names: list[str] = []
    after = None
    pages = 0
    while True:
        page = data(await gql(CUSTOMERS, {"first": 4, "after": after}, token=admin))["customers"]
        names += [e["node"]["name"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert names == ["Acme Corp", "Globex GmbH", "Initech"] + [f"Customer {i:03}" for i in range(7)]


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 101}, "`first` must be between 0 and 100."),
        ({"first": -1}, "`first` must be between 0 and 100."),
        ({"after": "garbage"}, "`after` is not a Customer id"),
        ({"after": relay.to_base64("Plan", 1)}, "`after` is not a Customer id"),
    ],
)
async def test_bad_page_arguments_are_refused(
    gql: GraphQL, token: Callable[..., str], variables: dict[str, Any], message: str
) -> None:
    body = await gql(CUSTOMERS, variables, token=token("admin"))
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"].startswith(message)


@pytest.mark.usefixtures("demo")
async def test_customers_search_by_name_or_email(gql: GraphQL, token: Callable[..., str]) -> None:
    query = "query($s: String) { customers(search: $s) { edges { node { name } } } }"
    by_email = data(await gql(query, {"s": "GLOBEX.example"}, token=token("analyst")))
    by_name = data(await gql(query, {"s": "init"}, token=token("analyst")))
    literal = data(await gql(query, {"s": "%"}, token=token("analyst")))
    assert [e["node"]["name"] for e in by_email["customers"]["edges"]] == ["Globex GmbH"]
    assert [e["node"]["name"] for e in by_name["customers"]["edges"]] == ["Initech"]
    assert literal["customers"]["edges"] == []


@pytest.mark.usefixtures("demo")
async def test_every_entity_is_a_node(gql: GraphQL, token: Callable[..., str]) -> None:
    body = await gql(
        """{ namespace(path: "acme") { id customer { id }
        subscription { id plan { id } price { id } } } plans { id } addOns { id } }""",
        token=token("admin"),
    )
    found = data(body)
    ids = [
        found["namespace"]["id"],
        found["namespace"]["customer"]["id"],
        found["namespace"]["subscription"]["id"],
        found["namespace"]["subscription"]["plan"]["id"],
        found["namespace"]["subscription"]["price"]["id"],
        found["plans"][0]["id"],
        found["addOns"][0]["id"],
    ]
    nodes = data(
        await gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            {"ids": ids},
            token=token("admin"),
        )
    )["nodes"]
    assert [(n["__typename"], n["id"]) for n in nodes] == [
        ("Namespace", ids[0]),
        ("Customer", ids[1]),
        ("Subscription", ids[2]),
        ("Plan", ids[3]),
        ("Price", ids[4]),
        ("Plan", ids[5]),
        ("AddOn", ids[6]),
    ]


@pytest.mark.usefixtures("demo")
async def test_instance_subscription_and_trial(gql: GraphQL, token: Callable[..., str]) -> None:
    body = await gql(
        """{ customers { edges { node { name instances { instanceId hostname
        subscription { seats trial autoRenew startDate endDate plan { code } } } } } } }""",
        token=token("admin"),
    )
    [initech] = [
        e["node"] for e in data(body)["customers"]["edges"] if e["node"]["name"] == "Initech"
    ]
    assert initech["instances"] == [
        {
            "instanceId": "8f14e45f-ceea-467f-a9e5-0d1c2b3a4f50",
            "hostname": "gitlab.initech.example",
            "subscription": {
                "seats": 120,
                "trial": False,
                "autoRenew": True,
                "startDate": "2026-02-13",
                "endDate": "2027-02-13",
                "plan": {"code": "ultimate"},
            },
        }
    ]
    trial = data(
        await gql(
            '{ namespace(path: "acme-labs") { subscription { trial autoRenew endDate } } }',
            token=token("admin"),
        )
    )
    assert trial["namespace"]["subscription"] == {
        "trial": True,
        "autoRenew": False,
        "endDate": "2026-04-04",
    }


@pytest.mark.usefixtures("demo")
async def test_nodes_hide_what_the_caller_may_not_see_and_batch(
    gql: GraphQL, session: AsyncSession, token: Callable[..., str], count_statements: Any
) -> None:
    await _add_customers(session, 30)
    customers = (await session.execute(select(Customer).order_by(Customer.id))).scalars().all()
    mine = customers[0]
    ids = [relay.to_base64("Customer", c.id) for c in customers]
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { name } } }"
    with count_statements() as one:
        await gql(query, {"ids": ids[:2]}, token=token("customer", mine.id))
    with count_statements() as many:
        nodes = data(await gql(query, {"ids": ids}, token=token("customer", mine.id)))["nodes"]
    assert nodes[0] == {"name": mine.name}
    assert nodes[1:] == [None] * (len(ids) - 1)
    assert many.n == one.n
    single = await gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": ids[1]}, token=token("customer", mine.id)
    )
    assert answer(single) == {"data": {"node": None}}


NESTED = """query($id: ID!, $first: Int, $after: String) { customer(id: $id) {
  LIST(first: $first, after: $after) {
    edges { node { id } } pageInfo { hasNextPage endCursor } } } }"""
ALL_CUSTOMERS = "{ customers(first: 100) { edges { node { id } } } }"


@pytest.mark.usefixtures("demo")
async def test_a_customers_lists_page_one_item_at_a_time_to_the_whole_list(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    """Every page of a customer's subscriptions and invoices, one at a time after the last
    cursor, adds up to the whole list: no item twice, none left out (the pages of every
    customer are loaded by one statement per list and cursor)."""
    admin = token("admin")
    customers = data(await gql(ALL_CUSTOMERS, token=admin))["customers"]["edges"]
    # three invoices for the first customer: seats added three times
    first = {"id": customers[0]["node"]["id"], "first": 1}
    subscriptions = data(await gql(NESTED.replace("LIST", "subscriptions"), first, token=admin))
    bought = subscriptions["customer"]["subscriptions"]["edges"][0]["node"]["id"]
    for _ in range(3):
        added = result(await gql(ADD_SEATS, {"input": {"subscriptionId": bought, "seats": 1}},
                                 token=admin))  # fmt: skip
        assert added["__typename"] == "SubscriptionChangeSuccess", added
    longest = {"subscriptions": 0, "invoices": 0}
    for customer in customers:
        for field in ("subscriptions", "invoices"):
            query = NESTED.replace("LIST", field)
            variables = {"id": customer["node"]["id"], "first": 100}
            whole = data(await gql(query, variables, token=admin))["customer"]
            expected = [e["node"]["id"] for e in whole[field]["edges"]]
            longest[field] = max(longest[field], len(expected))
            seen: list[str] = []
            after = None
            while True:
                variables = {"id": customer["node"]["id"], "first": 1, "after": after}
                page = data(await gql(query, variables, token=admin))["customer"][field]
                seen += [e["node"]["id"] for e in page["edges"]]
                if not page["pageInfo"]["hasNextPage"] or len(seen) > len(expected):
                    break
                after = page["pageInfo"]["endCursor"]
            assert seen == expected, (customer, field)
    assert min(longest.values()) >= 2  # each list was paged past its first item
