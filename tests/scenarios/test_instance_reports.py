"""Initech's self-managed instance reports its own counts. A count belongs to the day it was
taken and the term containing that day: reports from before the term or from a day to come
are refused; of several reports on a day the highest is the day's peak and the latest by
`reportedAt` the current count, whatever order they arrive in; each answer says whether the
report changed anything. Premium costs 348.00 a seat a year."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.licenses import LicenseKeys
from db.tables import Customer, Instance, Invoice, InvoiceLine, Subscription
from resolvers.jobs import run_daily
from tests.commerce import CHANGE_PLAN, PURCHASE, gid, result
from tests.conftest import FixedClock, GraphQL
from tests.helpers import data, row_counts

pytestmark = pytest.mark.usefixtures("demo")

UPLOAD = """mutation($input: UsageReportUploadInput!) { usageReportUpload(input: $input) {
  __typename
  ... on LicenseSyncSuccess { seats seatsInUse maxSeatsUsed reportChanged }
  ... on UserError { code field message } } }"""
REPORTS = """query($id: ID!) { instance(id: $id) { seatsInUse
  syncReports(first: 10) { edges { node { day billableUsers peak reportedAt } } } } }"""


class Initech:
    """Initech's instance, its customer and the billing team, with the clock in hand."""

    def __init__(
        self, gql: GraphQL, session: AsyncSession, clock: FixedClock, admin: str, customer: str
    ) -> None:
        self.gql, self.session, self.clock = gql, session, clock
        self.admin, self.customer = admin, customer
        self.customer_gid = self.instance_gid = self.subscription_id = ""

    async def buy(self, seats: int, **fields: Any) -> dict[str, Any]:
        """The customer buys Premium seats for the offline instance (the clock's day)."""
        request = {
            "customerId": self.customer_gid,
            "instanceId": self.instance_gid,
            "plan": "premium",
            "seats": seats,
            "licenseType": "OFFLINE",
            **fields,
        }
        bought = result(await self.gql(PURCHASE, {"input": request}, token=self.customer))
        assert bought["__typename"] == "SubscriptionChangeSuccess", bought
        self.subscription_id = bought["subscription"]["id"]
        return bought

    async def report(self, users: int, taken: str) -> dict[str, Any]:
        """The billing team enters a count the instance took at `taken` (UTC)."""
        entered = {
            "subscriptionId": self.subscription_id,
            "billableUsers": users,
            "maxHistoricalUsers": users,
            "reportedAt": taken,
        }
        return result(await self.gql(UPLOAD, {"input": entered}, token=self.admin))


@pytest.fixture
async def initech(
    gql: GraphQL, token: Callable[..., str], session: AsyncSession, clock: FixedClock
) -> Initech:
    # the demo's own subscriptions would take invoice numbers: end them first
    await session.execute(update(Subscription).values(status="expired"))
    await session.commit()
    customer = (
        await session.execute(select(Customer).where(Customer.name == "Initech"))
    ).scalar_one()
    instance = (await session.execute(select(Instance))).scalar_one()
    assert customer.id is not None
    assert instance.id is not None
    told = Initech(gql, session, clock, token("admin"), token("customer", customer.id))
    told.customer_gid = gid("Customer", customer.id)
    told.instance_gid = gid("Instance", instance.id)
    return told


async def _invoices(session: AsyncSession) -> list[tuple[str, str, list[tuple[str, int, int]]]]:
    told = []
    for invoice in (await session.execute(select(Invoice).order_by(Invoice.id))).scalars():
        lines = (
            await session.execute(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == invoice.id)
                .order_by(InvoiceLine.position)
            )
        ).scalars()
        listed = [(line.kind, line.quantity, line.amount) for line in lines]
        assert invoice.total == sum(amount for _, _, amount in listed)
        told.append((invoice.number, invoice.issued_on.isoformat(), listed))
    return told


