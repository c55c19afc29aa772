"""A `story`: one customer's subscription for the namespace `hobby-project` over a year or
more, told through the API with the clock moved by hand and the daily job run on the days
it matters. Acme Corp (USD) buys; Premium costs 348.00 a seat a year, Ultimate 1188.00."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.tables import Customer, Invoice, InvoiceLine, Namespace, Subscription
from resolvers.jobs import DailyReport, run_daily
from tests.commerce import (
    ADD_ON_PURCHASE,
    ADD_SEATS,
    CANCEL,
    CHANGE_PLAN,
    NAMESPACE_SUBSCRIPTION,
    PURCHASE,
    RENEW,
    gid,
    result,
)
from tests.conftest import FixedClock, GraphQL
from tests.helpers import data
from tests.schema.test_seat_data import MEMBERSHIPS, REMOVE, SOURCES, USERS, member, push

NAMESPACE = "hobby-project"
GROUP = 7001  # the GitLab id of the hobby-project group
FIRST_USER = 70_000


class Story:
    def __init__(
        self,
        gql: GraphQL,
        token: Callable[..., str],
        session: AsyncSession,
        clock: FixedClock,
        customer_id: int,
    ) -> None:
        self.gql, self.session, self.clock = gql, session, clock
        self.customer = token("customer", customer_id)
        self.customer_gid = gid("Customer", customer_id)
        self.gitlab = token("gitlab")
        self.subscription_id: str | None = None
        self.member_count = 0

    def on(self, day: date) -> None:
        self.clock.current = day

    async def members(self, count: int, role: str = "developer") -> None:
        """Make exactly `count` active human developers members of the group (from today)."""
        if count > self.member_count:
            new = range(FIRST_USER + self.member_count, FIRST_USER + count)
            users = [
                {"id": i, "username": f"dev{i}", "name": f"Dev {i}", "state": "active"} for i in new
            ]
            await push(self.gql, USERS, users, self.gitlab)
            joined = f"{self.clock.current.isoformat()}T09:00:00Z"
            rows = [member(i, "GROUP", GROUP, role, createdAt=joined) for i in new]
            assert (await push(self.gql, MEMBERSHIPS, rows, self.gitlab))["changed"] == len(rows)
        elif count < self.member_count:
            gone = range(FIRST_USER + count, FIRST_USER + self.member_count)
            keys = [{"userId": i, "sourceKind": "GROUP", "sourceId": GROUP} for i in gone]
            await push(self.gql, REMOVE, keys, self.gitlab)
        self.member_count = count

    async def change(self, operation: str, **fields: Any) -> dict[str, Any]:
        request = {"subscriptionId": self.subscription_id, **fields}
        outcome = result(await self.gql(operation, {"input": request}, token=self.customer))
        expected = (
            "SubscriptionChangePreview" if fields.get("preview") else "SubscriptionChangeSuccess"
        )
        assert outcome["__typename"] == expected, outcome
        return outcome

    async def buy(self, **fields: Any) -> dict[str, Any]:
        request = {"customerId": self.customer_gid, "namespacePath": NAMESPACE, **fields}
        outcome = result(await self.gql(PURCHASE, {"input": request}, token=self.customer))
        assert outcome["__typename"] == "SubscriptionChangeSuccess", outcome
        self.subscription_id = outcome["subscription"]["id"]
        return outcome

    async def add_seats(self, seats: int) -> dict[str, Any]:
        return await self.change(ADD_SEATS, seats=seats)

    async def change_plan(self, plan: str) -> dict[str, Any]:
        return await self.change(CHANGE_PLAN, plan=plan)

    async def renew(self, seats: int, billing_period: str = "ANNUAL") -> dict[str, Any]:
        return await self.change(RENEW, seats=seats, billingPeriod=billing_period)

    async def cancel(self) -> dict[str, Any]:
        return await self.change(CANCEL)

    async def add_on(self, code: str, quantity: int) -> dict[str, Any]:
        return await self.change(ADD_ON_PURCHASE, addOn=code, quantity=quantity)

    async def run_daily(self, day: date) -> DailyReport:
        self.on(day)
        report = await run_daily(self.session, day=day)
        assert report.failed == []
        return report

    async def subscription(self) -> dict[str, Any]:
        body = await self.gql(NAMESPACE_SUBSCRIPTION, {"path": NAMESPACE}, token=self.customer)
        found: dict[str, Any] = data(body)["namespace"]["subscription"]
        return found

    async def invoices(self) -> list[tuple[str, str, list[tuple[str, int, int]]]]:
        """Every invoice of the story, oldest first: (number, issued on, lines as (kind,
        quantity, amount)); each total is checked against the sum of its lines."""
        rows = (await self.session.execute(select(Invoice).order_by(Invoice.id))).scalars()
        told = []
        for invoice in rows:
            lines = (
                await self.session.execute(
                    select(InvoiceLine)
                    .where(InvoiceLine.invoice_id == invoice.id)
                    .order_by(InvoiceLine.position)
                )
            ).scalars()
            listed = [(line.kind, line.quantity, line.amount) for line in lines]
            assert invoice.total == sum(amount for _, _, amount in listed)
            told.append((invoice.number, invoice.issued_on.isoformat(), listed))
        return told


@pytest.fixture
async def story(
    demo: None,
    gql: GraphQL,
    token: Callable[..., str],
    session: AsyncSession,
    clock: FixedClock,
) -> Story:
    # the demo's own subscriptions would renew and take invoice numbers: end them first
    await session.execute(update(Subscription).values(status="expired"))
    acme = (
        await session.execute(select(Customer).where(Customer.name == "Acme Corp"))
    ).scalar_one()
    assert acme.id is not None
    # GitLab.com links the group to Acme's account; Acme then buys for it itself
    await session.execute(
        update(Namespace).where(Namespace.path == NAMESPACE).values(customer_id=acme.id)
    )
    told = Story(gql, token, session, clock, acme.id)
    group = [{"kind": "GROUP", "id": GROUP, "fullPath": NAMESPACE, "name": "Hobby Project"}]
    await push(gql, SOURCES, group, told.gitlab)
    return told
