"""Analysts' aggregates agree with figures worked out by hand on the demo data plus a few
changes. Demo (2026-03-15): acme Premium 25 seats (USD); acme-labs Ultimate trial 5 seats;
globex Ultimate 50 seats (EUR, 2025-08-27..2026-08-27); Initech's instance Ultimate 120."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.tables import Customer, Subscription
from resolvers.jobs import run_daily
from tests.commerce import ADD_SEATS, CANCEL, PAY, gid, result
from tests.conftest import GraphQL
from tests.helpers import data, error_codes

pytestmark = pytest.mark.usefixtures("demo")

REVENUE = """query($g: RevenueGroup!) { analytics { revenue(from: "2026-03-01", to: "2026-03-31",
  groupBy: $g) { group invoices invoiced { minorUnits currency } paid { minorUnits } } } }"""
NOW = """{ analytics {
  activeSubscriptions(groupBy: PLAN) { plan subscriptions trials seats }
  seatUtilization { plan seatsPaid seatsInUse utilization } } }"""
RENEWALS = """{ analytics { renewals(from: "2026-04-01", to: "2026-12-31") {
  renewed churned trueUps { minorUnits currency } } } }"""


@pytest.fixture
async def story(demo: None, gql: GraphQL, token: Callable[..., str], session: AsyncSession) -> None:
    """Acme adds 3 seats (3 x 348.00 x 265/365 = 757.97 USD) and pays 500.00 of it; Globex
    adds 2 (2 x 1140.00 x 165/365 = 1030.68 EUR)."""
    customers = {c.name: c for c in (await session.execute(select(Customer))).scalars()}
    subscriptions = {s.seats: s for s in (await session.execute(select(Subscription))).scalars()}
    for customer, seats, added in (("Acme Corp", 25, 3), ("Globex GmbH", 50, 2)):
        outcome = result(
            await gql(
                ADD_SEATS,
                {
                    "input": {
                        "subscriptionId": gid("Subscription", subscriptions[seats].id),
                        "seats": added,
                    }
                },
                token=token("customer", customers[customer].id),
            )
        )
        if customer == "Acme Corp":
            payment = {
                "invoiceId": outcome["invoice"]["id"],
                "reference": "r",
                "amount": {"minorUnits": 50_000, "currency": "USD"},
            }
            await gql(PAY, {"input": payment}, token=token("admin"))


@pytest.mark.usefixtures("story")
@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("CURRENCY", [("EUR", 1, 103_068, "EUR", 0), ("USD", 1, 75_797, "USD", 50_000)]),
        ("MONTH", [("2026-03", 1, 103_068, "EUR", 0), ("2026-03", 1, 75_797, "USD", 50_000)]),
        ("PLAN", [("premium", 1, 75_797, "USD", 50_000), ("ultimate", 1, 103_068, "EUR", 0)]),
    ],
)
async def test_revenue_by_currency_month_and_plan(
    gql: GraphQL, token: Callable[..., str], group: str, expected: list[Any]
) -> None:
    rows = data(await gql(REVENUE, {"g": group}, token=token("analyst")))["analytics"]["revenue"]
    assert [
        (
            r["group"],
            r["invoices"],
            r["invoiced"]["minorUnits"],
            r["invoiced"]["currency"],
            r["paid"]["minorUnits"],
        )
        for r in rows
    ] == expected


@pytest.mark.usefixtures("story")
async def test_subscriptions_and_seat_utilization_now(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    now = data(await gql(NOW, token=token("analyst")))["analytics"]
    assert now["activeSubscriptions"] == [
        {"plan": "free", "subscriptions": 0, "trials": 0, "seats": 0},
        {"plan": "premium", "subscriptions": 1, "trials": 0, "seats": 28},
        {"plan": "ultimate", "subscriptions": 3, "trials": 1, "seats": 177},
    ]
    # in use: acme 0, acme-labs 0, globex 1 (ada; ben is a guest, free on Ultimate); the
    # instance never reported, so its 120 seats are left out of both figures
    assert now["seatUtilization"] == [
        {"plan": "free", "seatsPaid": 0, "seatsInUse": 0, "utilization": None},
        {"plan": "premium", "seatsPaid": 28, "seatsInUse": 0, "utilization": "0.0000"},
        {"plan": "ultimate", "seatsPaid": 57, "seatsInUse": 1, "utilization": "0.0175"},
    ]


async def test_renewals_and_churn(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession
) -> None:
    # Acme cancels; from April to December: the acme-labs trial runs out on 2026-04-04 (not
    # churn), globex renews itself on 2026-08-27 (1 renewal), Acme's term ends on 2026-12-05
    # (1 churned); nobody used more seats than paid (no true-up)
    customers = {c.name: c for c in (await session.execute(select(Customer))).scalars()}
    acme = (
        await session.execute(select(Subscription).where(Subscription.seats == 25))
    ).scalar_one()
    cancelled = result(
        await gql(
            CANCEL,
            {"input": {"subscriptionId": gid("Subscription", acme.id)}},
            token=token("customer", customers["Acme Corp"].id),
        )
    )
    assert cancelled["__typename"] == "SubscriptionChangeSuccess"
    await run_daily(session, day=date(2026, 12, 31))
    summary = data(await gql(RENEWALS, token=token("analyst")))["analytics"]["renewals"]
    assert summary == {"renewed": 1, "churned": 1, "trueUps": []}


async def test_analytics_are_for_analysts_and_admins(
    gql: GraphQL, token: Callable[..., str]
) -> None:
    assert error_codes(await gql(NOW, token=token("gitlab"))) == ["FORBIDDEN"]
    assert error_codes(await gql(NOW)) == ["UNAUTHENTICATED"]
    assert "errors" not in await gql(NOW, token=token("admin"))