async def test_reports_count_on_their_own_day_in_their_own_term(
    initech: Initech, license_key: Path
) -> None:
    story = initech
    # 2026-12-01: Initech buys 20 Premium seats for its offline instance, for the term
    # 2027-01-01..2028-01-01 with quarterly reconciliation: 20 x 348.00 = 6960.00
    story.clock.current = date(2026, 12, 1)
    await story.buy(20, startDate="2027-01-01", quarterlyReconciliation=True)

    # 2027-01-05: a count of 30 taken on 2026-12-28, before the term, arrives late: refused,
    # nothing is written (it once became the current figure and was billed)
    story.clock.current = date(2027, 1, 5)
    before = await row_counts(story.session)
    refused = await story.report(30, "2026-12-28T10:00:00Z")
    assert (refused["code"], refused["field"]) == ("REPORT_BEFORE_TERM", "reportedAt")
    assert "2026-12-28" in refused["message"]
    assert await row_counts(story.session) == before

    # 2027-02-10: three reports of the day, arriving out of order. 25 users at 09:00 ...
    story.clock.current = date(2027, 2, 10)
    first = await story.report(25, "2027-02-10T09:00:00Z")
    assert (first["seatsInUse"], first["maxSeatsUsed"], first["reportChanged"]) == (25, 25, True)
    # ... 22 at 17:00: the current count, the day's peak stays 25
    latest = await story.report(22, "2027-02-10T17:00:00Z")
    assert (latest["seatsInUse"], latest["maxSeatsUsed"], latest["reportChanged"]) == (
        22,
        25,
        True,
    )
    # ... 24 at 12:00 arrives last: older than the current count and below the peak
    late = await story.report(24, "2027-02-10T12:00:00Z")
    assert (late["seatsInUse"], late["maxSeatsUsed"], late["reportChanged"]) == (22, 25, False)
    # the 09:00 report sent again changes nothing
    again = await story.report(25, "2027-02-10T09:00:00Z")
    assert again["reportChanged"] is False
    # a report of the day before arriving now files under 2027-02-09; the current count stays
    yesterday = await story.report(24, "2027-02-09T16:00:00Z")
    assert (yesterday["seatsInUse"], yesterday["reportChanged"]) == (22, True)
    # a count taken tomorrow is refused
    before = await row_counts(story.session)
    ahead = await story.report(23, "2027-02-11T08:00:00Z")
    assert (ahead["code"], ahead["field"]) == ("REPORT_IN_FUTURE", "reportedAt")
    assert await row_counts(story.session) == before

    body = await story.gql(REPORTS, {"id": story.instance_gid}, token=story.customer)
    shown = data(body)["instance"]
    assert shown["seatsInUse"] == 22
    days = sorted(
        (edge["node"]["day"], edge["node"]["billableUsers"], edge["node"]["peak"])
        for edge in shown["syncReports"]["edges"]
    )
    assert days == [("2027-02-09", 24, 24), ("2027-02-10", 22, 25)]

    # 2027-04-01, end of quarter 1: the quarter's peak is 25, 5 above the 20 paid:
    # 5 x 348.00 / 4 x 3 = 1305.00 (not 10 seats over from the pre-term 30: 2610.00)
    keys = LicenseKeys.load(license_key, [])
    reconciled = await run_daily(story.session, day=date(2027, 4, 1), sign=keys.signer)
    assert reconciled.failed == []
    assert any("quarter 1 reconciled, 5 seats over" in line for line in reconciled.done)

    assert await _invoices(story.session) == [
        ("INV-2026-000001", "2026-12-01", [("purchase", 20, 696000)]),
        ("INV-2027-000001", "2027-04-01", [("reconciliation", 5, 130500)]),
    ]


async def test_an_instance_upgrade_settles_the_reported_overage_before_it(
    initech: Initech,
) -> None:
    story = initech
    # 2027-01-01: 20 Premium seats for the instance, 2027-01-01..2028-01-01 (365 days), with
    # the annual true-up: 20 x 348.00 = 6960.00
    story.clock.current = date(2027, 1, 1)
    await story.buy(20)
    # 2027-02-10: the instance counts 25 users, 5 above the seats
    story.clock.current = date(2027, 2, 10)
    await story.report(25, "2027-02-10T09:00:00Z")

    # 2027-03-01: upgrade to Ultimate, 59 days used on Premium and 306 left.
    # Premium overage 5 x 348.00 x 59/365 = 281.2603 -> 281.26;
    # credit -(20 x 348.00 x 306/365) = -5834.96; charge 20 x 1188.00 x 306/365 = 19919.34
    story.clock.current = date(2027, 3, 1)
    changed = {"subscriptionId": story.subscription_id, "plan": "ultimate"}
    upgraded = result(await story.gql(CHANGE_PLAN, {"input": changed}, token=story.customer))
    assert upgraded["__typename"] == "SubscriptionChangeSuccess", upgraded
    # an instance counts its own users, whatever the plan: the peak restarts at the 25 it
    # last reported, now owed at the Ultimate price at the true-up
    assert (upgraded["subscription"]["seatsInUse"], upgraded["subscription"]["maxSeatsUsed"]) == (
        25,
        25,
    )
    assert await _invoices(story.session) == [
        ("INV-2027-000001", "2027-01-01", [("purchase", 20, 696000)]),
        (
            "INV-2027-000002",
            "2027-03-01",
            [
                ("true_up", 5, 28126),
                ("plan_change_credit", 20, -583496),
                ("plan_change_charge", 20, 1991934),
            ],
        ),
    ]
