"""Metered usage: GitLab.com records events once each (a resend counts once), bad batches are
refused whole, and namespaces total their usage per day or month against what their plan and
add-ons include. Demo data: `acme` is on Premium (10,000 compute minutes a month)."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.commerce import ADD_ON_PURCHASE, gid
from tests.conftest import GraphQL
from tests.helpers import data, error_codes, row_counts

pytestmark = pytest.mark.usefixtures("demo")

RECORD = """mutation($events: [UsageEventInput!]!) { usageRecord(input: {events: $events}) {
  __typename ... on BatchWriteSuccess { received changed }
  ... on InvalidBatchError { code problems { index field code } } } }"""
USAGE = """query($metric: Metric!, $from: Date!, $to: Date!, $g: Granularity!) {
  namespace(path: "acme") { usage(metric: $metric, from: $from, to: $to, granularity: $g) {
    metric granularity includedPerMonth periods { start quantity included overage } } } }"""


def event(n: int, quantity: int, at: str, **change: Any) -> dict[str, Any]:
    return {
        "eventId": f"evt-{n}",
        "namespacePath": "acme",
        "metric": "compute_minutes",
        "quantity": quantity,
        "occurredAt": at,
        **change,
    }


EVENTS = [
    event(1, 6_000, "2026-03-02T10:00:00Z"),
    event(2, 5_000, "2026-03-31T23:59:59Z"),
    event(3, 2_500, "2026-04-01T00:00:00Z"),
    event(4, 700, "2026-04-01T08:00:00Z", metric="transfer_bytes"),
]


async def test_events_count_once_and_total_per_month_against_the_quota(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    gitlab = token("gitlab")
    first = data(await gql(RECORD, {"events": EVENTS}, token=gitlab))["usageRecord"]
    assert (first["received"], first["changed"]) == (4, 4)
    again = data(await gql(RECORD, {"events": EVENTS}, token=gitlab))["usageRecord"]
    assert (again["received"], again["changed"]) == (4, 0)
    months = {"metric": "COMPUTE_MINUTES", "from": "2026-03-01", "to": "2026-04-30", "g": "MONTH"}
    report = data(await gql(USAGE, months, token=gitlab))["namespace"]["usage"]
    assert report == {
        "metric": "COMPUTE_MINUTES",
        "granularity": "MONTH",
        "includedPerMonth": 10_000,
        "periods": [
            {"start": "2026-03-01", "quantity": 11_000, "included": 10_000, "overage": 1_000},
            {"start": "2026-04-01", "quantity": 2_500, "included": 10_000, "overage": 0},
        ],
    }
    days = {**months, "from": "2026-03-31", "to": "2026-04-01", "g": "DAY"}
    daily = data(await gql(USAGE, days, token=gitlab))["namespace"]["usage"]["periods"]
    assert daily == [
        {"start": "2026-03-31", "quantity": 5_000, "included": None, "overage": None},
        {"start": "2026-04-01", "quantity": 2_500, "included": None, "overage": None},
    ]


async def test_a_bad_batch_is_refused_whole(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession
) -> None:
    before = await row_counts(session)
    bad = [
        event(10, 1, "2026-03-02T10:00:00Z", namespacePath="nowhere"),
        event(11, 1, "2026-03-02T10:00:00Z", metric="gpu_minutes"),
        event(12, -5, "2026-03-02T10:00:00Z"),
        event(13, 1, "2026-03-02T10:00:00Z"),
        event(13, 1, "2026-03-02T10:00:00Z"),
    ]
    refused = data(await gql(RECORD, {"events": bad}, token=token("gitlab")))["usageRecord"]
    assert refused["code"] == "INVALID_BATCH"
    assert [(p["index"], p["field"], p["code"]) for p in refused["problems"]] == [
        (0, "namespacePath", "UNKNOWN_VALUE"),
        (1, "metric", "UNKNOWN_VALUE"),
        (2, "quantity", "INVALID_VALUE"),
        (3, "eventId", "DUPLICATE_RECORD"),
        (4, "eventId", "DUPLICATE_RECORD"),
    ]
    assert await row_counts(session) == before
    customer = await gql(RECORD, {"events": EVENTS[:1]}, token=token("analyst"))
    assert error_codes(customer) == ["FORBIDDEN"]


async def test_add_ons_add_to_the_quota(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession
) -> None:
    from sqlalchemy import select

    from db.tables import Customer, Subscription

    acme = (
        await session.execute(select(Customer).where(Customer.name == "Acme Corp"))
    ).scalar_one()
    subscription = (
        await session.execute(select(Subscription).where(Subscription.seats == 25))
    ).scalar_one()
    await gql(
        ADD_ON_PURCHASE,
        {
            "input": {
                "subscriptionId": gid("Subscription", subscription.id),
                "addOn": "storage_10gb",
                "quantity": 3,
            }
        },
        token=token("customer", acme.id),
    )
    query = {"metric": "STORAGE_BYTES", "from": "2026-03-01", "to": "2026-03-31", "g": "MONTH"}
    report = data(await gql(USAGE, query, token=token("customer", acme.id)))["namespace"]["usage"]
    assert report["includedPerMonth"] == (50 + 3 * 10) * 1024**3
    assert report["periods"] == []


async def test_ranges_are_checked(gql: GraphQL, token: Callable[..., str]) -> None:
    for variables in (
        {"metric": "COMPUTE_MINUTES", "from": "2026-04-01", "to": "2026-03-01", "g": "MONTH"},
        {"metric": "COMPUTE_MINUTES", "from": "2024-01-01", "to": "2026-03-01", "g": "DAY"},
    ):
        assert error_codes(await gql(USAGE, variables, token=token("admin"))) == ["BAD_USER_INPUT"]
